/**
 * The relay on an operator's second day (issue 20): each way it used to fail
 * silently, started for real (the CLI, a real Redis, a real open-file
 * limit), and what it must do instead: a clear log line, a failing
 * /healthz where the node cannot do its job, or a refusal at start.
 *
 *  - two nodes with one node id: both log it, /healthz 503
 *  - a bad Redis setting at start (closed port, wrong password, rediss://
 *    against plain Redis): the reason logged without the password, /healthz 503
 *  - --relay-ip not on this host: refused at start, exit 2
 *  - a low open-file limit (prlimit) with live allocations: warned at start,
 *    508s logged as EMFILE, stats ticks, scrapes and SIGTERM survive, and
 *    the drain runs and exits 0
 *  - SIGHUP during start does not kill; SIGHUP re-reads the settings file
 *    (a change is named, a broken file is reported, the relay goes on)
 *  - log formats: text (time, level) and json; --check-config, --version, -h
 *
 * Every process is started here on loopback and killed at the end; every
 * wait is bounded.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METRICS_AUTH, parsePrometheus } from '../harness/metrics';
import { startRedis, type RedisProcess } from '../harness/redis';
import { REPO_ROOT, relayCommand } from '../harness/relay';
import { TurnTestClient } from '../harness/turn-client';
import { waitFor } from '../harness/wait';

const dir = mkdtempSync(join(tmpdir(), 'hush-day-two-'));
const children = new Set<ChildProcess>();
let redis: RedisProcess;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await redis?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

interface Proc {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Wait (bounded) until the output matches. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<void>;
  port(re: RegExp): number;
}

/** The relay CLI (tsx), optionally under a wrapper (prlimit), on loopback with free ports. */
function spawnRelay(args: string[], wrap: string[] = []): Proc {
  const { cmd, argv } = relayCommand(['--listen', '127.0.0.1', '--port', '0', '--signal-port', '0', ...args]);
  const child = wrap.length ? spawn(wrap[0]!, [...wrap.slice(1), cmd, ...argv], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(cmd, argv, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => (children.delete(child), r({ code, signal }))));
  let done = false;
  void exited.then(() => (done = true));
  const waitForLine = async (re: RegExp, timeoutMs = 20_000): Promise<void> => {
    await waitFor(
      () => {
        if (re.test(out)) return true;
        if (done) throw new Error(`exited before ${re}:\n${out}`);
        return false;
      },
      { timeout: timeoutMs, what: () => `${re} in the relay's output:\n${out}` },
    );
  };
  return {
    child,
    output: () => out,
    exited,
    waitForLine,
    port: (re) => Number(re.exec(out)![1]),
  };
}

const SIGNAL_PORT = /^listening signal ws [^\s]+:(\d+) /m;
const TURN_PORT = /^listening stun\+turn udp [^\s]+:(\d+)$/m;
const health = async (port: number) => (await fetch(`http://127.0.0.1:${port}/healthz`)).status;

async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGKILL');
  await p.exited;
}

describe('cluster: loud when it cannot work', () => {
  test('two nodes with one node id: both log it and fail /healthz; a unique id passes', async () => {
    const args = ['--redis', redis.url, '--node-id', 'copied', '--auth-secret', 'a-shared-secret-1'];
    const a = spawnRelay(args);
    await a.waitForLine(/^ready$/m);
    await a.waitForLine(/^cluster: redis connected$/m);
    expect(await health(a.port(SIGNAL_PORT))).toBe(200);
    const b = spawnRelay(args);
    try {
      await b.waitForLine(/^cluster: 2 nodes use node id "copied": envelopes between them are dropped; give every node its own nodeId/m);
      expect(await health(b.port(SIGNAL_PORT))).toBe(503);
      // The first node finds out at its next check (every 5 s).
      await a.waitForLine(/^cluster: 2 nodes use node id "copied"/m, 12_000);
      expect(await health(a.port(SIGNAL_PORT))).toBe(503);
      const m = parsePrometheus(await (await fetch(`http://127.0.0.1:${a.port(SIGNAL_PORT)}/metrics`, { headers: METRICS_AUTH })).text());
      expect(m['hush_relay_info{version="0.1.0",node="copied"}']).toBe(1);
      expect(m.hush_relay_healthy).toBe(0);
      // The copy goes away: the first node is healthy again at its next check.
      await stop(b);
      await a.waitForLine(/^cluster: node id "copied" is unique again$/m, 12_000);
      expect(await health(a.port(SIGNAL_PORT))).toBe(200);
      expect(redis.cli('DBSIZE').trim()).toBe('0'); // still no key written
    } finally {
      await stop(a);
      await stop(b);
    }
  });

  test('a bad Redis setting at start: the reason is logged (never the password), /healthz 503', async () => {
    const cases: Array<[string, RegExp]> = [
      [`redis://127.0.0.1:1`, /^cluster: redis: connection refused \(ECONNREFUSED\)/m],
      [`redis://nobody:not-the-password@127.0.0.1:${redis.port}`, /^cluster: redis: authentication refused \(.*\): check the user and password in --redis/m],
      [`rediss://127.0.0.1:${redis.port}`, /^cluster: redis: (TLS failed|connection closed by the other end|no answer)/m],
    ];
    const nodes = cases.map(([url]) => spawnRelay(['--redis', url, '--auth-secret', 'a-shared-secret-1']));
    try {
      for (const [i, n] of nodes.entries()) {
        await n.waitForLine(/^ready$/m);
        await n.waitForLine(cases[i]![1], 15_000);
        expect(n.output()).toMatch(/has not reached redis since start: \/healthz answers 503/);
        expect(n.output()).not.toContain('not-the-password');
        expect(await health(n.port(SIGNAL_PORT))).toBe(503);
      }
    } finally {
      for (const n of nodes) await stop(n);
    }
  });
});

