/**
 * A TURN/STUN relay inside the lab's internet namespace, at the lab's relay
 * address (203.0.113.10): either the real hush-relay CLI (the default) or
 * Debian's coturn `turnserver`, the outside reference. Both use the coturn
 * shared-secret credential scheme (username "expiry:id", password
 * base64(HMAC-SHA1(secret, username))), computed here independently of the
 * relay's own code.
 *
 * The process is the lab's child (lab.spawnIn): destroying the lab kills it.
 *
 * Peer policy: hush-relay denies private ranges unless allowed; the lab's
 * public side 203.0.113.0/24 is not in its deny table, so by default the
 * relay is used exactly as deployed (relaying to the LANs' 10.200.x host
 * candidates is refused). `allowLanPeers` adds `--allow-peer 10.200.0.0/16`.
 * coturn allows private peers by default; it gets the same deny for
 * 10.0.0.0/8 unless `allowLanPeers`, so both relays see the same policy.
 */
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { METRICS_AUTH, parsePrometheus } from '../harness/metrics';
import { REPO_ROOT, relayCommand } from '../harness/relay';
import type { Lab } from './netns';
import { waitFor } from '../harness/wait';

export type RelayKind = 'hush' | 'coturn';

export interface LabRelayOptions {
  /** Which server to run (default: $HUSH_LAB_RELAY, else 'hush'). */
  kind?: RelayKind;
  /** TURN shared secret (default: random). */
  secret?: string;
  /** Let the relay send to the LANs' private addresses (default false, as deployed). */
  allowLanPeers?: boolean;
  /** Extra server flags. */
  args?: string[];
  /** How long to wait for the server to listen (default 30 s). */
  timeoutMs?: number;
  /**
   * Its address on the internet bridge (default the lab's relay, 203.0.113.10). Another address
   * (the lab's relay2, 203.0.113.11) is added to br0 first: a second relay "machine" (issue 15).
   */
  ip?: string;
  /** TURN realm (default "hush"). */
  realm?: string;
  /**
   * hush-relay only: `--offload on` (issue 16), the kernel fast path on br0 (generic XDP: a bridge
   * has no native mode). Builds relay-server/bpf first (make, a no-op when built).
   */
  offload?: boolean;
  /**
   * hush-relay only: `--forwarder on` (issue 16), the native forwarder's C threads relay
   * ChannelData over UDP. Builds relay-server/native first (make, a no-op when built).
   */
  forwarder?: boolean;
}

export interface TurnCredentials {
  username: string;
  credential: string;
}

export interface IceServerChoice {
  /** stun: URL (default true). */
  stun?: boolean;
  /** turn: over UDP (default true). */
  udp?: boolean;
  /** turn: over TCP (default true). */
  tcp?: boolean;
  /** Username id part (default "lab"). */
  id?: string;
}

export interface LabRelay {
  kind: RelayKind;
  ip: string;
  /** STUN/TURN port, UDP and TCP. */
  port: number;
  /** hush-relay's second, STUN-only port for telling a symmetric NAT (null for coturn). */
  altPort: number | null;
  /** hush-relay's signalling WebSocket (null for coturn). */
  signalUrl: string | null;
  secret: string;
  realm: string;
  credentials(id?: string, ttlSec?: number): TurnCredentials;
  /** RTCIceServer[] for this relay (plain objects, JSON-safe for page.evaluate). */
  iceServers(choice?: IceServerChoice): Array<{ urls: string | string[]; username?: string; credential?: string }>;
  output(): string;
  /** null while running; else how it ended ("exit 1", "signal SIGSEGV"). */
  exited(): string | null;
  /** For diagnosing a hung relay: "pid 123, state R, cpu 12.3 s" (a spinning loop shows as state R and growing cpu). */
  cpu(): string;
  stop(): Promise<void>;
  /** hush-relay's /metrics, read from inside the internet namespace (harness/metrics.ts's form: sample -> value). */
  metrics(): Promise<Record<string, number>>;
}

export const RELAY_PORT = 3478;
export const ALT_PORT = 3479;
export const SIGNAL_PORT = 8080;
const REALM = 'hush';

