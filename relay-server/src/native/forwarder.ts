/**
 * The native forwarder seen from the relay (`--forwarder on`, issue 16):
 * relay-server/native/hush_forward.c, a Node-API addon whose C threads read
 * the main UDP listener and the relay sockets with recvmmsg and relay
 * ChannelData of the entries it holds with sendmsg/sendmmsg, in userspace,
 * without a JavaScript call per datagram.
 *
 * It speaks the kernel offload helper's commands (`add`, `del`, `stats`,
 * `has`: offload/helper-process.ts), so KernelOffload fills and empties its
 * entries exactly as it fills the XDP maps: one entry per forwardable
 * channel (offload/entries.ts), refreshed, expired and counted the same.
 * Sockets are handed over as they are bound (FastUdp.tapReads): libuv stops
 * reading them, the addon reads them, and everything that is not an entry's
 * ChannelData comes back here in batches and goes to the socket's own
 * receiver, as if libuv had read it. A socket is detached before it closes.
 * Only IPv4 sockets are handed over; IPv6 stays with libuv.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { resolve } from 'node:path';
import type dgram from 'node:dgram';
import { setReadTap, type FastUdp, type ReadTap } from '../net/fast-udp';
import type { OffloadHelper } from '../offload/helper-process';

export const ADDON_NAME = 'hush_forward.node';

interface Addon {
  start(threads: number, maxMessage: number, onBatch: (batch: Buffer) => void): void;
  attach(fd: number, kind: 1 | 2, port: number): number;
  detach(fd: number): void;
  add(cip: number, cport: number, channel: number, relayPort: number, pip: number, pport: number, ms: number): number;
  del(cip: number, cport: number, channel: number): number[] | null;
  stats(): Float64Array;
  totals(): ForwarderTotals;
  stop(): void;
  /** Test hook: thread i stops as on an error of its own (epoll_wait failing cannot be caused from outside). */
  failThread(i: number): void;
}

export interface ForwarderTotals {
  threads: number;
  entries: number;
  /** ChannelData relayed by the C threads, both directions. */
  forwarded: number;
  forwardedBytes: number;
  /** Datagrams handed back to JavaScript (no entry: requests, indications, unknown channels). */
  toJs: number;
  /** Datagrams for JavaScript dropped: 16 MiB already waiting for it, or its queue of 4 096 batches full (each counts 1). */
  jsDropped: number;
  sendErrors: number;
  truncated: number;
  recvCalls: number;
  sendCalls: number;
  /** Forwarder threads that stopped on an error of their own (the forwarder then stops: libuv reads every socket again). */
  threadErrors: number;
}

/** Where the built addon is: HUSH_FORWARDER_DIR, else relay-server/native/out from this file, else native/out of the packed relay. */
export function forwarderDir(): string {
  if (process.env.HUSH_FORWARDER_DIR) return process.env.HUSH_FORWARDER_DIR;
  const candidates = [resolve(import.meta.dirname, '../../native/out'), resolve(import.meta.dirname, '../native/out')];
  return candidates.find((d) => existsSync(resolve(d, ADDON_NAME))) ?? candidates[0]!;
}

