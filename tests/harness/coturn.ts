/**
 * Starts Debian's coturn `turnserver` on loopback (a free port, shared-secret
 * credentials, loopback peers allowed) as the outside reference for the
 * relay's tests and benches, and waits until it answers a STUN Binding.
 * Its pid file and database go to a scratch directory of its own, so several
 * coturns on one machine do not meet. Killed on stop() and when the test
 * process exits.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpUdpPort } from './ports';
import { TurnTestClient } from './turn-client';

export interface CoturnProcess {
  pid: number;
  port: number;
  output(): string;
  /** SIGTERM, then SIGKILL after 3 s; resolves when it is gone. */
  stop(): Promise<void>;
}

export async function startCoturn(secret: string, realm = 'hush'): Promise<CoturnProcess> {
  const port = await freeTcpUdpPort(49152);
  const dir = mkdtempSync(join(tmpdir(), 'hush-coturn-'));
  const child = spawn(
    'turnserver',
    [
      '-n', '-L', '127.0.0.1', '-E', '127.0.0.1', '--listening-port', String(port), '--no-cli', '--no-tls', '--no-dtls',
      '--allow-loopback-peers', '--use-auth-secret', `--static-auth-secret=${secret}`, '--realm', realm, '--log-file', 'stdout',
      '--no-rfc5780', '--no-stun-backward-compatibility', '--simple-log', '--pidfile', join(dir, 'turnserver.pid'), '--db', join(dir, 'turndb'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(kill, 3000);
      await exited;
      clearTimeout(t);
    }
    process.off('exit', kill);
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready when it answers a STUN Binding.
  const probe = new TurnTestClient({ host: '127.0.0.1', port }, 'x', 'y');
  await probe.open();
  const t0 = Date.now();
  try {
    while (!(await probe.binding())) {
      if (Date.now() - t0 > 10_000 || child.exitCode !== null) {
        await stop();
        throw new Error(`coturn did not start:\n${out}`);
      }
    }
  } finally {
    probe.close();
  }
  return { pid: child.pid!, port, output: () => out, stop };
}
