/**
 * `npm run bench -- relay`: hush-relay against coturn on this machine, same
 * load client for every server, alternating rounds, each server started
 * fresh by the bench for every round and stopped after it.
 *
 * Load is voice-like: client pairs, each client's channel bound to its
 * partner's relayed address (client-to-client, as turnutils_uclient -y -c),
 * 50 messages per second per client, 160-byte payloads. Each message is
 * forwarded twice by the server (client A → A's allocation → B's relayed
 * address → B's allocation → client B), so "datagrams relayed" counts both
 * forwards: forwards/s = clients × 50 × 2.
 *
 * The load client, by default, is hush-loadgen (bench/loadgen/): the TURN
 * set-up in Node with the test TURN client, then one C process (compiled
 * here with `cc -O2`) sends every client's ChannelData with sendmmsg and
 * receives with recvmmsg, and reports loss, duplicates and one-way latency
 * per pair, and when it could not keep the offered rate itself (then the
 * round is GENERATOR-BOUND and says nothing about the server). It is the
 * default because coturn's turnutils_uclient, with a system call per
 * datagram and one process per 50 clients, cost more CPU per datagram than
 * the servers it loaded: it bounded the offload column and made most of the
 * whole-machine CPU per datagram. HUSH_BENCH_LOAD=uclient runs every round
 * with turnutils_uclient instead (and the Node latency probe below); by
 * default a cross-check runs coturn (and the offload) at one level under
 * both load clients (HUSH_BENCH_CROSSCHECK=0 skips it).
 *
 * Servers: hush-relay with one TURN thread (`--threads 1`), hush-relay on
 * every core (`--threads 0`: one thread per core), hush-relay with the kernel
 * fast path (`--offload on`, XDP), coturn. The bench runs itself again inside
 * a network namespace it creates (loopback only; XDP attaches to that
 * namespace's loopback in generic mode, the only mode loopback has), so every
 * server, the load client and the latency probe share the one loopback and
 * the offload never touches the host's. Without root (no `ip netns`) it runs
 * on the host's loopback and the offload column stays empty.
 *
 * Printed per server, and as ratios to coturn:
 *   - datagrams relayed per second at 0% loss (highest load level with no
 *     loss, and with hush-loadgen not GENERATOR-BOUND: such a round runs
 *     once more before it stops the column), and what bounded
 *     each column: its first loss (and whether the generator ran late in
 *     that round), the generator, or the highest level
 *   - CPU µs per relayed datagram for the whole machine: busy time from
 *     /proc/stat (every CPU, user+nice+system+irq+softirq+steal) during the
 *     load (hush-loadgen: its first datagram sent to its last received;
 *     uclient: the whole round) divided by forwards, at the highest level all
 *     servers passed. It includes the load client's own CPU (the same load
 *     for every server), any work the kernel does in softirq, which a
 *     process's own CPU time misses, and every other process on the machine;
 *     the server process's and hush-loadgen's own times are printed beside
 *     it. Caveat: on loopback the kernel delivers a sent datagram in the
 *     sender's context, so part of the receive work of the server (and, with
 *     offload, the XDP program's whole forward) counts as the load
 *     generator's system time. Also printed: server + generator, and the
 *     whole machine minus a "load alone" round (hush-loadgen with as many
 *     direct flows and no server, at the CPU level's rate), which on a
 *     machine shared with other work can come out negative
 *   - p50/p99 added latency at the lightest level: hush-loadgen's one-way
 *     time over every relayed message minus that of its own direct flows
 *     (loopback, same batching and clock). With HUSH_BENCH_LOAD=uclient: a
 *     probe pair of TURN clients (this process) sends timestamped 160-byte
 *     packets (200/s for 4 s) through the server while every uclient client
 *     is active, minus a direct loopback pair
 *   - memory per allocation: RSS delta over N idle allocations, then over N
 *     more (the marginal cost, past one-off growth: memoryPerAllocation), and
 *     V8 heap deltas for hush-relay, after a GC
 * HUSH_BENCH_ONLY=memory runs the memory rows alone (HUSH_BENCH_MEM_ALLOCATIONS=N sets N).
 * HUSH_BENCH_QUICK=1 runs fewer levels, HUSH_BENCH_LEVELS=200,4000 those levels (clients); HUSH_BENCH_NODE24=1 runs hush-relay on
 * npm's Node 24 binary (tests/harness/node24.ts) instead of this Node; HUSH_BENCH_PROFILE=1 also writes a
 * --cpu-prof of hush-relay at the top level to bench/out/ and prints its
 * heaviest functions.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { startCoturn } from '../tests/harness/coturn';
import { join, resolve } from 'node:path';
import dgram from 'node:dgram';
import { REPO_ROOT, startRelayProcess, TSX_LOADER, type RelayProcess } from '../tests/harness/relay';
import { buildLoadgen } from './loadgen/build';
import { startLoadgen, type LoadgenResult } from './loadgen/loadgen';
import { uclientLoad } from './loadgen/uclient-load';
import { TurnTestClient } from '../tests/harness/turn-client';
import { scrapeMetrics } from '../tests/harness/metrics';
import { GC_BEFORE_MEMORY } from './gc-before-memory';
import { sleep } from '../tests/harness/wait';
import { node24 } from '../tests/harness/node24';
import { availableParallelism } from 'node:os';

const SECRET = 'bench-shared-secret';
const PPS = 50;
/** The latency probe sends faster than a voice stream, for enough samples in the window where every client is active. */
const PROBE_PPS = 200;
const PAYLOAD = 160;
const MSGS_PER_CLIENT = Number(process.env.HUSH_BENCH_MSGS ?? 500); // 10 s of speech per client
const QUICK = process.env.HUSH_BENCH_QUICK === '1';
/** The load client: hush-loadgen (default) or coturn's turnutils_uclient; see the header. */
type Load = 'loadgen' | 'uclient';
const LOAD: Load = process.env.HUSH_BENCH_LOAD === 'uclient' ? 'uclient' : 'loadgen';
/** hush-loadgen can offer more than uclient could on these 2 cores: levels go on to 600 000 forwards/s. */
const LEVELS = process.env.HUSH_BENCH_LEVELS ? process.env.HUSH_BENCH_LEVELS.split(',').map(Number) : QUICK ? [200, 600] : LOAD === 'loadgen' ? [200, 400, 600, 800, 1000, 1200, 1600, 2000, 3000, 4000, 5000, 6000] : [200, 400, 600, 800, 1000, 1200, 1600, 2000, 3000];
/** The cross-check level: the same server under both load clients (HUSH_BENCH_CROSSCHECK=0 skips it). */
const CROSS_LEVEL = 400;
/**
 * Allocations for the memory row. Per-allocation RSS falls as N grows (the heap's and malloc's
 * fixed slack spread thinner: a bare Node dgram socket measured 8.7 KB at 1 000, 4.5 KB at 3 000,
 * 2.6 KB at 10 000 here), so N is large enough to be per-allocation, not per-process.
 */