/** Why the forwarder cannot run here, or null. */
export function forwarderRefusal(platform = process.platform): string | null {
  if (platform !== 'linux') return `the native forwarder needs Linux (this is ${platform})`;
  if (endianness() !== 'LE') return 'the native forwarder hands batches over in little-endian order: this host is big-endian';
  if (!existsSync(resolve(forwarderDir(), ADDON_NAME))) return `the native forwarder is not built (${forwarderDir()}: run make -C relay-server/native)`;
  return null;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function ipToU32(ip: string): number | undefined {
  const m = IPV4.exec(ip);
  if (!m) return undefined;
  const b = [m[1], m[2], m[3], m[4]].map(Number);
  if (b.some((x) => x > 255)) return undefined;
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

export function u32ToIp(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** Record header of a batch (hush_forward.c, REC_HDR): fd, generation, ip, port, the socket's kind, length. */
const REC_HDR = 20;

interface Held {
  f: FastUdp<unknown>;
  gen: number;
}

export class NativeForwarder implements OffloadHelper, ReadTap {
  readonly mode = 'forwarder';
  private readonly held = new Map<number, Held>();
  private dead: Error | undefined;
  private resolveExit!: () => void;
  readonly exited = new Promise<void>((r) => (this.resolveExit = r));
  /** Datagrams in batches that found no socket (it closed while they waited). */
  orphans = 0;
  /** Why the forwarder stopped on its own (a thread's error), for the log and `datapath:`. */
  lostReason: string | undefined;
  /** Thread errors counted before this start (the addon's counters live as long as the process). */
  private readonly threadErrorsBefore: number;

  private constructor(
    private readonly addon: Addon,
    readonly threads: number,
  ) {
    this.threadErrorsBefore = addon.totals().threadErrors;
  }

  /** Loads the addon and starts `threads` forwarder threads; throws if it cannot. */
  static start(threads: number, maxMessage: number): NativeForwarder {
    const addon = createRequire(import.meta.url)(resolve(forwarderDir(), ADDON_NAME)) as Addon;
    let fwd: NativeForwarder | undefined;
    addon.start(threads, maxMessage, (batch) => fwd?.onBatch(batch));
    fwd = new NativeForwarder(addon, threads);
    setReadTap(fwd);
    return fwd;
  }

  get alive(): boolean {
    return this.dead === undefined;
  }

  totals(): ForwarderTotals {
    return this.addon.totals();
  }

  /** ReadTap: the C threads read `f`'s socket from now on. False (libuv keeps it) for IPv6 or an unattachable socket. */
  attach(f: FastUdp<unknown>, kind: 'listener' | 'relay', port: number): boolean {
    if (!this.alive) return false;
    const fd = f.fd;
    let family: string | undefined;
    try {
      family = f.sock.address().family;
    } catch {
      return false;
    }
    if (fd === undefined || family !== 'IPv4') return false;
    const gen = this.addon.attach(fd, kind === 'listener' ? 1 : 2, port);
    if (gen <= 0) return false;
    this.held.set(fd, { f, gen });
    if (!f.stopReading()) {
      this.detach(fd);
      return false;
    }
    // Detached before it closes, whoever closes it: the number may be reused by the next socket.
    // Only this socket's own hand-over, once: a second close() of a closed socket must not
    // detach the next socket that got the same number.
    const sock = f.sock;
    const close = sock.close;
    sock.close = ((...args: Parameters<dgram.Socket['close']>) => {
      sock.close = close;
      if (this.held.get(fd)?.f === f) this.detach(fd);
      return close.apply(sock, args);
    }) as dgram.Socket['close'];
    return true;
  }

  private detach(fd: number): void {
    if (!this.held.delete(fd)) return;
    if (this.alive) this.addon.detach(fd);
  }

  /** Test hook: forwarder thread `i` stops as on an error of its own. */
  failThreadForTest(i: number): void {
    this.addon.failThread(i);
  }

  /**
   * A thread that stopped on an error leaves its sockets unread: the whole forwarder stops and
   * every socket goes back to libuv, so JavaScript relays all calls again (KernelOffload sees
   * `exited` and reports `lostReason`). Checked when a thread says so (an empty batch) and at
   * every stats read, once a second.
   */
  private checkThreads(): void {
    if (!this.alive) return;
    const errors = this.addon.totals().threadErrors - this.threadErrorsBefore;
    if (errors <= 0) return;
    this.lostReason = `native forwarder stopped: ${errors} of its threads failed; every socket is read by JavaScript again, media is relayed in userspace`;
    void this.close();
  }

  /** Datagrams the C threads did not relay, in order, to each socket's own receiver. */
  private onBatch(b: Buffer): void {
    if (b.length === 0) return this.checkThreads();
    let failed: unknown;
    let o = 0;
    while (o + REC_HDR <= b.length) {
      const fd = b.readUInt32LE(o);
      const gen = b.readUInt32LE(o + 4);
      const ip = b.readUInt32LE(o + 8);
      const port = b.readUInt16LE(o + 12);
      const len = b.readUInt32LE(o + 16);
      const start = o + REC_HDR;
      o = start + ((len + 3) & ~3);
      const h = this.held.get(fd);
      if (h === undefined || h.gen !== gen || h.f.receiver === undefined) {
        this.orphans++;
        continue;
      }
      try {
        h.f.receiver(b.subarray(start, start + len), { address: u32ToIp(ip), family: 'IPv4', port, size: len }, h.f.owner);
      } catch (e) {
        // The rest of the batch still goes to its receivers; the first error is thrown after, as libuv would have.
        failed ??= e;
      }
    }
    if (failed !== undefined) throw failed;
  }

  /** The offload helper's commands (helper-process.ts), answered at once. */
  command(line: string, multi = false): Promise<string[]> {
    if (this.dead) return Promise.reject(this.dead);
    try {
      return Promise.resolve(this.answer(line, multi));
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  /** Key fields of an entry (entries.ts): client ip, port, listen ip, port, channel, relay ip, port, peer ip, port. */
  private answer(line: string, multi: boolean): string[] {
    const f = line.split(' ');
    if (f[0] === 'add' && f.length === 11) {
      const k = this.key(f.slice(1, 10));
      if (!k) return ['error bad entry'];
      const ms = Math.max(0, Math.min(Math.floor(Number(f[10]) || 0), 0x7fffffff));
      const r = this.addon.add(k.cip, k.cport, k.channel, k.rport, k.pip, k.pport, ms);
      if (r !== 0) return [`error ${r}`];
      this.sent.set(`${k.cip} ${k.cport} ${k.channel}`, { lip: f[3]!, lport: f[4]!, rip: f[6]! });
      return ['ok'];
    }
    if (f[0] === 'del' && f.length === 10) {
      const k = this.key(f.slice(1, 10));
      if (!k) return ['error bad entry'];
      const c = this.addon.del(k.cip, k.cport, k.channel) ?? [0, 0, 0, 0];
      this.sent.delete(`${k.cip} ${k.cport} ${k.channel}`);
      return [`gone ${c[0]} ${c[1]} ${c[2]} ${c[3]}`];
    }
    if (f[0] === 'stats' && multi) {
      this.checkThreads();
      if (!this.alive) return [];
      const s = this.addon.stats();
      const out: string[] = [];
      for (let i = 0; i + 10 <= s.length; i += 10) {
        const [cip, cport, ch, rport, pip, pport, cp, cb, pp, pb] = s.subarray(i, i + 10);
        // The listener and relay addresses are not the forwarder's to know: kernel-offload.ts matches on what it sent.
        const e = this.sent.get(`${cip} ${cport} ${ch}`);
        if (!e) continue;
        out.push(`c ${u32ToIp(cip!)} ${cport} ${e.lip} ${e.lport} ${ch} ${cp} ${cb}`);
        out.push(`p ${u32ToIp(pip!)} ${pport} ${e.rip} ${rport} ${pp} ${pb}`);
      }
      return out;
    }
    if (f[0] === 'has') {
      const n = this.addon.totals().entries;
      return [`has ${n} ${n}`];
    }
    return ['error unknown command'];
  }

  /** Listener and relay addresses as kernel-offload.ts sent them, by client ip (u32), port and channel. */
  private readonly sent = new Map<string, { lip: string; lport: string; rip: string }>();

  private key(f: string[]): { cip: number; cport: number; channel: number; rport: number; pip: number; pport: number } | undefined {
    const cip = ipToU32(f[0]!);
    const pip = ipToU32(f[7]!);
    const [cport, channel, rport, pport] = [f[1], f[4], f[6], f[8]].map(Number);
    if (cip === undefined || pip === undefined || ![cport, channel, rport, pport].every((n) => Number.isInteger(n) && n! >= 0 && n! <= 65535)) return undefined;
    return { cip, cport: cport!, channel: channel!, rport: rport!, pip, pport: pport! };
  }

  /** Stops the threads; the sockets go back to libuv (JavaScript relays everything again). */
  async close(): Promise<void> {
    if (this.dead) return;
    this.dead = new Error('native forwarder stopped');
    setReadTap(undefined);
    this.addon.stop();
    for (const { f } of this.held.values()) {
      try {
        f.resumeReading();
      } catch {
        // closed meanwhile
      }
    }
    this.held.clear();
    this.resolveExit();
  }
}
