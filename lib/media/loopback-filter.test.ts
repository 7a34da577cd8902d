import { expect, test } from 'vitest';
import { isLoopbackAddress, passesLoopbackFilter } from './loopback-filter';

const line = (addr: string) => ({ candidate: `candidate:1 1 udp 2113937151 ${addr} 40000 typ host generation 0`, sdpMid: '0' });

test('isLoopbackAddress', () => {
  expect(['127.0.0.1', '127.1.2.3', '::1'].every(isLoopbackAddress)).toBe(true);
  expect(['192.0.2.2', 'fd00::2', '10.0.0.1', '::', '437c75a3-418b-4490-8e1e-63a190510914.local'].some(isLoopbackAddress)).toBe(false);
});

test('passesLoopbackFilter keeps loopback candidates and the end marker, drops the rest', () => {
  expect(passesLoopbackFilter(line('127.0.0.1'))).toBe(true);
  expect(passesLoopbackFilter(line('::1'))).toBe(true);
  expect(passesLoopbackFilter(line('192.0.2.2'))).toBe(false);
  expect(passesLoopbackFilter(line('3d0d950b-f2c1-4ac9-b3ee-0fca9eeba2ce.local'))).toBe(false);
  expect(passesLoopbackFilter({ candidate: 'garbage' })).toBe(false);
  expect(passesLoopbackFilter(null)).toBe(true);
  expect(passesLoopbackFilter({ candidate: '' })).toBe(true);
});
