/**
 * `npm run bench -- hot-path`: the userspace relay's per-datagram cost, old
 * against new in one run (issue 16). Measures that hold on a shared, noisy
 * machine come first:
 *
 *  - V8 heap bytes allocated per relayed datagram: the relay runs in a child
 *    process (bench/hot-path/child.ts, `--threads 1`) with a young generation
 *    large enough that no GC runs over the window (checked: the round says
 *    so if one did), so the heap's growth is what the datagrams allocated;
 *    garbage per datagram is what drives scavenges, and with Node's one
 *    ArrayBuffer per received datagram, their array-buffer sweeps;
 *  - scavenges over a longer window with V8's default young generation;
 *  - the relay process's CPU per datagram (user and total) and the load's
 *    one-way p50/p99, which depend on the machine's other work: compare
 *    columns of one run, rounds alternated;
 *  - the UDP 5-tuple lookup alone (AllocationTable.findUdp), old and new
 *    tables in this process, with 200-3 000 clients on one port.
 *
 * The baseline is another commit's relay-server (HUSH_HOT_BASE, default
 * HEAD), exported with `git archive` into a temporary directory.
 * HUSH_HOT_ROUNDS (default 3), HUSH_HOT_CLIENTS (default 200).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildLoadgen } from './loadgen/build';

const REPO = resolve(import.meta.dirname, '..');
const CHILD = resolve(import.meta.dirname, 'hot-path/child.ts');

interface Sample {
  relayed: number;
  bytesPerDatagram: number;
  gcs: number;
  gcMs: number;
  gcMaxMs: number;
  cpuUsPerDatagram: number;
  userUsPerDatagram: number;
  sent: number;
  lost: number;
  p50: number;
  p99: number;
}

function child(relayUrl: string, bin: string, clients: number, msgs: number, nodeArgs: string[]): Promise<Sample> {
  return new Promise((ok, fail) => {
    const p = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', CHILD, relayUrl, bin, String(clients), String(msgs)], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.once('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) return fail(new Error(`hot-path child exited ${code}: ${out}`));
      ok(JSON.parse(line) as Sample);
    });
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type TableModule = typeof import('../relay-server/src/turn/allocation-table');
type AllocationModule = typeof import('../relay-server/src/turn/allocation');

/**
 * The UDP 5-tuple lookup alone, old table against new in this process: `n`
 * clients on one port (as hush-loadgen's), each its own address, found with a
 * fresh address string per lookup (as `rinfo.address` is). ns per lookup, the
 * best of three alternated passes.
 */
async function lookups(oldRoot: string, n: number): Promise<{ old: number; new: number }> {
  const load = async (root: string) => ({
    T: ((await import(pathToFileURL(join(root, 'relay-server/src/turn/allocation-table.ts')).href)) as TableModule).AllocationTable,
    A: ((await import(pathToFileURL(join(root, 'relay-server/src/turn/allocation.ts')).href)) as AllocationModule).Allocation,
  });
  const make = ({ T, A }: Awaited<ReturnType<typeof load>>) => {
    const t = new T();
    for (let i = 0; i < n; i++) {
      const tuple = { transport: 'udp' as const, listener: 0, conn: 0, family: 4 as const, address: `127.20.${i >> 8}.${i & 255}`, port: 20000 };
      // The constructor lost its transaction-id argument (issue 16, memory): an older commit's takes 8.
      const last = A.length >= 8 ? ['tx', new Uint8Array(0)] : [new Uint8Array(20)];
      t.add(new (A as unknown as new (...args: unknown[]) => InstanceType<typeof A>)(i, tuple, `u${i}`, new Uint8Array(16), { family: 4, address: '127.0.0.1', port: 50000 + i }, 1e15, ...last));
    }
    return t;
  };
  const tables = { old: make(await load(oldRoot)), new: make(await load(REPO)) };
  const parts = Array.from({ length: 4096 }, (_, k) => (k * 7919) % n).map((i) => ['127', '20', String(i >> 8), String(i & 255)]);
  const best = { old: Infinity, new: Infinity };
  for (let pass = 0; pass < 3; pass++) {
    for (const name of pass % 2 ? (['new', 'old'] as const) : (['old', 'new'] as const)) {
      const t = tables[name];
      const N = 200_000;
      let found = 0;
      const t0 = process.hrtime.bigint();
      for (let j = 0; j < N; j++) if (t.findUdp(0, parts[j & 4095]!.join('.'), 20000)) found++;
      const ns = Number(process.hrtime.bigint() - t0) / N;
      if (found !== N) throw new Error(`the ${name} table missed ${N - found} lookups`);
      best[name] = Math.min(best[name], ns);
    }
  }
  return best;
}