/** The coturn "use-auth-secret" credentials (draft-uberti-behave-turn-rest). */
export function turnCredentials(secret: string, id: string, ttlSec = 3600, now = Date.now()): TurnCredentials {
  const username = `${Math.floor(now / 1000) + ttlSec}:${id}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}

export function defaultRelayKind(): RelayKind {
  const k = process.env.HUSH_LAB_RELAY;
  if (k === undefined || k === '') return 'hush';
  if (k === 'hush' || k === 'coturn') return k;
  throw new Error(`HUSH_LAB_RELAY=${k}: use "hush" or "coturn"`);
}

export async function startLabRelay(lab: Lab, opts: LabRelayOptions = {}): Promise<LabRelay> {
  const kind = opts.kind ?? defaultRelayKind();
  const secret = opts.secret ?? randomBytes(18).toString('base64url');
  const ip = opts.ip ?? lab.addresses.relay;
  const realm = opts.realm ?? REALM;
  if (ip !== lab.addresses.relay) {
    const { stdout } = await lab.exec('inet', 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'br0']);
    if (!stdout.includes(` ${ip}/`)) await lab.exec('inet', 'ip', ['addr', 'add', `${ip}/24`, 'dev', 'br0']);
  }
  if (opts.offload && kind === 'hush') execFileSync('make', ['-s', '-C', resolve(REPO_ROOT, 'relay-server/bpf')], { stdio: 'pipe' });
  if (opts.forwarder && kind === 'hush') execFileSync('make', ['-s', '-C', resolve(REPO_ROOT, 'relay-server/native')], { stdio: 'pipe' });
  let scratch: string | null = null;
  let cmd: string;
  let argv: string[];
  if (kind === 'hush') {
    ({ cmd, argv } = relayCommand([
      '--listen', ip,
      '--port', String(RELAY_PORT),
      '--alt-port', String(ALT_PORT),
      '--signal-port', String(SIGNAL_PORT),
      // One argument: a random base64url secret starts with '-' one time in 64, and as a separate
      // argument the CLI refuses it as a missing value (this is what failed scenario 8 in 0.8 s).
      `--auth-secret=${secret}`,
      '--realm', realm,
      ...(opts.offload ? ['--offload', 'on'] : []),
      ...(opts.forwarder ? ['--forwarder', 'on'] : []),
      ...(opts.allowLanPeers ? ['--allow-peer', lab.addresses.lans] : []),
      ...(opts.args ?? []),
    ]));
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'hush-lab-coturn-'));
    scratch = dir;
    lab.onDestroy(() => rmSync(dir, { recursive: true, force: true })); // if stop() never runs
    cmd = 'turnserver';
    argv = [
      '-n', '--no-cli', '--no-tls', '--no-dtls',
      '-L', ip, '-E', ip, '--listening-port', String(RELAY_PORT),
      '--use-auth-secret', `--static-auth-secret=${secret}`, '--realm', realm,
      '--pidfile', join(scratch, 'turnserver.pid'), '--db', join(scratch, 'turndb'),
      '--log-file', 'stdout', '--simple-log',
      ...(opts.allowLanPeers ? [] : ['--denied-peer-ip=10.0.0.0-10.255.255.255']),
      ...(opts.args ?? []),
    ];
  }
  const child = lab.spawnIn('inet', cmd, argv, { cwd: REPO_ROOT, env: process.env });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  // The output may still be in the pipes when 'exit' fires: a start failure waits for them to close.
  const drained = Promise.all([child.stdout!, child.stderr!].map((st) => new Promise<void>((r) => (st.closed ? r() : st.once('close', () => r())))));
  let ended: string | null = null;
  const exited = new Promise<void>((r) => {
    child.once('exit', (code, signal) => {
      ended = signal ? `signal ${signal}` : `exit ${code}`;
      r();
    });
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  };

  const timeoutMs = opts.timeoutMs ?? 30_000;
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          await Promise.race([drained, new Promise((r) => setTimeout(r, 2000).unref())]);
          throw new Error(`${kind} relay exited (${child.exitCode ?? child.signalCode}) before listening:\n${out}`);
        }
        return kind === 'hush' ? /^ready$/m.test(out) : await listening(lab, ip, RELAY_PORT);
      },
      { timeout: timeoutMs, interval: 100, what: () => `the ${kind} relay to listen on ${ip}:${RELAY_PORT}:\n${out}` },
    );
  } catch (e) {
    await stop();
    throw e;
  }

  const credentials = (id = 'lab', ttlSec = 3600) => turnCredentials(secret, id, ttlSec);
  return {
    kind,
    ip,
    port: RELAY_PORT,
    altPort: kind === 'hush' ? ALT_PORT : null,
    signalUrl: kind === 'hush' ? `ws://${ip}:${SIGNAL_PORT}/signal` : null,
    secret,
    realm,
    credentials,
    iceServers(choice = {}) {
      const servers: Array<{ urls: string | string[]; username?: string; credential?: string }> = [];
      if (choice.stun ?? true) servers.push({ urls: `stun:${ip}:${RELAY_PORT}` });
      const turn: string[] = [];
      if (choice.udp ?? true) turn.push(`turn:${ip}:${RELAY_PORT}?transport=udp`);
      if (choice.tcp ?? true) turn.push(`turn:${ip}:${RELAY_PORT}?transport=tcp`);
      if (turn.length) servers.push({ urls: turn, ...credentials(choice.id) });
      return servers;
    },
    output: () => out,
    exited: () => ended,
    cpu: () => processCpu(child.pid),
    stop,
    async metrics() {
      if (kind !== 'hush') throw new Error('metrics(): coturn serves none here');
      const script = `fetch('http://${ip}:${SIGNAL_PORT}/metrics',{headers:${JSON.stringify(METRICS_AUTH)}}).then(r=>r.text()).then(t=>process.stdout.write(t))`;
      const { stdout } = await lab.exec('inet', process.execPath, ['-e', script]);
      return parsePrometheus(stdout);
    },
  };
}

/** Whether something in the internet namespace listens on ip:port over both UDP and TCP. */
async function listening(lab: Lab, ip: string, port: number): Promise<boolean> {
  const { stdout: udp } = await lab.exec('inet', 'ss', ['-Hlnu', `sport = :${port}`]);
  const { stdout: tcp } = await lab.exec('inet', 'ss', ['-Hlnt', `sport = :${port}`]);
  return udp.includes(`${ip}:${port}`) && tcp.includes(`${ip}:${port}`);
}

function processCpu(pid: number | undefined): string {
  if (!pid) return 'no pid';
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 3 (state), 14 (utime) and 15 (stime) of proc(5), counted after the ")".
    const ticks = Number(f[11]) + Number(f[12]);
    return `pid ${pid}, state ${f[0]}, cpu ${(ticks / 100).toFixed(1)} s`;
  } catch {
    return `pid ${pid} gone`;
  }
}
