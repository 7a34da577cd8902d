import { describe, expect, test } from 'vitest';
import { Allocation, Channel, type ClientTuple } from '../turn/allocation';
import { desiredEntries, MAIN_LISTENER } from './entries';

const AT = { listenIp: '198.51.100.1', listenPort: 3478, relayIp: '198.51.100.2' };
const NOW = 1_000_000;
const udp: ClientTuple = { transport: 'udp', listener: MAIN_LISTENER, conn: 0, family: 4, address: '203.0.113.5', port: 40000 };
const all = () => true;

function allocation(tuple: ClientTuple = udp): Allocation {
  return new Allocation(1, tuple, 'u', new Uint8Array(16), { family: 4, address: '198.51.100.2', port: 50000 }, NOW + 600_000, new Uint8Array(0));
}

function bind(a: Allocation, number: number, ip: string, port: number, chExp: number, permExp: number | undefined): void {
  a.bindChannel(new Channel(number, ip, port, chExp, a));
  if (permExp !== undefined) a.installPermission(ip, permExp);
}

describe('desiredEntries', () => {
  test('a bound channel with a live permission: one entry, the nine fields in the helper order, the earliest expiry', () => {
    const a = allocation();
    bind(a, 0x4000, '203.0.113.9', 6000, NOW + 600_000, NOW + 300_000);
    expect(desiredEntries(a, AT, all, NOW)).toEqual([
      { key: '203.0.113.5 40000 198.51.100.1 3478 16384 198.51.100.2 50000 203.0.113.9 6000', expiresAt: NOW + 300_000 },
    ]);
  });

  test('no entry without a live permission, for an expired channel, or for a peer the policy denies', () => {
    const a = allocation();
    bind(a, 0x4000, '203.0.113.9', 6000, NOW + 600_000, undefined);
    bind(a, 0x4001, '203.0.113.10', 6000, NOW + 600_000, NOW);
    bind(a, 0x4002, '203.0.113.11', 6000, NOW, NOW + 300_000);
    bind(a, 0x4003, '203.0.113.12', 6000, NOW + 600_000, NOW + 300_000);
    expect(desiredEntries(a, AT, (ip) => ip !== '203.0.113.12', NOW)).toEqual([]);
    expect(desiredEntries(a, AT, all, NOW).map((e) => e.key.split(' ')[4])).toEqual(['16387']);
  });

  test('TCP clients, other listeners, IPv6 and ended allocations stay in userspace', () => {
    for (const t of [{ ...udp, transport: 'tcp' as const }, { ...udp, listener: 1 }, { ...udp, family: 6 as const, address: '2001:db8::1' }]) {
      const a = allocation(t);
      bind(a, 0x4000, '203.0.113.9', 6000, NOW + 600_000, NOW + 300_000);
      expect(desiredEntries(a, AT, all, NOW)).toEqual([]);
    }
    const a = allocation();
    bind(a, 0x4000, '2001:db8::9', 6000, NOW + 600_000, NOW + 300_000);
    expect(desiredEntries(a, AT, all, NOW)).toEqual([]);
    const ended = allocation();
    ended.expiresAt = NOW;
    bind(ended, 0x4000, '203.0.113.9', 6000, NOW + 600_000, NOW + 300_000);
    expect(desiredEntries(ended, AT, all, NOW)).toEqual([]);
  });
});
