/**
 * The kernel fast path seen from the relay: watches the TURN core's
 * allocations (TurnCore.watcher) and keeps the XDP program's maps equal to
 * desiredEntries() of each one: an entry is added when a ChannelBind makes a
 * channel forwardable, re-sent with its new expiry when a ChannelBind or
 * CreatePermission refreshes it, and removed when the channel or the
 * permission expires (the kernel also stops using an entry at its expiry on
 * its own) or the allocation ends. Every second it reads the per-entry
 * packet and byte counters, adds them to the aggregate totals for /metrics
 * and to each allocation's relayedCount, which draining reads to see that a
 * call is live. Nothing here logs an address.
 *
 * If the helper dies, the kernel has already detached the program (the
 * helper held its only link): media falls back to the userspace path, which
 * still has every allocation, and `path` says so.
 */
import type { Allocation } from '../turn/allocation';
import type { AllocationWatcher } from '../turn/core';
import { desiredEntries, type OffloadAddresses } from './entries';
import type { OffloadHelper } from './helper-process';

interface Installed {
  key: string;
  expiresAt: number;
  allocation: Allocation;
  /** Counters last read for each direction, to add only what is new. */
  c2p: { packets: number; bytes: number };
  p2c: { packets: number; bytes: number };
}

export interface OffloadTotals {
  packets: number;
  bytes: number;
  entries: number;
  /** Entries ever added (a refresh is not a new one). */
  installs: number;
  helperErrors: number;
}

export class KernelOffload implements AllocationWatcher {
  private readonly byAllocation = new Map<number, Map<string, Installed>>();
  private readonly byC2p = new Map<string, Installed>();
  private readonly byP2c = new Map<string, Installed>();
  readonly totals: OffloadTotals = { packets: 0, bytes: 0, entries: 0, installs: 0, helperErrors: 0 };
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    readonly helper: OffloadHelper,
    private readonly at: OffloadAddresses,
    private readonly allowed: (address: string, port: number) => boolean,
    private readonly onHelperLost: (why: string) => void,
  ) {
    void helper.exited.then(() => {
      if (this.timer) this.onHelperLost(helper.lostReason ?? 'offload helper exited: the kernel detached the program, media is relayed in userspace');
      this.stopPolling();
    });
  }

  startPolling(ms = 1000): void {
    this.timer = setInterval(() => void this.poll(), ms);
    this.timer.unref();
  }

  private stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  get active(): boolean {
    return this.helper.alive;
  }

  changed(a: Allocation, now: number): void {
    if (!this.helper.alive) return;
    const want = desiredEntries(a, this.at, this.allowed, now);
    let have = this.byAllocation.get(a.id);
    if (want.length === 0 && !have) return;
    if (!have) {
      have = new Map();
      this.byAllocation.set(a.id, have);
    }
    const keep = new Set<string>();
    for (const e of want) {
      keep.add(e.key);
      const old = have.get(e.key);
      if (old && old.expiresAt === e.expiresAt) continue;
      if (old) old.expiresAt = e.expiresAt;
      else {
        const inst: Installed = { key: e.key, expiresAt: e.expiresAt, allocation: a, c2p: { packets: 0, bytes: 0 }, p2c: { packets: 0, bytes: 0 } };
        have.set(e.key, inst);
        const f = e.key.split(' ');
        this.byC2p.set(f.slice(0, 5).join(' '), inst);
        this.byP2c.set(`${f[7]} ${f[8]} ${f[5]} ${f[6]}`, inst);
        this.totals.entries++;
        this.totals.installs++;
      }
      this.send(`add ${e.key} ${Math.max(0, e.expiresAt - now)}`);
    }
    for (const [key, inst] of have) if (!keep.has(key)) this.remove(have, inst);
    if (have.size === 0) this.byAllocation.delete(a.id);
  }

  ended(a: Allocation): void {
    const have = this.byAllocation.get(a.id);
    if (!have) return;
    for (const inst of [...have.values()]) this.remove(have, inst);
    this.byAllocation.delete(a.id);
  }

  private remove(have: Map<string, Installed>, inst: Installed): void {
    have.delete(inst.key);
    const f = inst.key.split(' ');
    this.byC2p.delete(f.slice(0, 5).join(' '));
    this.byP2c.delete(`${f[7]} ${f[8]} ${f[5]} ${f[6]}`);
    this.totals.entries--;
    if (!this.helper.alive) return;
    this.helper.command(`del ${inst.key}`).then(
      ([line]) => {
        const m = /^gone (\d+) (\d+) (\d+) (\d+)$/.exec(line ?? '');
        if (!m) return void this.totals.helperErrors++;
        this.count(inst, 'c2p', Number(m[1]), Number(m[2]));
        this.count(inst, 'p2c', Number(m[3]), Number(m[4]));
      },
      () => this.totals.helperErrors++,
    );
  }

  private send(line: string): void {
    this.helper.command(line).then(
      ([answer]) => {
        if (answer !== 'ok') this.totals.helperErrors++;
      },
      () => this.totals.helperErrors++,
    );
  }

  /** Adds what the kernel counted since the last read (counters only grow while an entry lives). */
  private count(inst: Installed, dir: 'c2p' | 'p2c', packets: number, bytes: number): void {
    const last = inst[dir];
    if (packets < last.packets) return; // a read that raced a re-add: next read catches up
    const dp = packets - last.packets;
    this.totals.packets += dp;
    this.totals.bytes += bytes - last.bytes;
    inst.allocation.relayedCount += dp;
    last.packets = packets;
    last.bytes = bytes;
  }

  /** Reads every entry's counters once. */
  async poll(): Promise<void> {
    if (this.polling || !this.helper.alive) return;
    this.polling = true;
    try {
      const lines = await this.helper.command('stats', true);
      for (const line of lines) {
        const f = line.split(' ');
        if (f[0] === 'c' && f.length === 8) {
          const inst = this.byC2p.get(f.slice(1, 6).join(' '));
          if (inst) this.count(inst, 'c2p', Number(f[6]), Number(f[7]));
        } else if (f[0] === 'p' && f.length === 7) {
          const inst = this.byP2c.get(f.slice(1, 5).join(' '));
          if (inst) this.count(inst, 'p2c', Number(f[5]), Number(f[6]));
        }
      }
    } catch {
      this.totals.helperErrors++;
    } finally {
      this.polling = false;
    }
  }

  /** Entries the kernel maps hold right now, both directions (the helper's own count). */
  async kernelEntries(): Promise<{ c2p: number; p2c: number }> {
    const [line] = await this.helper.command('has');
    const m = /^has (\d+) (\d+)$/.exec(line ?? '');
    if (!m) throw new Error('offload helper: bad answer to has');
    return { c2p: Number(m[1]), p2c: Number(m[2]) };
  }

  async close(): Promise<void> {
    this.stopPolling();
    if (this.helper.alive) await this.poll();
    await this.helper.close();
  }
}