const MEM_ALLOCATIONS = Number(process.env.HUSH_BENCH_MEM_ALLOCATIONS ?? 2000);
const OUT = resolve(import.meta.dirname, 'out');

type Name = 'hush' | 'hush-all' | 'hush-fwd' | 'hush-offload' | 'coturn';
/** Every column, in the table's order; "hush-fwd": --forwarder on (the native forwarder's C threads, one per core). */
const COLUMNS: Name[] = ['hush', 'hush-all', 'hush-fwd', 'hush-offload', 'coturn'];
/** Inside the bench's own namespace (set when it re-ran itself there): the offload column runs. */
const NETNS = process.env.HUSH_BENCH_NETNS;
/** HUSH_BENCH_SERVERS=hush-fwd,coturn runs only those columns. */
const ONLY = process.env.HUSH_BENCH_SERVERS ? new Set(process.env.HUSH_BENCH_SERVERS.split(',')) : undefined;
const NAMES: Name[] = COLUMNS.filter((n) => (NETNS || n !== 'hush-offload') && (!ONLY || ONLY.has(n)));
const CORES = availableParallelism();
const NODE = process.env.HUSH_BENCH_NODE24 === '1' ? node24() : undefined;

interface Server {
  name: Name;
  pid: number;
  port: number;
  /** Every TURN port (more than one with --threads); load is spread over them. */
  ports: number[];
  stop(): Promise<void>;
  metrics?: () => Promise<Record<string, number>>;
}

interface Round {
  clients: number;
  load: Load;
  sent: number;
  received: number;
  /** hush-loadgen only: why it could not keep the offered rate (then the round says nothing about the server). */
  generatorBound?: string;
  /** hush-loadgen only: it sent over 1 % of messages a period late, in bursts (the machine did not schedule it). */
  late?: string;
  /** hush-loadgen only: its own CPU time over the round, µs. */
  loadUs?: number;
  /** hush-loadgen only: one-way latency through the server and direct (its own control flows), µs. */
  latency?: { p50: number; p99: number; d50: number; d99: number };
  /** The server process's own CPU time. */
  cpuUs: number;
  /** Busy time of the whole machine (every CPU) during the round. */
  machineUs: number;
  /** The round's wall time: uclient from the load's start to its end (connect phase included); hush-loadgen from its first datagram sent to its last received. */
  wallUs: number;
  forwards: number;
  probe?: Probe;
  /** With offload: the datagrams the kernel relayed (its counters in /metrics). */
  kernel?: number;
  /** hush-relay's main-thread event-loop delay (/metrics, the 5 s window that ended last) right after the probe, µs. */
  loop?: { p99: number; max: number };
}

interface Probe {
  relay: number[];
  direct: number[];
}

function cpuTimeUs(pid: number): number {
  // utime + stime in clock ticks (fields 14, 15), all threads included; and its children's (the offload helper).
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    let kids = 0;
    for (const c of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) kids += cpuTimeUs(Number(c));
    return (ticks * 1e6) / 100 + kids;
  } catch {
    return 0;
  }
}

