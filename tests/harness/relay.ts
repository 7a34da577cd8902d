/**
 * Starts the real hush-relay CLI (`node --import tsx relay-server/src/cli.ts`)
 * as a child process on free loopback ports and waits until it prints
 * "ready". Every process started here is killed on stop(), and also when the
 * test process exits, so a failing test never leaves a relay running.
 *
 *   const relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
 *   try { ... relay.signalUrl, relay.turnPort ... } finally { await relay.stop(); }
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const CLI_PATH = resolve(REPO_ROOT, 'relay-server/src/cli.ts');
/** tsx by absolute URL, so the relay can run in any working directory. */
export const TSX_LOADER = pathToFileURL(resolve(REPO_ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

export interface RelayProcess {
  pid: number;
  host: string;
  signalUrl: string;
  signalPort: number;
  turnPort: number;
  altPort: number;
  tlsPort: number | null;
  /** Everything the process printed so far, stdout and stderr interleaved. */
  output(): string;
  /** SIGTERM, then SIGKILL after 3 s; resolves when the process is gone. */
  stop(): Promise<void>;
  /** Resolves with how the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface RelayProcessOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** How long to wait for "ready" (default 20 s). */
  timeoutMs?: number;
  /** Extra flags for node itself (e.g. --cpu-prof, --expose-gc), before the script. */
  nodeArgs?: string[];
  /** Run the relay inside this network namespace (`ip netns exec`, which execs: the pid is the relay's). */
  netns?: string;
  /** Another relay's cli.ts (a bench's baseline: an older commit's relay); default this repository's. */
  cli?: string;
  /** Another node binary than the one running the tests (harness/node24.ts). */
  node?: string;
}

const live = new Set<ChildProcess>();
let hooked = false;
function killAllOnExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

/** The bearer token test relays require for /metrics (harness/metrics.ts sends it). */
export const METRICS_TOKEN = 'hush-test-metrics-token-0123456789';

/**
 * The relay CLI's command line. `--drain-timeout 0` comes first (later flags win): a test's stop()
 * (SIGTERM) closes at once, as before the relay drained; relay-ops.test.ts tests the drain itself.
 * `--threads 1`: the relay's default is one TURN thread per core; tests of threading ask for
 * threads (relay-threads.test.ts, relay-node24.test.ts). `--log-format plain` keeps lines bare for the tests' regexes (relay-day-two.test.ts checks the
 * default text and json formats); `--metrics-token` serves /metrics on the signal port to the tests.
 */
export function relayCommand(args: string[], nodeArgs: string[] = [], cli = CLI_PATH, node = process.execPath): { cmd: string; argv: string[] } {
  return {
    cmd: node,
    argv: [...nodeArgs, '--import', TSX_LOADER, cli, '--drain-timeout', '0', '--log-format', 'plain', '--metrics-token', METRICS_TOKEN, '--threads', '1', ...args],
  };
}

export async function startRelayProcess(args: string[] = [], opts: RelayProcessOptions = {}): Promise<RelayProcess> {
  killAllOnExit();
  // Defaults first: later flags win, so callers may override any of them.
  const { cmd, argv } = relayCommand(['--listen', '127.0.0.1', '--port', '0', '--signal-port', '0', ...args], opts.nodeArgs, opts.cli, opts.node);
  const child = spawn(opts.netns ? 'ip' : cmd, opts.netns ? ['netns', 'exec', opts.netns, cmd, ...argv] : argv, {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exitInfo = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const exited = exitInfo.then(() => undefined);
  exited.then(() => live.delete(child));

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  };

  try {
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`relay did not print "ready" within ${opts.timeoutMs ?? 20000} ms:\n${out}`)), opts.timeoutMs ?? 20000);
      const check = () => {
        if (/^ready$/m.test(out)) {
          clearTimeout(timer);
          ok();
        }
      };
      child.stdout!.on('data', check);
      child.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`relay exited (${code}) before "ready":\n${out}`));
      });
    });
  } catch (e) {
    await stop();
    throw e;
  }
  const port = (re: RegExp): number | null => {
    const m = re.exec(out);
    return m ? Number(m[1]) : null;
  };
  const turnPort = port(/^listening stun\+turn udp [^\s]+:(\d+)$/m);
  const altPort = port(/^listening stun udp [^\s]+:(\d+) \(alternate/m);
  const signalPort = port(/^listening signal wss? [^\s]+:(\d+) path/m);
  const tlsPort = port(/^listening turn tls [^\s]+:(\d+)$/m);
  const scheme = /^listening signal wss /m.test(out) ? 'wss' : 'ws';
  if (turnPort === null || signalPort === null || altPort === null) {
    await stop();
    throw new Error(`could not read the relay's ports from its output:\n${out}`);
  }
  return {
    pid: child.pid!,
    host: '127.0.0.1',
    signalUrl: `${scheme}://127.0.0.1:${signalPort}/signal`,
    signalPort,
    turnPort,
    altPort,
    tlsPort,
    output: () => out,
    stop,
    exited: exitInfo,
  };
}
