/**
 * `npm run bench -- offload`: hush-relay with the kernel fast path
 * (`--offload on`, XDP) against the same relay in userspace, in one run,
 * alternating rounds, each relay started fresh for its round. Both run in a
 * network namespace the bench creates (the XDP program attaches to that
 * namespace's loopback, in generic mode: the only mode loopback has), with
 * the load client, coturn's turnutils_uclient, in the same namespace.
 *
 * Load as in `bench -- relay`: client-to-client (-y), channels (-c), 50
 * messages/s per client each way (-z 20), 160-byte payloads; each message is
 * relayed twice (client A -> B's relayed address -> client B), so
 * datagrams/s = clients x 50 x 2 when none is lost.
 *
 * Printed per path and as the ratio offload/userspace:
 *   - datagrams/s at 0 % loss (the highest level with no loss; the load
 *     client, on the same 2 cores, bounds it as much as the relay does);
 *   - whole-machine CPU µs per relayed datagram: busy time from /proc/stat
 *     over the round (every process and softirq, the load client included:
 *     with offload the kernel does the work in softirq or in the sender's
 *     context, which the relay's own CPU time does not show), divided by the
 *     datagrams relayed, at the highest level both paths passed;
 *   - the relay process's own CPU µs per datagram (with offload: the relay
 *     and its helper), for contrast;
 *   - the share of datagrams the kernel relayed (its counters in /metrics).
 * HUSH_BENCH_QUICK=1 runs fewer levels. The machine is shared: read ratios,
 * not absolute figures.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { METRICS_TOKEN, REPO_ROOT, startRelayProcess } from '../tests/harness/relay';
import { uclientCounts, type UclientResult } from '../tests/harness/uclient';

const SECRET = 'bench-offload-secret-0123456789';
const PPS = 50;
const PAYLOAD = 160;
const MSGS_PER_CLIENT = Number(process.env.HUSH_BENCH_MSGS ?? 500);
const QUICK = process.env.HUSH_BENCH_QUICK === '1';
const LEVELS = QUICK ? [200, 600] : [200, 400, 800, 1200, 1600];
const CLIENTS_PER_PROCESS = 50;
const NS = `hush-xdp-bench-${process.pid}`;
const CLK_TCK = 100;

type Path = 'userspace' | 'offload';

interface Round {
  path: Path;
  clients: number;
  result: UclientResult;
  forwards: number;
  machineUs: number;
  relayUs: number;
  kernelShare: number;
}

/** Busy and total jiffies of the whole machine (the "cpu" line of /proc/stat). */
function machineJiffies(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f as [number, number, number, number, number, number, number, number];
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** utime + stime of a process and its children that were waited for (clock ticks), in µs. */
function processUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK;
  } catch {
    return 0;
  }
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function load(clients: number): Promise<UclientResult> {
  const runs: Array<Promise<UclientResult>> = [];
  for (let i = 0, left = clients; left > 0; i++, left -= CLIENTS_PER_PROCESS) {
    const m = Math.min(CLIENTS_PER_PROCESS, left);
    const args = ['netns', 'exec', NS, 'turnutils_uclient', '-y', '-c', '-W', SECRET, '-u', `bench${i}`, '-m', String(m), '-n', String(MSGS_PER_CLIENT), '-z', String(1000 / PPS), '-l', String(PAYLOAD), '-p', '3478', '127.0.0.1'];
    runs.push(
      new Promise((resolve) => {
        const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
        child.on('exit', (code) => {
          clearTimeout(timer);
          resolve({
            code,
            ...uclientCounts(out),
            errors: [],
            output: out,
          });
        });
      }),
    );
  }
  return Promise.all(runs).then((rs) => ({
    code: rs.every((r) => r.code === 0) ? 0 : 1,
    sent: rs.reduce((a, r) => a + Math.max(0, r.sent), 0),
    received: rs.reduce((a, r) => a + Math.max(0, r.received), 0),
    lost: rs.reduce((a, r) => a + Math.max(0, r.lost), 0),
    errors: [],
    output: rs.map((r) => r.output).join('\n'),
  }));
}

function metric(text: string, name: string): number {
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
}

function scrape(): string {
  const script = `fetch('http://127.0.0.1:8080/metrics',{headers:{authorization:'Bearer ${METRICS_TOKEN}'}}).then(r=>r.text()).then(t=>process.stdout.write(t))`;
  return execFileSync('ip', ['netns', 'exec', NS, process.execPath, '-e', script]).toString();
}