/** Busy time of every CPU since boot, µs: /proc/stat's first line minus idle and iowait. */
function machineBusyUs(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + (f[7] ?? 0);
  return (busy * 1e6) / 100;
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

async function startHush(threads: number, extraNode: string[] = [], offload = false, forwarder = false): Promise<Server> {
  const r: RelayProcess = await startRelayProcess(
    ['--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8', '--user-quota', '100000', '--source-quota', '100000', '--total-quota', '100000', '--unauth-rate', '100000', '--threads', String(threads), ...(offload ? ['--offload', 'on'] : []), ...(forwarder ? ['--forwarder', 'on'] : [])],
    { nodeArgs: [...GC_BEFORE_MEMORY, ...extraNode], node: NODE, timeoutMs: 120_000 },
  );
  if (offload && !/^datapath: kernel XDP/m.test(r.output())) {
    await r.stop();
    throw new Error(`hush-relay --offload on did not get the kernel path:\n${r.output()}`);
  }
  if (forwarder && !/^datapath: native forwarder/m.test(r.output())) {
    await r.stop();
    throw new Error(`hush-relay --forwarder on did not get the native forwarder:\n${r.output()}`);
  }
  const extra = [...r.output().matchAll(/^listening stun\+turn udp [^\s]+:(\d+) \(thread \d+\)$/gm)].map((m) => Number(m[1]));
  return {
    name: offload ? 'hush-offload' : forwarder ? 'hush-fwd' : threads === 1 ? 'hush' : 'hush-all',
    pid: r.pid,
    port: r.turnPort,
    ports: [r.turnPort, ...extra],
    stop: () => r.stop(),
    metrics: async () => {
      const m = await scrapeMetrics(`http://127.0.0.1:${r.signalPort}`);
      return { heapUsedBytes: m.hush_relay_heap_used_bytes!, allocations: m.hush_relay_allocations!, kernelPackets: m.hush_relay_offload_packets_total ?? 0, loopP99: m.hush_relay_event_loop_delay_p99_seconds ?? NaN, loopMax: m.hush_relay_event_loop_delay_max_seconds ?? NaN };
    },
  };
}

async function startCoturnServer(): Promise<Server> {
  const c = await startCoturn(SECRET);
  return { name: 'coturn', pid: c.pid, port: c.port, ports: [c.port], stop: c.stop };
}

const start = (name: Name, extra: string[] = []): Promise<Server> =>
  name === 'coturn' ? startCoturnServer() : startHush(name === 'hush-all' || name === 'hush-fwd' ? 0 : 1, extra, name === 'hush-offload', name === 'hush-fwd');

/** A TURN client pair through `port` plus a direct UDP pair; 50 pps of timestamped packets each. */
async function runProbe(port: number, seconds: number): Promise<Probe> {
  const a = TurnTestClient.withSecret({ host: '127.0.0.1', port }, SECRET);
  const b = TurnTestClient.withSecret({ host: '127.0.0.1', port }, SECRET);
  await a.open();
  await b.open();
  const ra = await a.allocate();
  const rb = await b.allocate();
  await a.channelBind(rb, 0x4000);
  await b.channelBind(ra, 0x4000);
  const relay: number[] = [];
  const direct: number[] = [];
  b.onData = (d) => {
    if (d.length >= 8) relay.push(Number(process.hrtime.bigint() - d.readBigUInt64BE(0)) / 1000);
  };
  const da = dgram.createSocket('udp4');
  const db = dgram.createSocket('udp4');
  await new Promise<void>((r) => da.bind(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => db.bind(0, '127.0.0.1', () => r()));
  db.on('message', (d) => direct.push(Number(process.hrtime.bigint() - d.readBigUInt64BE(0)) / 1000));
  const buf = Buffer.alloc(PAYLOAD);
  await new Promise<void>((done) => {
    let n = 0;
    const timer = setInterval(() => {
      buf.writeBigUInt64BE(process.hrtime.bigint(), 0);
      a.sendChannel(0x4000, buf);
      buf.writeBigUInt64BE(process.hrtime.bigint(), 0);
      da.send(buf, db.address().port, '127.0.0.1');
      if (++n >= seconds * PROBE_PPS) {
        clearInterval(timer);
        setTimeout(done, 300); // intent: a grace period for the last probes in flight
      }
    }, 1000 / PROBE_PPS);
  });
  for (const c of [a, b]) c.close();
  da.close();
  db.close();
  return { relay, direct };
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

let loadgenBin: string | undefined;

async function round(name: Name, clients: number, withProbe: boolean, profile = false, load: Load = LOAD): Promise<Round> {
  const server = await start(name, profile ? ['--cpu-prof', `--cpu-prof-dir=${OUT}`] : []);
  try {
    let r: Omit<Round, 'kernel'>;
    if (load === 'loadgen') r = await loadgenRound(server, clients, withProbe);
    else r = await uclientRound(server, clients, withProbe);
    // The kernel's counters are read by the relay every second: wait for the last read.
    const kernel = name === 'hush-offload' || name === 'hush-fwd' ? (await sleep(1500), (await server.metrics!()).kernelPackets) : undefined;
    return { ...r, kernel };
  } finally {
    await server.stop();
  }
}

/** One round under hush-loadgen; CPU counted from its first datagram sent to its last received. `withLoop`: read the relay's event-loop delay after. */
async function loadgenRound(server: Server, clients: number, withLoop: boolean): Promise<Omit<Round, 'kernel'>> {
  loadgenBin ??= buildLoadgen(OUT);
  const run = await startLoadgen({ bin: loadgenBin, host: '127.0.0.1', ports: server.ports, secret: SECRET, clients, msgs: MSGS_PER_CLIENT, pps: PPS, payload: PAYLOAD, senders: CORES });
  await run.sending;
  const cpu0 = cpuTimeUs(server.pid);
  const machine0 = machineBusyUs();
  const t0 = performance.now();
  await run.drained;
  const cpuUs = cpuTimeUs(server.pid) - cpu0;
  const machineUs = machineBusyUs() - machine0;
  const wallUs = (performance.now() - t0) * 1000;
  const m = withLoop && server.metrics ? await server.metrics() : undefined;
  const res: LoadgenResult = await run.done;
  const s = res.summary;
  return {
    clients,
    load: 'loadgen',
    sent: s.sent,
    received: s.received,
    generatorBound: res.generatorBound,
    late: res.late,
    loadUs: (s.cpu_user_s + s.cpu_sys_s) * 1e6,
    latency: { p50: s.p50_us, p99: s.p99_us, d50: s.direct_p50_us, d99: s.direct_p99_us },
    cpuUs,
    machineUs,
    wallUs,
    forwards: s.received * 2,
    loop: m ? { p99: m.loopP99! * 1e6, max: m.loopMax! * 1e6 } : undefined,
  };
}

/**
 * hush-loadgen alone at the rate of `clients` clients: as many direct flows (loopback, no server),
 * the same messages; its CPU and the machine's per message, counted as two forwards (a relayed message is).
 */
async function loadAloneRound(clients: number): Promise<Round> {
  loadgenBin ??= buildLoadgen(OUT);
  const run = await startLoadgen({ bin: loadgenBin, host: '127.0.0.1', ports: [], secret: SECRET, clients: 0, direct: clients, msgs: MSGS_PER_CLIENT, pps: PPS, payload: PAYLOAD, senders: CORES });
  await run.sending;
  const machine0 = machineBusyUs();
  const t0 = performance.now();
  await run.drained;
  const machineUs = machineBusyUs() - machine0;
  const wallUs = (performance.now() - t0) * 1000;
  const res = await run.done;
  const s = res.summary;
  return { clients, load: 'loadgen', sent: s.direct_sent, received: s.direct_received, generatorBound: res.generatorBound, late: res.late, loadUs: (s.cpu_user_s + s.cpu_sys_s) * 1e6, cpuUs: 0, machineUs, wallUs, forwards: s.direct_received * 2 };
}

/** One round under turnutils_uclient, CPU counted over the whole round (its connect phase included); `withProbe`: the Node latency probe runs inside it. */
async function uclientRound(server: Server, clients: number, withProbe: boolean): Promise<Omit<Round, 'kernel'>> {
  const cpu0 = cpuTimeUs(server.pid);
  const machine0 = machineBusyUs();
  const t0 = performance.now();
  const l = uclientLoad({ ports: server.ports, secret: SECRET, clients, msgs: MSGS_PER_CLIENT, pps: PPS, payload: PAYLOAD });
  let probe: Probe | undefined;
  if (withProbe) {
    // Every client sends from connect + 1..6 s until connect + 1 + MSGS/PPS s: probe inside that window.
    await l.connected;
    await sleep(6200); // intent: the probe runs inside the window in which every client sends
    probe = await runProbe(server.port, 4);
  }
  const m = withProbe && server.metrics ? await server.metrics() : undefined;
  const loop = m ? { p99: m.loopP99! * 1e6, max: m.loopMax! * 1e6 } : undefined;
  const result = await l.done;
  const cpuUs = cpuTimeUs(server.pid) - cpu0;
  const machineUs = machineBusyUs() - machine0;
  const wallUs = (performance.now() - t0) * 1000;
  return { clients, load: 'uclient', sent: result.sent, received: result.received, cpuUs, machineUs, forwards: result.received * 2, probe, loop, wallUs };
}

interface Memory {
  /** RSS delta from 20 to N + 20 allocations, per allocation: includes what the process grows once under a burst of Allocates. */
  rss: number;
  /** RSS delta from N + 20 to 2N + 20 allocations, per allocation: the marginal cost, once every one-off growth is behind. */
  rssMarginal: number;
  heap?: number;
  heapMarginal?: number;
}

/**
 * RSS per allocation, read twice: over the first N allocations after a warm-up of 20 (the row
 * this bench has always printed), and over N more. The first includes one-off growth that does
 * not scale with allocations: V8's young generation grows from 1 MB towards its 16 MB maximum
 * semi-space under the Allocates' garbage (measured: 15 MB, 7.6 KB "per allocation" at N = 2 000,
 * the same at any N; held at its maximum here, PINNED_YOUNG_GENERATION), malloc's arenas; the
 * second is the marginal cost.
 */
/**
 * hush-relay's young generation held at Node 20's largest size (16 MB per semi-space) for the
 * memory rows: where a relay carrying media sits anyway, and what keeps V8 from growing it
 * during one reading and shrinking it (the memory reducer, seconds after a burst) during the
 * next, which moved the marginal row by ±8 MB / N. Its one-off growth is then outside both rows.
 */
const PINNED_YOUNG_GENERATION = ['--min-semi-space-size=16', '--max-semi-space-size=16'];

/** The process's lowest RSS over `ms` (read every 250 ms): what a GC or trim let go meanwhile does not count. */
async function settledRss(pid: number, ms: number): Promise<number> {
  let low = rssBytes(pid);
  for (let t = 0; t < ms; t += 250) {
    await sleep(250); // intent: sample RSS over the settling window
    low = Math.min(low, rssBytes(pid));
  }
  return low;
}

async function memoryPerAllocation(name: Name): Promise<Memory> {
  const server = await start(name, name === 'coturn' ? [] : PINNED_YOUNG_GENERATION);
  const clients: TurnTestClient[] = [];
  const allocate = async (n: number, withChannel: boolean) => {
    for (let i = 0; i < n; i++) {
      const c = TurnTestClient.withSecret({ host: '127.0.0.1', port: server.port }, SECRET);
      await c.open();
      await c.allocate();
      // Each with a permission and a channel, as in a call.
      if (withChannel) await c.channelBind({ family: 4, address: '127.0.0.1', port: 40000 + (clients.length % 20000) }, 0x4000);
      clients.push(c);
    }
  };
  // hush-relay: the metrics scrape runs a full GC first (gc-before-memory.ts), so each reading
  // counts live memory, not the garbage of the Allocates just served; then RSS.
  const read = async () => {
    const heap = (await server.metrics?.())?.heapUsedBytes;
    return { heap, rss: await settledRss(server.pid, 3000) };
  };
  const per = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined ? (b - a) / MEM_ALLOCATIONS : undefined);
  try {
    // Warm up code paths with a few allocations first, so the delta is steady state.
    await allocate(20, false);
    const m0 = await read();
    await allocate(MEM_ALLOCATIONS, true);
    const m1 = await read();
    await allocate(MEM_ALLOCATIONS, true);
    const m2 = await read();
    return { rss: per(m0.rss, m1.rss)!, rssMarginal: per(m1.rss, m2.rss)!, heap: per(m0.heap, m1.heap), heapMarginal: per(m1.heap, m2.heap) };
  } finally {
    for (const c of clients) c.close();
    await server.stop();
  }
}

function summarizeProfile(): void {
  const files = readdirSync(OUT).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) return;
  // One profile per thread of the relay (its main thread, tsx's loader, TURN threads): the busiest one.
  const busy = (f: string) =>
    (JSON.parse(readFileSync(join(OUT, f), 'utf8')) as { nodes: Array<{ hitCount: number; callFrame: { functionName: string } }> }).nodes
      .filter((n) => n.callFrame.functionName !== '(idle)')
      .reduce((a, n) => a + n.hitCount, 0);
  const file = files.map((f) => ({ f, n: busy(f) })).sort((a, b) => b.n - a.n)[0]!.f;
  const prof = JSON.parse(readFileSync(join(OUT, file), 'utf8')) as {
    nodes: Array<{ id: number; hitCount: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  };
  const self = new Map<string, number>();
  let total = 0;
  for (const n of prof.nodes) {
    const where = n.callFrame.url ? n.callFrame.url.replace(/^.*\/(?=[^/]+\/[^/]+$)/, '') + ':' + (n.callFrame.lineNumber + 1) : '';
    const k = `${n.callFrame.functionName || '(anonymous)'} ${where}`.trim();
    self.set(k, (self.get(k) ?? 0) + n.hitCount);
    total += n.hitCount;
  }
  console.log(`\nhush-relay CPU profile (self time, ${file}):`);
  for (const [k, v] of [...self.entries()].sort((x, y) => y[1] - x[1]).slice(0, 18)) {
    console.log(`  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  }
}

const fmt = (n: number | undefined, d = 0) => (n === undefined || Number.isNaN(n) ? '—' : n.toFixed(d));
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || !b ? '—' : (a / b).toFixed(2));

/** Run this bench again inside a network namespace of its own (loopback only), so the offload column can attach XDP there. */
async function inNamespace(): Promise<boolean> {
  if (process.getuid?.() !== 0 || spawnSync('sh', ['-c', 'command -v ip && command -v make && command -v clang']).status !== 0) return false;
  execFileSync('make', ['-s', '-C', resolve(REPO_ROOT, 'relay-server/bpf')], { stdio: 'inherit' });
  const ns = `hush-relay-bench-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', TSX_LOADER, resolve(REPO_ROOT, 'bench/run.ts'), 'relay'], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
      env: { ...process.env, HUSH_BENCH_NETNS: ns },
    });
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    if (code !== 0) throw new Error(`the bench in namespace ${ns} exited with ${code}`);
  } finally {
    try {
      for (const p of execFileSync('ip', ['netns', 'pids', ns]).toString().trim().split(/\s+/).filter(Boolean)) process.kill(Number(p), 'SIGKILL');
    } catch {
      // gone
    }
    execFileSync('ip', ['netns', 'del', ns]);
  }
  return true;
}

const LABELS: Record<Name, string> = { hush: 'hush 1t', 'hush-all': `hush ${CORES}t`, 'hush-fwd': `fwd ${CORES}t`, 'hush-offload': 'offload', coturn: 'coturn' };
const RATIOS: Record<Name, string> = { hush: '1t/co', 'hush-all': 'all/co', 'hush-fwd': 'fwd/co', 'hush-offload': 'offl/co', coturn: '' };
const SHOWN = COLUMNS.filter((n) => n !== 'hush-offload' || NETNS);
const row = (label: string, f: (n: Name) => number | undefined, d = 0) =>
  console.log(
    `${label.padEnd(44)} ${SHOWN.map((n) => fmt(f(n), d).padStart(9)).join(' ')}   ` +
      SHOWN.filter((n) => n !== 'coturn').map((n) => ratio(f(n), f('coturn')).padStart(8)).join(' '),
  );
const header = () =>
  console.log(`\n${''.padEnd(44)} ${SHOWN.map((n) => LABELS[n].padStart(9)).join(' ')}   ` + SHOWN.filter((n) => n !== 'coturn').map((n) => RATIOS[n].padStart(8)).join(' '));

async function memoryAll(): Promise<Partial<Record<Name, Memory>>> {
  const mem: Partial<Record<Name, Memory>> = {};
  for (const name of NAMES) mem[name] = await memoryPerAllocation(name);
  return mem;
}

/** The memory rows; V8 heap for hush-relay only (its main thread's: a TURN thread's heap is its own). */
function memoryRows(mem: Partial<Record<Name, Memory>>): void {
  row(`memory per allocation, RSS bytes (20→${MEM_ALLOCATIONS})`, (n) => mem[n]?.rss);
  row(`memory per allocation, RSS bytes (marginal)`, (n) => mem[n]?.rssMarginal);
  const heap = (label: string, f: (m: Memory | undefined) => number | undefined) =>
    console.log(`${label.padEnd(44)} ${SHOWN.filter((n) => n !== 'coturn').map((n) => fmt(f(mem[n])).padStart(9)).join(' ')}`);
  heap(`memory per allocation, V8 heap (20→${MEM_ALLOCATIONS})`, (m) => m?.heap);
  heap(`memory per allocation, V8 heap (marginal)`, (m) => m?.heapMarginal);
}

const lostOf = (r: Round) => (r.sent > 0 ? r.sent - r.received : -1);
const line = (name: string, r: Round) =>
  `${String(r.clients).padStart(7)}  ${String(r.clients * PPS * 2).padStart(13)} | ${name.padEnd(20)} ${String(r.sent).padStart(8)} ${String(lostOf(r)).padStart(6)} ` +
  `${(r.cpuUs / 1e6).toFixed(2).padStart(6)}  ${fmt(r.cpuUs / Math.max(1, r.forwards), 2).padStart(6)}  ${fmt(r.machineUs / Math.max(1, r.forwards), 2).padStart(14)}  ` +
  `${fmt(r.loadUs === undefined ? undefined : r.loadUs / Math.max(1, r.forwards), 2).padStart(11)}  ` +
  `${r.latency ? `${fmt(r.latency.p50)}/${fmt(r.latency.p99)}`.padStart(13) : ''.padStart(13)}  ` +
  `${r.kernel === undefined ? ''.padStart(8) : fmt((100 * r.kernel) / Math.max(1, r.forwards), 1).padStart(8)}` +
  `${r.generatorBound ? `  GENERATOR-BOUND: ${r.generatorBound}` : ''}${r.late ? `  late: ${r.late}` : ''}`;

export async function run(): Promise<void> {
  for (const tool of ['turnserver', ...(LOAD === 'uclient' ? ['turnutils_uclient'] : [])]) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      console.log(`skipped: ${tool} not installed (apt-get install coturn)`);
      return;
    }
  }
  if (!NETNS && process.env.HUSH_BENCH_HOST !== '1' && (await inNamespace())) return;
  mkdirSync(OUT, { recursive: true });
  if (NAMES.includes('hush-fwd')) execFileSync('make', ['-s', '-C', resolve(REPO_ROOT, 'relay-server/native')], { stdio: 'inherit' });
  if (process.env.HUSH_BENCH_ONLY === 'memory') {
    console.log(`memory only (HUSH_BENCH_ONLY=memory): ${MEM_ALLOCATIONS} allocations and ${MEM_ALLOCATIONS} more, each with a permission and a channel; load average ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
    const mem = await memoryAll();
    header();
    memoryRows(mem);
    return;
  }
  console.log(
    LOAD === 'loadgen'
      ? `load: hush-loadgen (bench/loadgen/, the default): TURN pairs set up in Node, then ChannelData from one C process with sendmmsg/recvmmsg (${CORES} sending threads), ` +
          `${PPS} msgs/s per client each way, ${PAYLOAD}-byte payloads, ${MSGS_PER_CLIENT} msgs per client; CPU counted from its first datagram sent to its last received ` +
          `(HUSH_BENCH_LOAD=uclient: coturn's turnutils_uclient instead, which costs more CPU per datagram than the servers it loads)`
      : `load: turnutils_uclient -y -c (HUSH_BENCH_LOAD=uclient), ${PPS} msgs/s per client each way, ${PAYLOAD}-byte payloads, ${MSGS_PER_CLIENT} msgs per client; CPU counted over the whole round, connect phase included`,
  );
  console.log(`forwards/s = clients x ${PPS} x 2; servers restarted for every round, hush and coturn alternating`);
  console.log(`hush: ${NODE ? 'Node 24 (npm binary)' : `Node ${process.version}`}; hush-all: --threads 0 = ${CORES} TURN threads on this machine; hush-fwd: --forwarder on --threads 0 = ${CORES} native forwarder threads and one JavaScript thread`);
  console.log(NETNS ? `every server and the load in network namespace ${NETNS} (its loopback; hush-offload: XDP generic mode there)` : 'on the host loopback (no namespace: not root?): no offload column');
  console.log(`load average at the start: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  console.log('clients  offered fwd/s | server                   sent   lost  cpu-s  us/fwd  machine us/fwd  load us/fwd  p50/p99 us  fast path %');
  const best = Object.fromEntries(COLUMNS.map((n) => [n, 0])) as Record<Name, number>;
  const failed = Object.fromEntries(COLUMNS.map((n) => [n, !NAMES.includes(n)])) as Record<Name, boolean>;
  const rounds = Object.fromEntries(COLUMNS.map((n) => [n, [] as Round[]])) as Record<Name, Round[]>;
  const probeLevel = LEVELS[0]!;
  for (const clients of LEVELS) {
    // Alternate the order every level: on a shared, noisy machine no server always goes first.
    const order = LEVELS.indexOf(clients) % 2 === 0 ? NAMES : [...NAMES].reverse();
    for (const name of order) {
      if (failed[name]) continue;
      // With hush-loadgen the latency and event-loop figures come from the lightest level's own round.
      let r = await round(name, clients, LOAD === 'loadgen' && clients === probeLevel);
      if (r.generatorBound) {
        // The generator, not the server, missed the rate (on a shared machine, often a moment it was not scheduled): once more.
        console.log(line(name, r) + '  (once more)');
        r = await round(name, clients, LOAD === 'loadgen' && clients === probeLevel);
      }
      rounds[name].push(r);
      console.log(line(name, r));
      if (lostOf(r) === 0 && r.sent === clients * MSGS_PER_CLIENT && !r.generatorBound) best[name] = clients;
      else failed[name] = true;
    }
    if (NAMES.every((n) => failed[n])) break;
  }

  // CPU at the highest level every server passed (or the lowest level).
  const common = Math.max(LEVELS[0]!, Math.min(...NAMES.filter((n) => rounds[n].length > 0).map((n) => best[n] || LEVELS[0]!)));
  // Latency at the lightest level: at saturation this 2-core machine measures its scheduler, not the relay.
  const lat: Partial<Record<Name, { p50: number; p99: number; d50: number; d99: number; loopP99?: number; loopMax?: number }>> = {};
  for (const name of NAMES) {
    if (LOAD === 'loadgen') {
      const r = rounds[name].find((x) => x.clients === probeLevel);
      if (r?.latency) lat[name] = { ...r.latency, loopP99: r.loop?.p99, loopMax: r.loop?.max };
      continue;
    }
    const r = await round(name, probeLevel, true, name === 'hush' && process.env.HUSH_BENCH_PROFILE === '1');
    const p = r.probe!;
    lat[name] = { p50: pct(p.relay, 50), p99: pct(p.relay, 99), d50: pct(p.direct, 50), d99: pct(p.direct, 99), loopP99: r.loop?.p99, loopMax: r.loop?.max };
  }
  if (LOAD === 'loadgen' && process.env.HUSH_BENCH_PROFILE === '1') await round('hush', common, false, true);
  const atCommon = (name: Name) => rounds[name].find((x) => x.clients === common);
  const perForward = (name: Name, k: 'cpuUs' | 'machineUs' | 'loadUs') => {
    const r = atCommon(name);
    const v = r?.[k];
    return r && v !== undefined ? v / Math.max(1, r.forwards) : undefined;
  };

  const alone = LOAD === 'loadgen' ? await loadAloneRound(common) : undefined;

  // Cross-check: the same server at one level under both load clients (outside truth for hush-loadgen).
  const cross: Array<{ name: Name; uclient: Round; loadgen: Round }> = [];
  if (LOAD === 'loadgen' && process.env.HUSH_BENCH_CROSSCHECK !== '0' && spawnSync('sh', ['-c', 'command -v turnutils_uclient']).status === 0) {
    const level = QUICK ? LEVELS[0]! : CROSS_LEVEL;
    for (const name of (['coturn', 'hush-offload'] as Name[]).filter((n) => NAMES.includes(n))) {
      const uclient = await round(name, level, false, false, 'uclient');
      const loadgen = rounds[name].find((x) => x.clients === level) ?? (await round(name, level, false));
      cross.push({ name, uclient, loadgen });
    }
  }

  const mem = await memoryAll();

  const rate = (name: Name) => (best[name] ? best[name] * PPS * 2 : undefined);
  const added = (n: Name, k: 'p50' | 'p99') => (lat[n] ? lat[n]![k] - lat[n]![k === 'p50' ? 'd50' : 'd99'] : undefined);
  header();
  row('datagrams relayed/s at 0% loss', rate);
  row(`CPU us/datagram, whole machine (${common} cl.)`, (n) => perForward(n, 'machineUs'), 2);
  row(`CPU us/datagram, server process (${common} cl.)`, (n) => perForward(n, 'cpuUs'), 2);
  if (LOAD === 'loadgen') {
    row(`CPU us/datagram, load generator (${common} cl.)`, (n) => perForward(n, 'loadUs'), 2);
    row(`CPU us/datagram, server + load generator`, (n) => (perForward(n, 'cpuUs') ?? NaN) + (perForward(n, 'loadUs') ?? NaN), 2);
    if (alone) row(`CPU us/datagram, whole machine minus load alone`, (n) => (perForward(n, 'machineUs') ?? NaN) - alone.machineUs / Math.max(1, alone.forwards), 2);
  }
  // The common level above is set by the weakest column (often hush 1t): a fast path's fixed costs and the
  // load generator's share weigh most there. Each column against coturn at the highest level both passed too.
  const pairwise = (k: 'machineUs' | 'cpuUs') =>
    NAMES.filter((n) => n !== 'coturn' && NAMES.includes('coturn'))
      .map((n) => {
        const level = Math.max(LEVELS[0]!, Math.min(best[n] || LEVELS[0]!, best.coturn || LEVELS[0]!));
        const mine = rounds[n].find((x) => x.clients === level);
        const theirs = rounds.coturn.find((x) => x.clients === level);
        if (!mine || !theirs) return `${LABELS[n]} —`;
        const a = mine[k] / Math.max(1, mine.forwards);
        const b = theirs[k] / Math.max(1, theirs.forwards);
        return `${LABELS[n]} ${fmt(a, 2)}/${fmt(b, 2)} = ${ratio(a, b)} (${level} cl.)`;
      })
      .join(', ');
  console.log(`CPU us/datagram vs coturn's at the highest level both passed, whole machine: ${pairwise('machineUs')}`);
  console.log(`CPU us/datagram vs coturn's at the highest level both passed, server process: ${pairwise('cpuUs')}`);
  row(`p50 added latency us (${probeLevel} cl.)`, (n) => added(n, 'p50'));
  row(`p99 added latency us (${probeLevel} cl.)`, (n) => added(n, 'p99'));
  row(`event-loop delay p99 us, main thread (${probeLevel} cl.)`, (n) => lat[n]?.loopP99);
  row(`event-loop delay max us, main thread (${probeLevel} cl.)`, (n) => lat[n]?.loopMax);
  memoryRows(mem);
  console.log('what bounded each column:');
  for (const n of NAMES) {
    const rs = rounds[n];
    const stop = rs.find((r) => r.clients > best[n] || lostOf(r) !== 0 || r.generatorBound);
    if (!stop) {
      if (rs.length > 0) console.log(`  ${n}: no loss up to the highest level, ${rs[rs.length - 1]!.clients} clients: the levels offered bound it (a lower bound)`);
      continue;
    }
    const busy = `over the load its process used ${fmt((100 * stop.cpuUs) / stop.wallUs, 0)} % of a core, the machine ${fmt((100 * stop.machineUs) / stop.wallUs / CORES, 0)} % of all ${CORES}` +
      (stop.loadUs !== undefined ? `, the load generator ${fmt((100 * stop.loadUs) / stop.wallUs, 0)} % of a core` : '');
    const lateLevels = rs.filter((r) => r !== stop && r.late).map((r) => r.clients);
    if (lateLevels.length) console.log(`  ${n}: passed ${lateLevels.join(', ')} clients while the load generator ran late in bursts (not scheduled on time): those loads were burstier than offered`);
    if (stop.generatorBound) console.log(`  ${n}: GENERATOR-BOUND at ${stop.clients} clients (${stop.generatorBound}; ${lostOf(stop)} of ${stop.sent} lost): the load generator could not keep the offered rate, so the rate is a lower bound; ${busy}`);
    else if (stop.late) console.log(`  ${n}: first loss at ${stop.clients} clients: ${lostOf(stop)} of ${stop.sent} lost, while the load generator itself ran late (${stop.late}): the machine's CPU bounded both; ${busy}`);
    else console.log(`  ${n}: first loss at ${stop.clients} clients: ${lostOf(stop)} of ${stop.sent} lost; ${busy}`);
  }
  if (alone) {
    console.log(
      `  (load alone: hush-loadgen with ${alone.clients} direct flows and no server, the same messages: the machine ${fmt(alone.machineUs / Math.max(1, alone.forwards), 2)} us, ` +
        `the generator ${fmt(alone.loadUs! / Math.max(1, alone.forwards), 2)} us per message-half (a relayed message is two forwards); ${lostOf(alone)} of ${alone.sent} lost${alone.generatorBound ? `; ${alone.generatorBound}` : ''}${alone.late ? `; ${alone.late}` : ''})`,
    );
  }
  if (LOAD === 'loadgen') {
    console.log(`  (latency: hush-loadgen's one-way p50/p99 over all relayed messages minus the same of its direct flows (loopback, not relayed), in the ${probeLevel}-client round)`);
  }
  console.log(
    `  (one-way through relay p50/p99 us: ${NAMES.map((n) => `${n} ${fmt(lat[n]?.p50)}/${fmt(lat[n]?.p99)}`).join(', ')}; direct loopback ${NAMES.map((n) => `${fmt(lat[n]?.d50)}/${fmt(lat[n]?.d99)}`).join(', ')})`,
  );
  console.log(
    `  (whole-machine CPU includes the load client's; "offload": hush-relay --threads 1 --offload on, its process CPU includes its helper; ` +
      `memory: RSS delta over ${MEM_ALLOCATIONS} allocations, then over ${MEM_ALLOCATIONS} more (marginal), each with a permission and a channel)`,
  );
  if (cross.length > 0) {
    console.log(`\ncross-check, the same server under both load clients (${cross[0]!.loadgen.clients} clients, ${cross[0]!.loadgen.clients * PPS * 2} forwards/s offered; uclient's CPU over its whole round, connect phase included):`);
    for (const c of cross) {
      for (const [label, r] of [['turnutils_uclient', c.uclient], ['hush-loadgen', c.loadgen]] as Array<[string, Round]>) {
        console.log(
          `  ${c.name.padEnd(12)} ${label.padEnd(17)} sent ${String(r.sent).padStart(7)}, lost ${String(lostOf(r)).padStart(5)}, forwards ${String(r.forwards).padStart(7)}, ` +
            `machine ${fmt(r.machineUs / Math.max(1, r.forwards), 2)} us/fwd, server ${fmt(r.cpuUs / Math.max(1, r.forwards), 2)} us/fwd` +
            (r.kernel !== undefined ? `, kernel ${fmt((100 * r.kernel) / Math.max(1, r.forwards), 1)} %` : ''),
        );
      }
    }
  }
  console.log(`load average at the end: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  if (process.env.HUSH_BENCH_PROFILE === '1') summarizeProfile();
  else rmSync(OUT, { recursive: true, force: true });
}
