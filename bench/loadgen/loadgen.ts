/**
 * Runs hush-loadgen (bench/loadgen/hush-loadgen.c) against a TURN server:
 * sets up the client pairs in Node (turn-pairs.ts), closes their sockets,
 * starts the generator on the same local port and reads its JSON lines.
 *
 * `sending` resolves when the generator sends its first datagram and
 * `drained` when it stopped receiving, so a caller can read CPU counters
 * over exactly the load (the TURN set-up and the generator's own sorting of
 * latencies afterwards are outside that window).
 *
 * The result says when the generator, not the server, was the limit
 * (`generatorBound`): its own receive queue overflowed (SO_RXQ_OVFL), it
 * could not send some datagrams, its direct (not relayed) flows lost
 * datagrams, or it took over 2 % longer than planned to send the load (the
 * rate it offered was lower than asked). Separately, `late` says when more
 * than 1 % of its messages went out over one period (20 ms at 50/s) after
 * they were due: it caught up in bursts (on a busy machine, when it was not
 * scheduled), so the server saw the average rate but a burstier load.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { LoadgenError } from './errors';
import { freeLoadPort, PERMISSION_LIFETIME_S, setUpPairs, type LoadClient } from './turn-pairs';

export interface LoadgenOptions {
  /** The built generator (build.ts). */
  bin: string;
  host: string;
  /** TURN ports of the server; pairs are spread over them. */
  ports: number[];
  secret: string;
  /** Even: clients run in pairs. 0 with many `direct` flows: the generator alone, no server. */
  clients: number;
  msgs: number;
  pps: number;
  payload: number;
  /** Direct (not relayed) flows for the loopback baseline; default 2. */
  direct?: number;
  /** Sending threads (default 1): on loopback each also does the kernel's delivery work of what it sends. */
  senders?: number;
  /** For tests: the channel client i sends on instead of the one it bound. */
  sendChannel?: (client: number, bound: number) => number;
}

export interface PairResult {
  pair: [number, number];
  direct: boolean;
  sent: number;
  received: number;
  lost: number;
  duplicates: number;
  p50_us: number;
  p99_us: number;
}

export interface LoadgenSummary {
  clients: number;
  sent: number;
  received: number;
  lost: number;
  duplicates: number;
  /** Arrived at a client other than the sender's partner, or on another channel than the one bound. */
  misdelivered: number;
  /** Datagrams that were not the generator's at all. */
  foreign: number;
  unsent: number;
  send_errors: number;
  rx_overflow: number;
  behind: number;
  max_lag_us: number;
  direct_sent: number;
  direct_received: number;
  planned_s: number;
  send_s: number;
  p50_us: number;
  p99_us: number;
  direct_p50_us: number;
  direct_p99_us: number;
  cpu_user_s: number;
  cpu_sys_s: number;
}

export interface LoadgenResult {
  pairs: PairResult[];
  summary: LoadgenSummary;
  /** Why the generator itself could not keep the offered load, or undefined. */
  generatorBound: string | undefined;
  /** Whether it sent over 1 % of its messages more than a period late (in bursts), or undefined. */
  late: string | undefined;
  /** Seconds of TURN set-up in Node before the generator started. */
  setupS: number;
  stderr: string;
}

export interface LoadgenRun {
  clients: LoadClient[];
  sending: Promise<void>;
  drained: Promise<void>;
  done: Promise<LoadgenResult>;
}

/** Seconds the generator may take after it sent its last datagram, an allowance for the check below. */
const DRAIN_ALLOWANCE_S = 10;

export function generatorBound(s: LoadgenSummary): string | undefined {
  const why: string[] = [];
  if (s.rx_overflow > 0) why.push(`its receive queue dropped ${s.rx_overflow} datagrams`);
  if (s.rx_overflow === 0 && s.direct_received < s.direct_sent) why.push(`${s.direct_sent - s.direct_received} of its direct (not relayed) datagrams were lost`);
  if (s.unsent > 0) why.push(`${s.unsent} datagrams could not be sent`);
  if (s.send_s > 1.02 * s.planned_s) why.push(`it took ${s.send_s.toFixed(2)} s to send what was planned for ${s.planned_s.toFixed(2)} s`);
  return why.length ? why.join('; ') : undefined;
}

export function lateness(s: LoadgenSummary): string | undefined {
  const all = s.sent + s.direct_sent + s.unsent;
  return s.behind > 0.01 * all ? `${((100 * s.behind) / Math.max(1, all)).toFixed(1)} % of messages left over a period late (max ${(s.max_lag_us / 1000).toFixed(1)} ms)` : undefined;
}

/** Set up the pairs, then start the generator; see LoadgenRun. */
export async function startLoadgen(o: LoadgenOptions): Promise<LoadgenRun> {
  const t0 = performance.now();
  const localPort = await freeLoadPort();
  const clients = o.clients === 0 ? [] : await setUpPairs(o.host, o.ports, o.secret, o.clients, localPort);
  const setupS = (performance.now() - t0) / 1000;
  if (setupS + o.msgs / o.pps + DRAIN_ALLOWANCE_S >= PERMISSION_LIFETIME_S) {
    throw new LoadgenError(
      'ERR_LOADGEN_TOO_LONG',
      `A round of ${o.msgs} messages at ${o.pps}/s after ${setupS.toFixed(0)} s of set-up would outlast the ${PERMISSION_LIFETIME_S} s TURN permissions, which the generator does not refresh: send fewer messages per client.`,
    );
  }
  const args = ['--port', String(localPort), '--msgs', String(o.msgs), '--pps', String(o.pps), '--payload', String(o.payload), '--direct', String(o.direct ?? 2), '--senders', String(o.senders ?? 1)];
  const child = spawn(o.bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const input = clients.map((c, i) => `${c.address} ${c.serverHost} ${c.serverPort} ${o.sendChannel ? o.sendChannel(i, c.channel) : c.channel} ${c.channel} ${c.partner}\n`).join('');
  child.stdin.end(input);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let onSending: () => void = () => undefined;
  let onDrained: () => void = () => undefined;
  const sending = new Promise<void>((r) => (onSending = r));
  const drained = new Promise<void>((r) => (onDrained = r));
  const pairs: PairResult[] = [];
  let summary: LoadgenSummary | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    const j = JSON.parse(line) as { event?: string; summary?: boolean } & Partial<PairResult> & Partial<LoadgenSummary>;
    if (j.event === 'sending') onSending();
    else if (j.event === 'drained') onDrained();
    else if (j.summary) summary = j as unknown as LoadgenSummary;
    else pairs.push(j as PairResult);
  });
  const done = new Promise<LoadgenResult>((resolve, reject) => {
    child.once('error', (e) => reject(new LoadgenError('ERR_LOADGEN_EXIT', `The load generator did not start: ${e.message}.`)));
    child.once('close', (code) => {
      onSending();
      onDrained();
      if (code !== 0 || !summary) {
        reject(new LoadgenError('ERR_LOADGEN_EXIT', `The load generator exited with ${code} and no summary: ${stderr.trim() || 'no message'}.`));
        return;
      }
      resolve({ pairs, summary, generatorBound: generatorBound(summary), late: lateness(summary), setupS, stderr });
    });
  });
  return { clients, sending, drained, done };
}