async function round(path: Path, clients: number): Promise<Round> {
  const relay = await startRelayProcess(
    ['--port', '3478', '--signal-port', '8080', '--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8', '--user-quota', '100000', '--source-quota', '100000', '--total-quota', '100000', '--unauth-rate', '100000', '--offload', path === 'offload' ? 'on' : 'off'],
    { netns: NS, timeoutMs: 60_000 },
  );
  try {
    if (path === 'offload' && !/^datapath: kernel XDP/m.test(relay.output())) throw new Error(`offload not in use:\n${relay.output()}`);
    const helper = childPids(relay.pid);
    const own0 = processUs(relay.pid) + helper.reduce((a, p) => a + processUs(p), 0);
    const m0 = machineJiffies();
    const result = await load(clients);
    const m1 = machineJiffies();
    const own1 = processUs(relay.pid) + helper.reduce((a, p) => a + processUs(p), 0);
    // The kernel's counters are read once a second: wait for the last read to cover the round.
    await new Promise((r) => setTimeout(r, 1500)); // intent: one counter poll after the load ended
    const text = scrape();
    const forwards = result.received * 2;
    const kernel = metric(text, 'hush_relay_offload_packets_total');
    return {
      path,
      clients,
      result,
      forwards,
      machineUs: ((m1.busy - m0.busy) * 1e6) / CLK_TCK,
      relayUs: own1 - own0,
      kernelShare: forwards > 0 ? kernel / forwards : 0,
    };
  } finally {
    await relay.stop();
  }
}

export async function run(): Promise<void> {
  execFileSync('make', ['-s', '-C', resolve(REPO_ROOT, 'relay-server/bpf')], { stdio: 'inherit' });
  execFileSync('ip', ['netns', 'add', NS]);
  try {
    execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    console.log(`load: turnutils_uclient -y -c, ${PPS} msgs/s per client each way, ${PAYLOAD}-byte payloads, ${MSGS_PER_CLIENT} msgs per client; levels ${LEVELS.join(', ')} clients; relay and load in network namespace ${NS}, XDP generic mode on its loopback`);
    const rounds: Round[] = [];
    for (const clients of LEVELS) {
      for (const path of ['userspace', 'offload'] as Path[]) {
        const r = await round(path, clients);
        rounds.push(r);
        const loss = r.result.sent > 0 ? (100 * r.result.lost) / r.result.sent : 100;
        console.log(
          `  ${path.padEnd(9)} ${String(clients).padStart(5)} clients: sent ${r.result.sent}, lost ${r.result.lost} (${loss.toFixed(2)} %), ` +
            `machine ${(r.machineUs / Math.max(1, r.forwards)).toFixed(1)} µs/datagram, relay process ${(r.relayUs / Math.max(1, r.forwards)).toFixed(1)} µs/datagram, kernel relayed ${(100 * r.kernelShare).toFixed(1)} %`,
        );
      }
    }
    const passed = (p: Path) => rounds.filter((r) => r.path === p && r.result.lost === 0 && r.result.sent > 0 && r.result.received === r.result.sent);
    const best = (p: Path) => Math.max(0, ...passed(p).map((r) => r.clients));
    // CPU is compared at the highest level both passed; if one passed none, at the lowest level (with its loss).
    const both = Math.min(best('userspace'), best('offload')) || LEVELS[0]!;
    const at = (p: Path) => rounds.find((r) => r.path === p && r.clients === both);
    const rate = (p: Path) => best(p) * PPS * 2;
    const rateText = (p: Path) => (best(p) > 0 ? String(rate(p)) : `< ${LEVELS[0]! * PPS * 2}`);
    const machine = (p: Path) => {
      const r = at(p);
      return r ? r.machineUs / r.forwards : NaN;
    };
    const own = (p: Path) => {
      const r = at(p);
      return r ? r.relayUs / r.forwards : NaN;
    };
    console.log('\n  path        datagrams/s at 0% loss   machine CPU µs/datagram   relay process µs/datagram   (CPU at ' + both + ' clients)');
    for (const p of ['userspace', 'offload'] as Path[]) {
      console.log(`  ${p.padEnd(10)}  ${rateText(p).padStart(20)}   ${machine(p).toFixed(1).padStart(23)}   ${own(p).toFixed(1).padStart(25)}`);
    }
    console.log(
      `  ratio offload/userspace: rate ${best('userspace') > 0 ? (rate('offload') / rate('userspace')).toFixed(2) + 'x' : 'n/a (userspace lost datagrams at every level)'}, machine CPU per datagram ${(machine('offload') / machine('userspace')).toFixed(2)}x, relay process CPU per datagram ${(own('offload') / own('userspace')).toFixed(2)}x`,
    );
    if (best('offload') === LEVELS[LEVELS.length - 1]) console.log('  offload passed the highest level: its rate is a lower bound (the load client is the limit)');
  } finally {
    try {
      for (const p of execFileSync('ip', ['netns', 'pids', NS]).toString().trim().split(/\s+/).filter(Boolean)) process.kill(Number(p), 'SIGKILL');
    } catch {
      // gone
    }
    execFileSync('ip', ['netns', 'del', NS]);
  }
}
