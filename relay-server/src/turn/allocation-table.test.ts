import { describe, expect, test } from 'vitest';
import { Allocation, type ClientTuple } from './allocation';
import { AllocationTable } from './allocation-table';

let nextId = 1;
function udpAllocation(address: string, port: number, listener = 0): Allocation {
  const tuple: ClientTuple = { transport: 'udp', listener, conn: 0, family: 4, address, port };
  return new Allocation(nextId++, tuple, `1900000000:user${nextId}`, new Uint8Array(16), { family: 4, address: '203.0.113.1', port: 50000 + nextId }, 600_000, new Uint8Array(20));
}

describe('AllocationTable UDP index', () => {
  test('clients sharing one port from different addresses are each found, and removed one by one', () => {
    const t = new AllocationTable();
    // As the relay bench's load client does: every client on one port, each its own address.
    const all = Array.from({ length: 50 }, (_, i) => udpAllocation(`127.20.0.${i + 1}`, 20000));
    for (const a of all) t.add(a);
    expect(t.size).toBe(50);
    for (const a of all) expect(t.findUdp(0, a.tuple.address, 20000)).toBe(a);
    expect(t.findUdp(0, '127.20.0.99', 20000)).toBeUndefined();
    expect(t.findUdp(0, '127.20.0.1', 20001)).toBeUndefined();
    expect(t.findUdp(1, '127.20.0.1', 20000)).toBeUndefined();
    expect(new Set(t.all())).toEqual(new Set(all));

    // Down to one client on the port, then none; the others stay found throughout.
    for (let i = 0; i < 49; i++) {
      expect(t.remove(all[i]!)).toBe(true);
      expect(t.remove(all[i]!)).toBe(false);
      expect(t.findUdp(0, all[i]!.tuple.address, 20000)).toBeUndefined();
      for (const a of all.slice(i + 1)) expect(t.findUdp(0, a.tuple.address, 20000)).toBe(a);
    }
    expect([...t.all()]).toEqual([all[49]]);
    expect(t.remove(all[49]!)).toBe(true);
    expect(t.size).toBe(0);
    expect([...t.all()]).toEqual([]);
    expect(t.sourceCount('127.20.0.50')).toBe(0);
  });

  test('one client with several ports, and a port shared again after it emptied', () => {
    const t = new AllocationTable();
    const a = udpAllocation('198.51.100.7', 40000);
    const b = udpAllocation('198.51.100.7', 40001);
    const c = udpAllocation('198.51.100.8', 40000);
    for (const x of [a, b, c]) t.add(x);
    expect(t.findUdp(0, '198.51.100.7', 40000)).toBe(a);
    expect(t.findUdp(0, '198.51.100.7', 40001)).toBe(b);
    expect(t.findUdp(0, '198.51.100.8', 40000)).toBe(c);
    expect(t.sourceCount('198.51.100.7')).toBe(2);
    expect(t.remove(c)).toBe(true);
    expect(t.findUdp(0, '198.51.100.7', 40000)).toBe(a);
    expect(t.remove(a)).toBe(true);
    const d = udpAllocation('198.51.100.9', 40000);
    t.add(d);
    expect(t.findUdp(0, '198.51.100.9', 40000)).toBe(d);
    expect(t.findUdp(0, '198.51.100.7', 40000)).toBeUndefined();
    expect(new Set(t.all())).toEqual(new Set([b, d]));
  });

  test("a TURN thread's listener per adopted allocation: none is left behind once its allocation ends", () => {
    const t = new AllocationTable();
    const adopted = Array.from({ length: 100 }, (_, i) => udpAllocation('198.51.100.7', 40000 + i, 1000 + i));
    for (const a of adopted) t.add(a);
    expect(t.udpListeners).toBe(100);
    for (const a of adopted) expect(t.findUdp(a.tuple.listener, '198.51.100.7', a.tuple.port)).toBe(a);
    for (const a of adopted) t.remove(a);
    expect(t.udpListeners).toBe(0);
    expect(t.findUdp(1000, '198.51.100.7', 40000)).toBeUndefined();
  });
});