export async function run(): Promise<void> {
  const base = process.env.HUSH_HOT_BASE ?? 'HEAD';
  const rounds = Number(process.env.HUSH_HOT_ROUNDS ?? 3);
  const clients = Number(process.env.HUSH_HOT_CLIENTS ?? 200);
  const dir = mkdtempSync(join(tmpdir(), 'hush-hot-'));
  try {
    execFileSync('sh', ['-c', 'git archive "$1" relay-server lib package.json tsconfig.json | tar -x -C "$2"', 'sh', base, dir], { cwd: REPO, stdio: 'inherit' });
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
    const bin = buildLoadgen(join(dir, 'out'));
    const relays = {
      [`old (${base})`]: pathToFileURL(join(dir, 'relay-server/src/relay.ts')).href,
      new: pathToFileURL(join(REPO, 'relay-server/src/relay.ts')).href,
    };
    const alloc: Record<string, Sample[]> = {};
    const steady: Record<string, Sample[]> = {};
    for (let r = 0; r < rounds; r++) {
      const names = Object.keys(relays);
      if (r % 2 === 1) names.reverse();
      for (const name of names) {
        // 60 000 datagrams (150 messages each for 200 clients): under V8's external-memory trigger with a 256 MB young generation.
        (alloc[name] ??= []).push(await child(relays[name]!, bin, clients, Math.max(20, Math.round(30_000 / clients)), ['--max-semi-space-size=256', '--min-semi-space-size=256']));
        (steady[name] ??= []).push(await child(relays[name]!, bin, clients, 500, []));
      }
    }
    const row = (label: string, f: (n: string) => number, digits = 2): void => {
      const [a, b] = Object.keys(relays).map(f);
      console.log(`${label.padEnd(52)}${a!.toFixed(digits).padStart(12)}${b!.toFixed(digits).padStart(12)}${(b! / a!).toFixed(2).padStart(10)}`);
    };
    console.log(`${clients} clients, 50 msgs/s each way, 160-byte payloads, --threads 1; medians of ${rounds} rounds`);
    console.log(`${''.padEnd(52)}${Object.keys(relays)[0]!.padStart(12)}${'new'.padStart(12)}${'new/old'.padStart(10)}`);
    row('V8 heap bytes allocated per relayed datagram', (n) => median(alloc[n]!.map((s) => s.bytesPerDatagram)), 1);
    row('  GCs inside that window (should be 0)', (n) => Math.max(...alloc[n]!.map((s) => s.gcs)), 0);
    row('scavenges per 100 000 datagrams (default young gen)', (n) => median(steady[n]!.map((s) => (1e5 * s.gcs) / s.relayed)));
    row('GC pause ms per 100 000 datagrams', (n) => median(steady[n]!.map((s) => (1e5 * s.gcMs) / s.relayed)));
    row('relay process user CPU us per datagram', (n) => median(steady[n]!.map((s) => s.userUsPerDatagram)));
    row('relay process CPU us per datagram (user+sys)', (n) => median(steady[n]!.map((s) => s.cpuUsPerDatagram)));
    row('one-way p50 us through the relay', (n) => median(steady[n]!.map((s) => s.p50)), 0);
    row('one-way p99 us through the relay', (n) => median(steady[n]!.map((s) => s.p99)), 0);
    for (const n of Object.keys(relays)) console.log(`  p99 per round, ${n}: ${steady[n]!.map((x) => x.p99.toFixed(0)).join(', ')} us`);
    row('messages lost (sum)', (n) => steady[n]!.reduce((x, s) => x + s.lost, 0) + alloc[n]!.reduce((x, s) => x + s.lost, 0), 0);
    for (const n of [200, 800, 3000]) {
      const l = await lookups(dir, n);
      console.log(`${`UDP 5-tuple lookup ns, ${n} clients on one port`.padEnd(52)}${l.old.toFixed(0).padStart(12)}${l.new.toFixed(0).padStart(12)}${(l.new / l.old).toFixed(2).padStart(10)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
