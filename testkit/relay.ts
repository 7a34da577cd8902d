/**
 * A local Hush relay for a test: the relay CLI started as a child process on
 * free loopback ports, stopped by the test (and killed when the test process
 * exits, so a failed test never leaves one running).
 *
 * The command comes from `startRelay({ command })`, else $HUSH_RELAY_COMMAND
 * (split on spaces), else the Hush checkout's own CLI run with tsx from the
 * working directory: `node --import tsx relay-server/src/cli.ts`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { KitError, relayUnreachable } from './errors';

export interface StartRelayOptions {
  /** The relay command and its leading arguments; default $HUSH_RELAY_COMMAND or `node --import tsx relay-server/src/cli.ts`. */
  command?: string[];
  /** Extra relay flags (later flags win over the kit's defaults). */
  args?: string[];
  /** Working directory of the relay (default: process.cwd()). */
  cwd?: string;
  /** How long to wait for the relay to say "ready" (default 20 s). */
  timeoutMs?: number;
}

export interface LocalRelay {
  /** The signalling URL to give launchHush({ relay }) (ws://127.0.0.1:PORT/signal). */
  url: string;
  /** Everything the relay printed so far (for a failing test's report). */
  output(): string;
  /** Stop the relay (SIGTERM, then SIGKILL after 3 s). */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let hooked = false;

function defaultCommand(): string[] {
  const env = process.env.HUSH_RELAY_COMMAND?.trim();
  if (env) return env.split(/\s+/);
  return [process.execPath, '--import', 'tsx', 'relay-server/src/cli.ts'];
}

/**
 * Start a relay on 127.0.0.1 (ports chosen by the system) that lets loopback
 * peers through, so two browsers on this machine can call through it,
 * including relay-only (privacy mode) calls. Resolves once it is ready.
 */
export async function startRelay(opts: StartRelayOptions = {}): Promise<LocalRelay> {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  const [cmd, ...lead] = opts.command ?? defaultCommand();
  const argv = [...lead, '--listen', '127.0.0.1', '--port', '0', '--signal-port', '0', '--allow-peer', '127.0.0.0/8', '--drain-timeout', '0', '--log-format', 'plain', ...(opts.args ?? [])];
  const child = spawn(cmd!, argv, { cwd: opts.cwd ?? process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => (live.delete(child), r())));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  };
  const timeoutMs = opts.timeoutMs ?? 20_000;
  try {
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new KitError('ERR_RELAY_START', `The relay (${cmd} ${lead.join(' ')}) did not say "ready" within ${timeoutMs} ms. Its output:\n${out}`)), timeoutMs);
      child.stdout!.on('data', () => /^ready$/m.test(out) && (clearTimeout(timer), ok()));
      child.once('error', (e) => {
        clearTimeout(timer);
        fail(new KitError('ERR_RELAY_START', `Could not run the relay command "${cmd}" (${e.message}). Run the test from the Hush checkout, or set HUSH_RELAY_COMMAND / startRelay({ command }).`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        fail(new KitError('ERR_RELAY_START', `The relay exited (code ${code}) before it was ready. Run the test from the Hush checkout (cwd ${opts.cwd ?? process.cwd()}) or set HUSH_RELAY_COMMAND. Its output:\n${out}`));
      });
    });
  } catch (e) {
    await stop();
    throw e;
  }
  const m = /^listening signal (wss?) [^\s]+:(\d+) path (\S+)/m.exec(out) ?? /^listening signal (wss?) [^\s]+:(\d+)/m.exec(out);
  if (!m) {
    await stop();
    throw new KitError('ERR_RELAY_START', `Could not read the relay's signalling port from its output:\n${out}`);
  }
  return { url: `${m[1]}://127.0.0.1:${m[2]}/signal`, output: () => out, stop };
}

/** Check that something accepts TCP connections at a relay URL's host and port; throws ERR_RELAY_UNREACHABLE if not. */
export async function checkRelayReachable(url: string, timeoutMs = 5000): Promise<void> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw relayUnreachable(url, 'not a URL; a relay URL looks like ws://127.0.0.1:PORT/signal or wss://relay.example/signal');
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw relayUnreachable(url, 'a relay URL starts with ws:// or wss://');
  const port = Number(u.port || (u.protocol === 'wss:' ? 443 : 80));
  const host = u.hostname.replace(/^\[|\]$/g, '');
  await new Promise<void>((ok, fail) => {
    const c = connect({ host, port, timeout: timeoutMs }, () => (c.destroy(), ok()));
    c.once('timeout', () => (c.destroy(), fail(relayUnreachable(url, `no answer within ${timeoutMs} ms`))));
    c.once('error', (e) => fail(relayUnreachable(url, e.message)));
  });
}
