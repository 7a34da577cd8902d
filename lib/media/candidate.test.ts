import { describe, expect, test } from 'vitest';
import { isLoopbackAddress, parseCandidate } from './candidate';

describe('parseCandidate', () => {
  test('Chromium host, relay and TCP candidate lines (as gathered in the loopback E2E / fixtures)', () => {
    expect(parseCandidate('candidate:3530283940 1 udp 2113937151 192.0.2.2 39760 typ host generation 0 ufrag CYur network-cost 999')).toEqual({
      protocol: 'udp', address: '192.0.2.2', port: 39760, type: 'host',
    });
    expect(parseCandidate('candidate:345097094 1 udp 50339839 127.0.0.1 49207 typ relay raddr 0.0.0.0 rport 0 generation 0 ufrag 4fZo')).toEqual({
      protocol: 'udp', address: '127.0.0.1', port: 49207, type: 'relay',
    });
    expect(parseCandidate('a=candidate:1 1 TCP 1518280447 ::1 9 typ host tcptype active')).toMatchObject({ protocol: 'tcp', address: '::1', type: 'host' });
  });
  test('mDNS names parse as addresses (they are not loopback)', () => {
    const c = parseCandidate('candidate:2638849189 1 udp 2113937151 437c75a3-418b-4490-8e1e-63a190510914.local 47186 typ host generation 0');
    expect(c?.address).toMatch(/\.local$/);
    expect(isLoopbackAddress(c!.address)).toBe(false);
  });
  test('garbage and the end-of-candidates empty line: undefined', () => {
    expect(parseCandidate('')).toBeUndefined();
    expect(parseCandidate('candidate:1 1 udp 1 1.2.3.4 notaport typ host')).toBeUndefined();
    expect(parseCandidate('candidate:1 1 udp 1 1.2.3.4 5 kind host')).toBeUndefined();
  });
});

test('isLoopbackAddress', () => {
  expect(['127.0.0.1', '127.1.2.3', '::1'].every(isLoopbackAddress)).toBe(true);
  expect(['192.0.2.2', 'fd00::2', '10.0.0.1', '::'].some(isLoopbackAddress)).toBe(false);
});