describe('refused at start', () => {
  test('--relay-ip that is not an address of this host: exit 2, the key and the fix named', async () => {
    const p = spawnRelay(['--relay-ip', '192.0.2.7']);
    const { code } = await p.exited;
    expect(code).toBe(2);
    expect(p.output()).toMatch(/"relayIp" 192\.0\.2\.7 is not an address of this host/);
    expect(p.output()).toMatch(/^hush-relay: ERR_CONFIG: refusing to start: /m);
    expect(p.output()).not.toMatch(/^ready$/m);
  });

  test('a TLS file that is missing: named by key and path', async () => {
    const p = spawnRelay(['--tls-cert', join(dir, 'nope.pem'), '--tls-key', join(dir, 'nope.key')]);
    expect((await p.exited).code).toBe(2);
    expect(p.output()).toContain(`TLS certificate ("tlsCert") ${join(dir, 'nope.pem')}: ENOENT (no such file)`);
  });
});

describe('out of file descriptors (prlimit --nofile)', () => {
  test('warned at start; 508s logged as EMFILE; stats, scrape and SIGTERM survive; the drain exits 0', async () => {
    const LIMIT = 128;
    const SECRET = 'fd-test-secret-1';
    const p = spawnRelay(['--auth-secret', SECRET, '--stats-interval', '1', '--drain-timeout', '3', '--user-quota', '1000', '--source-quota', '1000', '--total-quota', '1000', '--metrics-port', '0'], ['prlimit', `--nofile=${LIMIT}:${LIMIT}`, '--']);
    const clients: TurnTestClient[] = [];
    try {
      await p.waitForLine(/^ready$/m, 30_000);
      expect(p.output()).toMatch(new RegExp(`^open-file limit ${LIMIT} is below what the configured quotas can use`, 'm'));
      const turnPort = p.port(TURN_PORT);
      const metricsPort = p.port(/^listening metrics http [^\s]+:(\d+) /m);
      // Allocate until the relay runs out of descriptors (bounded: never more than the limit).
      let refused = 0;
      for (let i = 0; i < LIMIT && refused === 0; i++) {
        const c = TurnTestClient.withSecret({ host: '127.0.0.1', port: turnPort }, SECRET, `fd${i}`);
        await c.open();
        clients.push(c);
        try {
          await c.allocate();
        } catch (e) {
          expect(String(e)).toMatch(/508/);
          refused++;
        }
      }
      expect(refused).toBe(1);
      const live = clients.length - 1;
      expect(live).toBeGreaterThan(20);
      await p.waitForLine(/^allocations refused \(508\): \d+ could not open a relay socket: EMFILE \(too many open files.*\[open-file limit 128\]$/m);
      // At the limit: a scrape (its connection may be refused; the process must not die), two stats ticks.
      await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { headers: METRICS_AUTH, signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      const ticks = () => (p.output().match(/^stats: /gm) ?? []).length;
      const before = ticks();
      await waitFor(() => ticks() >= before + 2, { timeout: 5000, interval: 100, what: 'two stats ticks at the open-file limit' });
      expect(p.child.exitCode).toBeNull();
      // A live allocation still refreshes.
      expect((await clients[0]!.refresh(600))?.cls).toBeDefined();
      // Free a few: the scrape answers, and counts the failures by code.
      for (const c of clients.slice(1, 6)) await c.refresh(0);
      const m = parsePrometheus(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { headers: METRICS_AUTH })).text());
      expect(m['hush_relay_relay_socket_failures_total{code="EMFILE"}']).toBeGreaterThanOrEqual(1);
      expect(m.hush_relay_max_fds).toBe(LIMIT);
      expect(m.hush_relay_open_fds).toBeGreaterThan(live - 10);
      // Back at the limit, then SIGTERM: a drain, not a crash.
      for (let i = 0; i < 10; i++) {
        const c = TurnTestClient.withSecret({ host: '127.0.0.1', port: turnPort }, SECRET, `more${i}`);
        await c.open();
        clients.push(c);
        await c.allocate().catch(() => undefined);
      }
      p.child.kill('SIGTERM');
      await p.waitForLine(/^draining: refusing new allocations and connections; \d+ allocations live/m);
      const end = await p.exited;
      expect(end).toEqual({ code: 0, signal: null });
      expect(p.output()).toMatch(/^(drained in|drain timeout: closing)/m);
      expect(p.output()).toMatch(/^final: allocations /m);
      expect(p.output()).not.toMatch(/Error: EMFILE|internal error/);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- relay output ---\n${p.output().slice(-3000)}`);
    } finally {
      for (const c of clients) c.close();
      await stop(p);
    }
  }, 120_000);
});

describe('SIGHUP', () => {
  test('during start it does not kill the relay', async () => {
    const p = spawnRelay([]);
    try {
      // The handler is the first thing cli.ts does; under tsx the process prints its first line seconds later.
      await p.waitForLine(/./, 30_000);
      p.child.kill('SIGHUP');
      await p.waitForLine(/^ready$/m);
      p.child.kill('SIGHUP');
      await p.waitForLine(/^reload: /m);
      expect(p.child.exitCode).toBeNull();
    } finally {
      await stop(p);
    }
  });

  test('re-reads the settings file: a change is named (applied at restart), a broken file is reported, the relay goes on', async () => {
    const file = join(dir, 'relay.json');
    writeFileSync(file, JSON.stringify({ statsInterval: 0, userQuota: 10 }, null, 2));
    const p = spawnRelay(['--config', file]);
    try {
      await p.waitForLine(/^ready$/m);
      writeFileSync(file, JSON.stringify({ statsInterval: 0, userQuota: 20 }, null, 2));
      p.child.kill('SIGHUP');
      await p.waitForLine(/^reload: settings changed \(userQuota\): not applied now, they take effect at the next restart/m);
      writeFileSync(file, '{\n  "userQuota": 20,\n}\n');
      p.child.kill('SIGHUP');
      await p.waitForLine(new RegExp(`^reload: settings not re-read, the running ones stay; fix this before the next restart, which would fail: ${file.replace(/[.]/g, '\\.')}: not valid JSON: .*line 3 column 1`, 'm'));
      writeFileSync(file, JSON.stringify({ statsInterval: 0, userQuota: 10, relayIp: '192.0.2.7' }));
      p.child.kill('SIGHUP');
      await p.waitForLine(/^reload: the next start would refuse: "relayIp" 192\.0\.2\.7 is not an address of this host/m);
      expect(p.child.exitCode).toBeNull();
      expect(await health(p.port(SIGNAL_PORT))).toBe(200);
    } finally {
      await stop(p);
    }
  });
});

describe('what an operator types', () => {
  const cli = (args: string[]) => {
    const { cmd, argv } = relayCommand(args);
    return spawnSync(cmd, argv, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
  };

  test('--version, -h, --check-config (good, bad) and the log formats', async () => {
    expect(cli(['--version']).stdout).toMatch(/^hush-relay 0\.1\.0 \(node \d+\./);
    expect(cli(['-h']).stdout).toContain('--check-config FILE');
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ listen: '127.0.0.1', authSecret: ['Zk3q9vUu0V2n8pQ4dW1xY7rT'] }));
    const ok = cli(['--check-config', good]);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^config OK: .*good\.json \(settings from defaults, file, command line; \d+ warning\(s\)\)$/m);
    const badFile = join(dir, 'bad.json');
    writeFileSync(badFile, JSON.stringify({ relayIp: '203.0.113.5', externalIp: '198.51.100.20', authSecretsFile: join(dir, 'missing-secrets') }));
    const bad = cli(['--check-config', badFile]);
    expect(bad.status).toBe(2);
    expect(bad.stdout).toMatch(/^error: "relayIp" 203\.0\.113\.5 is not an address of this host/m);
    expect(bad.stdout).toMatch(/^error: TURN secrets file \("authSecretsFile"\) .*missing-secrets: ENOENT \(no such file\)$/m);
    expect(bad.stdout).toMatch(/^warn: "externalIp" 198\.51\.100\.20 is in a documentation range/m);
    expect(bad.stderr).toMatch(/^hush-relay: ERR_CONFIG: .*bad\.json: 2 error\(s\): a start would refuse$/m);

    const text = spawnRelay(['--log-format', 'text']);
    const json = spawnRelay(['--log-format', 'json']);
    try {
      await text.waitForLine(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info  ready$/m);
      await json.waitForLine(/"msg":"ready"/);
      for (const line of json.output().trim().split('\n')) {
        const o = JSON.parse(line) as { time: string; level: string; msg: string };
        expect(Object.keys(o)).toEqual(['time', 'level', 'msg']);
        expect(['info', 'warn', 'error']).toContain(o.level);
      }
    } finally {
      await stop(text);
      await stop(json);
    }
  });
});
