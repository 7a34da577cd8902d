/**
 * UDP probes for the lab, without a browser: a reflector (a STUN-like
 * "what address do you see me from" server) and a prober that sends from
 * one socket to several targets. They make the NAT's behaviour visible on
 * its own: an endpoint-independent mapping keeps one public port for every
 * destination, a symmetric NAT gives each destination its own.
 *
 * Both run udp-probe.mjs with this Node binary inside a lab namespace.
 */
import { resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Lab, NsRole } from './netns';

const PROBE_SCRIPT = resolve(import.meta.dirname, 'udp-probe.mjs');

export interface Reflector {
  stop(): void;
}

/** Reflectors on ip:port for each port, inside `ns`; resolves once all are bound. */
export async function startReflector(lab: Lab, ns: NsRole, ip: string, ports: number[]): Promise<Reflector> {
  const child = lab.spawnIn(ns, process.execPath, [PROBE_SCRIPT, 'reflect', ip, ...ports.map(String)]);
  await childReady(child, `UDP reflector in ${ns}`);
  return { stop: () => void child.kill('SIGKILL') };
}

export interface ProbeResult {
  /** The local port the probe sent from. */
  local: number;
  /** Per target "ip:port": the address the target saw us from, or null (no answer). */
  answers: Record<string, string | null>;
}

/**
 * Send one datagram from one socket to each target (in order) and collect
 * the answers; with `stun`, a STUN Binding request, and the answer is the
 * XOR-MAPPED-ADDRESS (so the relay itself is a reflector).
 */
export async function probe(
  lab: Lab,
  ns: NsRole,
  targets: string[],
  opts: { port?: number; timeoutMs?: number; stun?: boolean } = {},
): Promise<ProbeResult> {
  const args = [PROBE_SCRIPT, 'probe', '--timeout', String(opts.timeoutMs ?? 800)];
  if (opts.port) args.push('--port', String(opts.port));
  if (opts.stun) args.push('--stun');
  const { stdout } = await lab.exec(ns, process.execPath, [...args, ...targets]);
  return JSON.parse(stdout.trim().split('\n').pop()!) as ProbeResult;
}

/**
 * Resolves once `child` (a lab helper started in a namespace) prints a line `ready`, with a getter
 * of everything it printed (stdout and stderr); fails with that output if it exits first or stays
 * silent for `timeoutMs`.
 */
export function childReady(child: ChildProcess, what: string, timeoutMs = 10_000): Promise<() => string> {
  let out = '';
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${what} not ready after ${timeoutMs / 1000} s: ${out}`)), timeoutMs);
    const take = (d: Buffer) => {
      out += d.toString();
      if (/^ready$/m.test(out)) {
        clearTimeout(timer);
        ok(() => out);
      }
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${what} exited (${code}): ${out}`));
    });
  });
}
