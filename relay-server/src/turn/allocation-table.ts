/**
 * All live allocations, found by the client 5-tuple: for UDP by (listener,
 * client port, client IP), for TCP/TLS by connection id. Counts per
 * credential (credentials.ts credentialKey: a refreshed username shares its
 * id's count) and per client source (../source-key.ts) for the quotas.
 * Lookups on the hot path compare a number key then one string.
 *
 * UDP index: per listener, client port -> the allocation with that port or,
 * once several clients share the port (from different addresses), a Map by
 * client address. A chain walked with string compares was O(n) per datagram
 * when n clients share a port (issue 16: the bench's 200-6 000 clients all
 * use one port; a crowd behind several NATs, or an attacker with many source
 * addresses, can do the same); the Map keeps it one hash, and costs nothing
 * for the usual port that one client holds. One allocation per 5-tuple: the
 * core answers 437 before adding a second (RFC 8656 §7.2).
 */
import { sourceKey } from '../source-key';
import type { Allocation, ClientTuple } from './allocation';
import { credentialKey } from './credentials';

/** The allocations of one UDP listener whose clients use one port: one, or several by client address. */
type SamePort<IO> = Allocation<IO> | Map<string, Allocation<IO>>;

export class AllocationTable<IO = unknown> {
  private readonly udp = new Map<number, Map<number, SamePort<IO>>>();
  private readonly stream = new Map<number, Allocation<IO>>();
  private readonly perUser = new Map<string, number>();
  private readonly perSource = new Map<string, number>();
  private count = 0;
  /** Allocations and EVEN-PORT reservations other TURN threads hold (countElsewhere): in the total quota, not in `size`. */
  private elsewhere = 0;

  /** `sourcePrefix6`: IPv6 client addresses are counted by this prefix (as every per-source limit). */
  constructor(private readonly sourcePrefix6 = 64) {}

  get size(): number {
    return this.count;
  }

  /** This table's allocations plus what other TURN threads hold (countElsewhere): what the total quota counts. */
  get relayTotal(): number {
    return this.count + this.elsewhere;
  }

  /** Allocations made with the credential of `username` (any expiry of its id). */
  userCount(username: string): number {
    return this.perUser.get(credentialKey(username)) ?? 0;
  }

  /** Allocations whose client is at `source` (a sourceKey). */
  sourceCount(source: string): number {
    return this.perSource.get(source) ?? 0;
  }

  /** UDP listener indexes that hold an allocation (a test's view: none stays behind empty). */
  get udpListeners(): number {
    return this.udp.size;
  }

  findUdp(listener: number, address: string, port: number): Allocation<IO> | undefined {
    const m = this.udp.get(listener);
    if (m === undefined) return undefined;
    const v = m.get(port);
    if (v === undefined) return undefined;
    if (v instanceof Map) return v.get(address);
    return v.tuple.address === address ? v : undefined;
  }

  findStream(conn: number): Allocation<IO> | undefined {
    return this.stream.get(conn);
  }

  find(t: ClientTuple): Allocation<IO> | undefined {
    return t.transport === 'udp' ? this.findUdp(t.listener, t.address, t.port) : this.findStream(t.conn);
  }

  add(a: Allocation<IO>): void {
    const t = a.tuple;
    if (t.transport === 'udp') {
      let m = this.udp.get(t.listener);
      if (!m) this.udp.set(t.listener, (m = new Map()));
      const v = m.get(t.port);
      if (v === undefined) m.set(t.port, a);
      else if (v instanceof Map) v.set(t.address, a);
      else
        m.set(
          t.port,
          new Map([
            [v.tuple.address, v],
            [t.address, a],
          ]),
        );
    } else {
      this.stream.set(t.conn, a);
    }
    bump(this.perUser, credentialKey(a.username), 1);
    bump(this.perSource, sourceKey(t.address, this.sourcePrefix6), 1);
    this.count++;
  }

  remove(a: Allocation<IO>): boolean {
    const t = a.tuple;
    let removed = false;
    if (t.transport === 'udp') {
      const m = this.udp.get(t.listener);
      const v = m?.get(t.port);
      if (v === a) {
        m!.delete(t.port);
        removed = true;
      } else if (v instanceof Map && v.get(t.address) === a) {
        v.delete(t.address);
        // Back to a lone allocation when one client is left on the port.
        if (v.size === 1) m!.set(t.port, v.values().next().value!);
        removed = true;
      }
      // A TURN thread gives each adopted allocation a listener index of its own, never reused: an
      // empty index must not stay behind (one Map per allocation ever made, a thread's lifetime long).
      if (removed && m!.size === 0) this.udp.delete(t.listener);
    } else if (this.stream.get(t.conn) === a) {
      this.stream.delete(t.conn);
      removed = true;
    }
    if (removed) {
      bump(this.perUser, credentialKey(a.username), -1);
      bump(this.perSource, sourceKey(t.address, this.sourcePrefix6), -1);
      this.count--;
    }
    return removed;
  }

  /**
   * An allocation (or EVEN-PORT reservation) of `username` from client `address` that
   * another TURN thread holds (net/turn-threads.ts) was made (+1) or released (-1):
   * counted against the same per-credential, per-source and total quotas as this
   * table's own (relayTotal), not in `size`.
   */
  countElsewhere(username: string, address: string, d: 1 | -1): void {
    this.elsewhere = Math.max(0, this.elsewhere + d);
    bump(this.perUser, credentialKey(username), d);
    bump(this.perSource, sourceKey(address, this.sourcePrefix6), d);
  }

  *all(): IterableIterator<Allocation<IO>> {
    for (const m of this.udp.values()) {
      for (const v of m.values()) {
        if (v instanceof Map) yield* v.values();
        else yield v;
      }
    }
    yield* this.stream.values();
  }
}

/** Add `d` to `m[k]`; a count that reaches 0 is removed (the maps hold live keys only). */
export function bump(m: Map<string, number>, k: string, d: number): void {
  const n = (m.get(k) ?? 0) + d;
  if (n > 0) m.set(k, n);
  else m.delete(k);
}
