import { describe, expect, test } from 'vitest';
import { refusal, type OffloadRequest } from './start-offload';

const ok: OffloadRequest = { enabled: true, listenIp: '127.0.0.1', listenPort: 3478, relayIp: '127.0.0.1', threads: 1, mode: 'auto' };

describe('refusal: why --offload stays in userspace', () => {
  test('names what is missing', () => {
    expect(refusal(ok, 'darwin')).toMatch(/XDP needs Linux \(this is darwin\)/);
    expect(refusal({ ...ok, listenIp: '0.0.0.0' }, 'linux')).toMatch(/concrete IPv4 --listen/);
    expect(refusal({ ...ok, listenIp: '::1' }, 'linux')).toMatch(/concrete IPv4 --listen/);
    expect(refusal({ ...ok, relayIp: '::' }, 'linux')).toMatch(/concrete IPv4 relay address/);
    expect(refusal({ ...ok, threads: 4 }, 'linux')).toMatch(/--threads 1/);
    expect(refusal({ ...ok, listenIp: '192.0.2.254', relayIp: '192.0.2.254' }, 'linux')).toMatch(/no interface holds/);
  });
});
