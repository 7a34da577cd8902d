/** The standby's servers (standby.ts standbyIceServers): one TURN transport, UDP, so one allocation per side. */
import { describe, expect, test } from 'vitest';
import { standbyIceServers } from './standby';

const creds = { username: '1700000000:abc', credential: 'x' };

describe('standbyIceServers', () => {
  test('keeps TURN over UDP, drops STUN, TURN over TCP and TLS', () => {
    const servers: RTCIceServer[] = [
      { urls: ['stun:203.0.113.1:3478', 'stun:203.0.113.1:3479'] },
      { urls: ['turn:203.0.113.1:3478?transport=udp', 'turn:203.0.113.1:3478?transport=tcp', 'turns:relay.example:443?transport=tcp'], ...creds },
    ];
    expect(standbyIceServers(servers)).toEqual([{ urls: ['turn:203.0.113.1:3478?transport=udp'], ...creds }]);
  });

  test('a plain turn: URL (UDP by default, RFC 7065) is kept', () => {
    expect(standbyIceServers([{ urls: 'turn:203.0.113.1:3478', ...creds }])).toEqual([{ urls: ['turn:203.0.113.1:3478'], ...creds }]);
  });

  test('no UDP TURN at all: the list as it is (the standby may then fail and be retried later)', () => {
    const servers: RTCIceServer[] = [{ urls: ['turn:203.0.113.1:3478?transport=tcp'], ...creds }];
    expect(standbyIceServers(servers)).toBe(servers);
    expect(standbyIceServers(undefined)).toEqual([]);
  });
});
