/**
 * Issue 15, TURN part: how many allocations one client can take, before and
 * after TURN credentials were tied to signalling connections, in the same
 * run. The baseline is the relay as it was before (HUSH_BENCH_TURN_BASE, a
 * git revision, default 49bf39e: the commit this work started from),
 * extracted with `git archive` into a temporary directory and started from
 * there; the current relay is this checkout's. Both get the same flags
 * (defaults plus --total-quota 400 to stay clear of open-file limits and
 * --allow-peer for loopback). Two clients, on real sockets:
 *
 *  - one connection: signs in once, allocates with its credential until
 *    refused, then asks the same connection for credentials again
 *    (`{"t":"turn"}`) and goes on while a new username gets more;
 *  - one source: the same through as many signalling connections as the
 *    relay lets one address hold (--max-signal-per-ip, default 64).
 *
 * Counts, not speed: a count printed per relay and the ratio after/before.
 *
 *   npm run bench -- turn-share
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identityFromSeed } from '../lib/crypto/identity';
import { Attr, Class, Method } from '../relay-server/src/stun/constants';
import { REPO_ROOT, startRelayProcess, type RelayProcess } from '../tests/harness/relay';
import { SignalTestClient } from '../tests/harness/signal-client';
import { TurnTestClient } from '../tests/harness/turn-client';

const BASE = process.env.HUSH_BENCH_TURN_BASE ?? '49bf39e';
const SECRET = 'turn-share-bench-secret';
const TOTAL = 400;
const CONNECTIONS = 64;
const UDP = new Uint8Array([17, 0, 0, 0]);

interface Turn {
  username: string;
  credential: string;
}

let seed = 1;

async function signIn(relay: RelayProcess, open: SignalTestClient[]): Promise<{ sig: SignalTestClient; turn: Turn } | undefined> {
  const sig = await SignalTestClient.connect(relay.signalUrl).catch(() => undefined);
  if (!sig) return undefined;
  open.push(sig);
  const ready = await sig.auth(identityFromSeed(new Uint8Array(32).fill(seed++ % 250)));
  return ready.t === 'ready' ? { sig, turn: ready.turn as Turn } : undefined;
}

/** Allocations made with `turn` until one is refused (each on its own UDP socket). */
async function allocateAll(relay: RelayProcess, turn: Turn, clients: TurnTestClient[]): Promise<number> {
  let made = 0;
  for (;;) {
    const c = new TurnTestClient({ host: '127.0.0.1', port: relay.turnPort }, turn.username, turn.credential);
    clients.push(c);
    await c.open();
    const a = await c.authed(Method.Allocate, [[Attr.RequestedTransport, UDP]]);
    if (!a || a.cls !== Class.Success) return made;
    made++;
  }
}

/** One connection: its credential, then asking again on the same connection while that yields more. */
async function oneConnection(relay: RelayProcess): Promise<{ allocations: number; usernames: number }> {
  const open: SignalTestClient[] = [];
  const clients: TurnTestClient[] = [];
  try {
    const s = await signIn(relay, open);
    if (!s) throw new Error('could not sign in');
    const names = new Set<string>();
    let turn = s.turn;
    let total = 0;
    for (let i = 0; i < TOTAL + 10; i++) {
      names.add(turn.username);
      const made = await allocateAll(relay, turn, clients);
      total += made;
      s.sig.send({ t: 'turn', id: i });
      const next = (await s.sig.next((f) => f.t === 'turn' && f.id === i)).turn as Turn;
      if (made === 0 && names.has(next.username)) break;
      turn = next;
    }
    return { allocations: total, usernames: names.size };
  } finally {
    for (const c of clients) c.close();
    for (const o of open) o.ws.terminate();
  }
}

/** One source address: as many connections as the relay lets it hold, each allocating until refused. */
async function oneSource(relay: RelayProcess): Promise<{ allocations: number; connections: number }> {
  const open: SignalTestClient[] = [];
  const clients: TurnTestClient[] = [];
  try {
    let total = 0;
    let connections = 0;
    for (let k = 0; k < CONNECTIONS; k++) {
      const s = await signIn(relay, open);
      if (!s) break;
      connections++;
      total += await allocateAll(relay, s.turn, clients);
    }
    return { allocations: total, connections };
  } finally {
    for (const c of clients) c.close();
    for (const o of open) o.ws.terminate();
  }
}

/** The relay at git revision `rev`, extracted beside this checkout's node_modules. */
function checkoutOf(rev: string): { cli: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hush-turn-base-'));
  execFileSync('sh', ['-c', `git -C "${REPO_ROOT}" archive ${rev} relay-server lib | tar -x -C "${dir}"`]);
  copyFileSync(join(REPO_ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  return { cli: join(dir, 'relay-server/src/cli.ts'), dir };
}

async function measure(name: string, cli: string | undefined): Promise<{ one: number; source: number }> {
  const flags = ['--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8', '--total-quota', String(TOTAL)];
  // A fresh relay per scenario: the first one's allocations would fill the second's quota.
  const r1 = await startRelayProcess(flags, { cli, timeoutMs: 60_000 });
  const one = await oneConnection(r1).finally(() => r1.stop());
  const r2 = await startRelayProcess(flags, { cli, timeoutMs: 60_000 });
  const source = await oneSource(r2).finally(() => r2.stop());
  console.log(`${name}: one connection took ${one.allocations} allocations with ${one.usernames} username(s); one address took ${source.allocations} through ${source.connections} connections (total quota ${TOTAL})`);
  return { one: one.allocations, source: source.allocations };
}

export async function run(): Promise<void> {
  const base = checkoutOf(BASE);
  try {
    const before = await measure(`before (${BASE})`, base.cli);
    const after = await measure('after (this checkout)', undefined);
    console.log(`ratio after/before: one connection ${(after.one / before.one).toFixed(3)}, one address ${(after.source / before.source).toFixed(3)}`);
  } finally {
    rmSync(base.dir, { recursive: true, force: true });
  }
}
