/**
 * A throwaway Redis (Debian's redis-server) on a free loopback port, in a
 * temporary directory, with persistence off (`--save '' --appendonly no`):
 * the relay cluster's tests and bench route signalling through it.
 *
 *   const redis = await startRedis();   // redis.url: redis://127.0.0.1:PORT
 *   ... await redis.stop(); await redis.start();   // down and back on the same port
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { freePort } from './ports';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisProcess {
  port: number;
  /** The running server's process id (changes after stop/start). */
  pid(): number;
  url: string;
  /** Start again on the same port (after stop()). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Run redis-cli against it; its stdout. */
  cli(...args: string[]): string;
  /** stop() and remove the directory. */
  dispose(): Promise<void>;
}

export async function startRedis(): Promise<RedisProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'hush-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const c = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = c;
    let out = '';
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`redis-server did not start:\n${out}`)), 10_000);
      c.once('error', (e) => {
        clearTimeout(timer);
        fail(new Error(`redis-server did not start (apt-get install -y redis-server): ${e.message}`));
      });
      c.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (/Ready to accept connections/.test(out)) {
          clearTimeout(timer);
          ok();
        }
      });
      c.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`redis-server exited (${code}):\n${out}`));
      });
    });
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGKILL');
    await gone;
  };
  process.on('exit', () => child?.kill('SIGKILL'));
  await start();
  return {
    port,
    pid: () => child?.pid ?? 0,
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    cli: (...args) => spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
