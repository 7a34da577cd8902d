/**
 * All live allocations, found by the client 5-tuple: for UDP by (listener,
 * client port, client IP), for TCP/TLS by connection id. Counts per
 * credential (credentials.ts credentialKey: a refreshed username shares its
 * id's count) and per client source (../source-key.ts) for the quotas.
 * Lookups on the hot path compare a number key then one string.
 */
import { sourceKey } from '../source-key';
import type { Allocation, ClientTuple } from './allocation';
import { credentialKey } from './credentials';

export class AllocationTable<IO = unknown> {
  private readonly udp: Array<Map<number, Allocation<IO>>> = [];
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

  findUdp(listener: number, address: string, port: number): Allocation<IO> | undefined {
    const m = this.udp[listener];
    if (m === undefined) return undefined;
    let a = m.get(port);
    while (a !== undefined && a.tuple.address !== address) a = a.nextSamePort;
    return a;
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
      let m = this.udp[t.listener];
      if (!m) m = this.udp[t.listener] = new Map();
      a.nextSamePort = m.get(t.port);
      m.set(t.port, a);
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
      const m = this.udp[t.listener];
      let c = m?.get(t.port);
      if (c === a) {
        if (a.nextSamePort) m!.set(t.port, a.nextSamePort);
        else m!.delete(t.port);
        removed = true;
      } else {
        while (c && c.nextSamePort !== a) c = c.nextSamePort;
        if (c) {
          c.nextSamePort = a.nextSamePort;
          removed = true;
        }
      }
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
    for (const m of this.udp) if (m) for (let a of m.values()) for (; a; a = a.nextSamePort!) yield a;
    yield* this.stream.values();
  }
}

/** Add `d` to `m[k]`; a count that reaches 0 is removed (the maps hold live keys only). */
export function bump(m: Map<string, number>, k: string, d: number): void {
  const n = (m.get(k) ?? 0) + d;
  if (n > 0) m.set(k, n);
  else m.delete(k);
}
