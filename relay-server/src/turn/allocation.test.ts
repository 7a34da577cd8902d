import { describe, expect, it } from 'vitest';
import { Allocation, Channel, type ClientTuple } from './allocation';

const tuple: ClientTuple = { transport: 'udp', listener: 0, conn: 0, family: 4, address: '192.0.2.1', port: 5000 };
const NOW = 1_000_000;

function allocation(): Allocation {
  // A 20-byte STUN header whose transaction id (bytes 8-20) is 1..12, then 4 bytes of body.
  const answer = new Uint8Array(24);
  for (let i = 0; i < 12; i++) answer[8 + i] = i + 1;
  const key = new Uint8Array(16).fill(7);
  return new Allocation(1, tuple, 'u', key, { family: 4, address: '198.51.100.2', port: 50000 }, NOW + 600_000, answer);
}

describe('Allocation (first permission and channel inline, the rest in Maps)', () => {
  it('keeps the key and the Allocate answer, and knows its transaction id', () => {
    const a = allocation();
    expect([...a.key]).toEqual(new Array(16).fill(7));
    expect(a.createdResponse.length).toBe(24);
    expect(a.createdBy(Uint8Array.from({ length: 12 }, (_, i) => i + 1))).toBe(true);
    expect(a.createdBy(Uint8Array.from({ length: 12 }, (_, i) => i + 2))).toBe(false);
  });

  it('permissions: the first, more, refresh, expiry', () => {
    const a = allocation();
    a.installPermission('203.0.113.1', NOW + 100);
    a.installPermission('203.0.113.2', NOW + 200);
    a.installPermission('203.0.113.3', NOW + 300);
    a.installPermission('203.0.113.1', NOW + 400); // refresh, not a fourth
    expect(a.permissionCount).toBe(3);
    expect(a.permission('203.0.113.1')).toBe(NOW + 400);
    expect(a.hasPermission('203.0.113.2', NOW + 199)).toBe(true);
    expect(a.hasPermission('203.0.113.2', NOW + 200)).toBe(false);
    a.expire(NOW + 250);
    expect(a.permissionCount).toBe(2);
    expect(a.permission('203.0.113.2')).toBeUndefined();
    a.expire(NOW + 400);
    expect(a.permissionCount).toBe(0);
    a.installPermission('203.0.113.9', NOW + 500);
    expect(a.permission('203.0.113.9')).toBe(NOW + 500);
    expect(a.permissionCount).toBe(1);
  });

  it('channels: found by number and by peer (equal ports chained), unbound, expired', () => {
    const a = allocation();
    const c1 = new Channel(0x4000, '203.0.113.1', 6000, NOW + 100, a);
    const c2 = new Channel(0x4001, '203.0.113.2', 6000, NOW + 200, a);
    const c3 = new Channel(0x4002, '203.0.113.3', 6000, NOW + 300, a);
    for (const c of [c1, c2, c3]) a.bindChannel(c);
    expect(a.channelCount).toBe(3);
    expect([a.channel(0x4000), a.channel(0x4001), a.channel(0x4002), a.channel(0x4003)]).toEqual([c1, c2, c3, undefined]);
    expect([a.channelByPeer('203.0.113.1', 6000), a.channelByPeer('203.0.113.2', 6000), a.channelByPeer('203.0.113.3', 6000)]).toEqual([c1, c2, c3]);
    expect(a.channelByPeer('203.0.113.2', 6001)).toBeUndefined();
    a.unbindChannel(c2);
    expect(a.channelByPeer('203.0.113.2', 6000)).toBeUndefined();
    expect(a.channelByPeer('203.0.113.3', 6000)).toBe(c3);
    expect([...a.channels()]).toEqual([c1, c3]);
    a.expire(NOW + 100);
    expect([...a.channels()]).toEqual([c3]);
    expect(a.channel(0x4000)).toBeUndefined();
    const c4 = new Channel(0x4003, '203.0.113.4', 6000, NOW + 400, a);
    a.bindChannel(c4);
    expect([a.channelByPeer('203.0.113.4', 6000), a.channelByPeer('203.0.113.3', 6000)]).toEqual([c4, c3]);
    a.expire(NOW + 400);
    expect(a.channelCount).toBe(0);
    expect(a.channelByPeer('203.0.113.3', 6000)).toBeUndefined();
  });
});
