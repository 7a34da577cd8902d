/**
 * Delay and jitter on a lab router, without netem (issue 17; docs/lab.md "Jitter").
 *
 * This machine's kernel has neither netem nor fq (`CONFIG_NET_SCH_NETEM` and
 * `CONFIG_NET_SCH_FQ` unset; `tc qdisc add … fq` answers "Specified qdisc kind is
 * unknown"), so the usual EDT recipe (a tc program stamps skb->tstamp, fq holds
 * the packet until then) has no qdisc to hold packets. What it has: clsact, tc
 * BPF with bpf_redirect, and TUN/TAP. So each delayed interface gets a delay
 * line in three parts (fixtures/jitter.bpf.c draws it):
 *
 *   egress of IFACE (tc BPF) → the TAP `j<IFACE>` → jitter-line (userspace, SCHED_FIFO)
 *   holds each frame  delay ± jitter  (uniform, like netem's default) → writes it back
 *   into the TAP → tc BPF at the TAP's ingress marks it and redirects it to IFACE's egress.
 *
 * Only IPv4 UDP and ICMP are delayed (media, STUN/TURN, the probe); TCP (the
 * signalling WebSocket) and ARP pass. Frames are released by departure time, so
 * with jitter wider than the packet spacing they overtake each other, as with
 * netem. The line runs in the router's namespace as the lab's child: destroying
 * the lab kills it, and the TAP (not persistent) vanishes with it.
 *
 * Built on first use with the host's clang (BPF target, as relay-server/bpf) and
 * cc; both are in CI's apt line. A missing compiler is an error that says so.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Lab, NsRole } from './netns';
import { childReady } from './probes';

const FIXTURES = resolve(import.meta.dirname, 'fixtures');
const RTT_SCRIPT = join(FIXTURES, 'udp-rtt.mjs');

export interface JitterOptions {
  /** Mean one-way delay added per packet, ms (netem's "delay"). At least `jitterMs`, so nothing is clamped. */
  delayMs: number;
  /** Each packet's delay is uniform in delayMs ± jitterMs (netem's default distribution). */
  jitterMs: number;
  /** The router's interfaces whose egress is delayed; default both (`lan` and `wan`): both directions. */
  interfaces?: string[];
}

export interface Jitter {
  /** Detaches the programs, stops the lines; returns each line's last words ("frames N max-queue Q late-us L"). */
  remove(): Promise<string[]>;
}

let built: { dir: string; line: string } | undefined;
const objects = new Map<string, string>();

function compile(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as { code?: string; stderr?: Buffer };
    if (err.code === 'ENOENT') throw new Error(`jitter lab: \`${cmd}\` not found (apt-get install clang llvm libbpf-dev gcc libc6-dev)`);
    throw new Error(`jitter lab: \`${cmd} ${args.join(' ')}\` failed: ${err.stderr?.toString().trim() ?? e}`);
  }
}

/** Builds into a temp dir that goes with the lab (vitest's workers end without a process 'exit'). */
function build(lab: Lab): { dir: string; line: string } {
  if (built) return built;
  const dir = mkdtempSync(join(tmpdir(), 'hush-jitter-'));
  lab.onDestroy(() => {
    rmSync(dir, { recursive: true, force: true });
    if (built?.dir === dir) built = undefined;
    objects.clear();
  });
  const line = join(dir, 'jitter-line');
  compile('cc', ['-O2', '-Wall', '-Werror', '-o', line, join(FIXTURES, 'jitter-line.c')]);
  built = { dir, line };
  return built;
}

/** The tc object for one interface/TAP pair (the indexes are compiled in). */
function bpfObject(lab: Lab, outIndex: number, tapIndex: number): string {
  const { dir } = build(lab);
  const key = `${outIndex}-${tapIndex}`;
  const have = objects.get(key);
  if (have) return have;
  let multiarch = 'x86_64-linux-gnu';
  try {
    multiarch = execFileSync('gcc', ['-print-multiarch']).toString().trim() || multiarch;
  } catch {
    /* the default above */
  }
  const obj = join(dir, `jitter-${key}.bpf.o`);
  compile('clang', ['-O2', '-g', '-Wall', '-Werror', '-target', 'bpf', `-I/usr/include/${multiarch}`, `-DOUT_IFINDEX=${outIndex}`, `-DTAP_IFINDEX=${tapIndex}`, '-c', join(FIXTURES, 'jitter.bpf.c'), '-o', obj]);
  objects.set(key, obj);
  return obj;
}

async function ifindex(lab: Lab, ns: string, dev: string): Promise<number> {
  const { stdout } = await lab.exec(ns, 'ip', ['-j', 'link', 'show', 'dev', dev]);
  const index = (JSON.parse(stdout) as Array<{ ifindex: number }>)[0]?.ifindex;
  if (!index) throw new Error(`jitter lab: no ifindex for ${dev} in ${ns}`);
  return index;
}

async function startLine(lab: Lab, router: NsRole, tap: string, opts: JitterOptions): Promise<{ child: ChildProcess; output: () => string }> {
  const child = lab.spawnIn(router, build(lab).line, [tap, String(Math.round(opts.delayMs * 1000)), String(Math.round(opts.jitterMs * 1000))]);
  return { child, output: await childReady(child, `jitter-line ${tap} in ${router}`) };
}

/** Adds delay ± jitter to the egress of `router`'s interfaces (default `lan` and `wan`: both directions through it). */
export async function addJitter(lab: Lab, router: 'rtrA' | 'rtrB', opts: JitterOptions): Promise<Jitter> {
  if (!(opts.jitterMs >= 0 && opts.delayMs >= opts.jitterMs)) throw new Error(`jitter lab: need 0 ≤ jitterMs ≤ delayMs, got ${opts.delayMs} ± ${opts.jitterMs}`);
  const ns = lab.ns[router];
  const lines: Array<{ dev: string; child: ChildProcess; output: () => string }> = [];
  const detach = async () => {
    const words: string[] = [];
    for (const l of lines) {
      // The interface first: its program redirects to the TAP, which goes away with the line.
      await lab.exec(ns, 'tc', ['qdisc', 'del', 'dev', l.dev, 'clsact']).catch(() => {});
      const exited = new Promise<void>((ok) => (l.child.exitCode !== null ? ok() : l.child.once('exit', () => ok())));
      l.child.kill('SIGTERM');
      await exited;
      words.push(`${l.dev}: ${l.output().replace(/^ready\n/, '').trim()}`);
    }
    lines.length = 0;
    return words;
  };
  try {
    for (const dev of opts.interfaces ?? ['lan', 'wan']) {
      const tap = `j${dev}`.slice(0, 15);
      const line = await startLine(lab, router, tap, opts);
      lines.push({ dev, ...line });
      await lab.exec(ns, 'ip', ['link', 'set', tap, 'up']);
      const obj = bpfObject(lab, await ifindex(lab, ns, dev), await ifindex(lab, ns, tap));
      await lab.exec(ns, 'tc', ['qdisc', 'add', 'dev', tap, 'clsact']);
      await lab.exec(ns, 'tc', ['filter', 'add', 'dev', tap, 'ingress', 'bpf', 'direct-action', 'obj', obj, 'sec', 'tc/back']);
      await lab.exec(ns, 'tc', ['qdisc', 'add', 'dev', dev, 'clsact']);
      await lab.exec(ns, 'tc', ['filter', 'add', 'dev', dev, 'egress', 'bpf', 'direct-action', 'obj', obj, 'sec', 'tc/out']);
    }
  } catch (e) {
    await detach();
    throw e;
  }
  return { remove: detach };
}

export interface RttFigures {
  sent: number;
  received: number;
  meanMs: number;
  sdMs: number;
  p5Ms: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** Echoes that arrived after a later-sent one. */
  reordered: number;
}

export function rttFigures(sent: number, rtts: number[], reordered: number): RttFigures {
  const s = [...rtts].sort((a, b) => a - b);
  const n = s.length;
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, n);
  const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1));
  const q = (p: number) => s[Math.round(p * (n - 1))] ?? NaN;
  return { sent, received: n, meanMs: mean, sdMs: sd, p5Ms: q(0.05), p50Ms: q(0.5), p95Ms: q(0.95), maxMs: s[n - 1] ?? NaN, reordered };
}

export const showRtt = (f: RttFigures) =>
  `${f.received}/${f.sent} echoes, RTT mean ${f.meanMs.toFixed(1)} ms, sd ${f.sdMs.toFixed(1)}, p5 ${f.p5Ms.toFixed(1)}, median ${f.p50Ms.toFixed(1)}, p95 ${f.p95Ms.toFixed(1)}, max ${f.maxMs.toFixed(1)}, reordered ${f.reordered}`;

/**
 * UDP round trips from `from` to an echo at `echo.ip:echo.port` inside `echo.ns` (started and
 * stopped here): `count` datagrams, one every `intervalMs` (20: an Opus packet's spacing).
 */
export async function measureRtt(lab: Lab, from: NsRole, echo: { ns: NsRole; ip: string; port: number }, count = 150, intervalMs = 20): Promise<RttFigures> {
  const child = lab.spawnIn(echo.ns, process.execPath, [RTT_SCRIPT, 'echo', echo.ip, String(echo.port)]);
  try {
    await childReady(child, `UDP echo in ${echo.ns}`);
    const { stdout } = await lab.exec(from, process.execPath, [RTT_SCRIPT, 'ping', `${echo.ip}:${echo.port}`, String(count), String(intervalMs)]);
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as { sent: number; rtts: number[]; reordered: number };
    return rttFigures(r.sent, r.rtts, r.reordered);
  } finally {
    child.kill('SIGKILL');
  }
}

