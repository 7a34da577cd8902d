/**
 * The air-gapped release: `npm run pack:relay` makes a tarball that runs with
 * nothing but node. Unpacked in an empty temp directory (outside the
 * repository, so no node_modules and no tsx can help), its launcher starts
 * the relay with plain node, which answers STUN, signalling (the proof is
 * checked by the bundled verifier worker), TURN on a second thread (the
 * bundled TURN worker) and joins a Redis. The deploy files are checked as far
 * as this machine can without Docker: the Dockerfile's COPY sources exist in
 * the unpacked directory, its entrypoint is the launcher, its ENV and
 * HEALTHCHECK work when run the way the image would; the systemd unit passes
 * `systemd-analyze verify` and has the hardening the guide promises; the
 * nftables rules pass `nft -c`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { identityFromSeed } from '../../lib/crypto/identity';
import { REPO_ROOT } from '../harness/relay';
import { SignalTestClient } from '../harness/signal-client';
import { TurnTestClient } from '../harness/turn-client';
import { startRedis, type RedisProcess } from '../harness/redis';
import { waitFor } from '../harness/wait';

const work = mkdtempSync(join(tmpdir(), 'hush-pack-'));
let unpacked = '';
let redis: RedisProcess | undefined;
const children: ChildProcess[] = [];

beforeAll(() => {
  const out = join(work, 'out');
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts/pack-relay.mjs'), '--out', out], { stdio: 'pipe' });
  const tarball = join(out, 'hush-relay-0.1.0.tar.gz');
  const sum = readFileSync(`${tarball}.sha256`, 'utf8');
  expect(execFileSync('sha256sum', ['-c', `${tarball}.sha256`], { cwd: out, encoding: 'utf8' })).toContain('OK');
  expect(sum).toMatch(/^[0-9a-f]{64}  hush-relay-0\.1\.0\.tar\.gz\n$/);
  const target = join(work, 'opt');
  mkdirSync(target);
  execFileSync('tar', ['-xzf', tarball, '-C', target]);
  unpacked = join(target, 'hush-relay-0.1.0');
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await redis?.dispose();
  rmSync(work, { recursive: true, force: true });
});

/** Start the unpacked relay the way an operator does: its launcher, plain node on PATH, an empty working directory. */
async function runUnpacked(args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; output: () => string }> {
  const cwd = mkdtempSync(join(work, 'cwd-'));
  const child = spawn(join(unpacked, 'bin/hush-relay'), args, {
    cwd,
    // Only node on PATH: no NODE_OPTIONS, no tsx loader, nothing of the repository.
    env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`no "ready":\n${out}`)), 15_000);
    child.stdout!.on('data', () => /^ready$/m.test(out) && (clearTimeout(t), ok()));
    child.once('exit', (code) => (clearTimeout(t), fail(new Error(`exited ${code}:\n${out}`))));
  });
  return { child, output: () => out };
}

const port = (out: string, re: RegExp) => Number(re.exec(out)![1]);

describe('the release tarball', () => {
  test('holds the launcher, the bundle and its workers, the deploy files; nothing imports outside it', () => {
    for (const f of ['bin/hush-relay', 'lib/hush-relay.js', 'lib/verifier-worker.js', 'lib/turn-thread.js', 'lib/package.json', 'README.md', 'OPERATORS.md', 'hush-relay.service', 'hush-relay.sysusers', 'relay.json.example', 'turn-secrets.example', 'container.json', 'hush-relay.nft', 'Dockerfile']) {
      expect(existsSync(join(unpacked, f)), f).toBe(true);
    }
    expect(statSync(join(unpacked, 'bin/hush-relay')).mode & 0o111).toBe(0o111);
    expect(JSON.parse(readFileSync(join(unpacked, 'lib/package.json'), 'utf8')).type).toBe('module');
    for (const f of ['hush-relay.js', 'verifier-worker.js', 'turn-thread.js']) {
      const js = readFileSync(join(unpacked, 'lib', f), 'utf8');
      const imports = [...js.matchAll(/^import .* from ["']([^"']+)["'];?$/gm)].map((m) => m[1]!);
      expect(imports.filter((x) => !x.startsWith('node:')), f).toEqual([]);
      expect(js, f).not.toMatch(/\btsx\b.*loader|from ["']\.\.?\//);
    }
  });

  test('runs with plain node from an empty directory: STUN, signalling (verifier worker), TURN thread, Redis', async () => {
    redis = await startRedis();
    const SECRET = 'pack-test-secret';
    const r = await runUnpacked(['--listen', '127.0.0.1', '--port', '0', '--signal-port', '0', '--threads', '2', '--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8', '--redis', redis.url, '--node-id', 'packed']);
    const turnPort = port(r.output(), /^listening stun\+turn udp [^\s]+:(\d+)$/m);
    const signalPort = port(r.output(), /^listening signal ws [^\s]+:(\d+) /m);
    expect(r.output()).toMatch(/^TURN threads: 2 /m);

    const probe = new TurnTestClient({ host: '127.0.0.1', port: turnPort }, 'x', 'y');
    await probe.open();
    expect((await probe.binding())?.address).toBe('127.0.0.1');
    probe.close();

    const sig = await SignalTestClient.connect(`ws://127.0.0.1:${signalPort}/signal`);
    const ready = await sig.auth(identityFromSeed(new Uint8Array(32).fill(61)));
    expect(ready.t).toBe('ready');
    sig.close();

    // Allocations by several usernames: some go to the second thread (its bundled worker).
    for (let i = 0; i < 6; i++) {
      const c = TurnTestClient.withSecret({ host: '127.0.0.1', port: turnPort }, SECRET, `u${i}`);
      await c.open();
      await c.allocate();
      await c.refresh(0);
      c.close();
    }
    // TURN threads report every second.
    const metrics = await waitFor(
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${signalPort}/metrics`)).text();
        return /^hush_relay_thread_allocations_created_total\{thread="1"\} [1-9]/m.test(text) && text;
      },
      { timeout: 5_000, interval: 100, what: "thread 1's allocations in /metrics" },
    );
    expect(metrics).toMatch(/^hush_relay_thread_allocations_created_total\{thread="1"\} [1-9]/m);
    expect(metrics).toMatch(/^hush_relay_cluster_redis_up 1$/m);
    expect(r.output()).toMatch(/^cluster: redis connected$/m);

    const exited = new Promise<number | null>((res) => r.child.once('exit', (code) => res(code)));
    r.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(readFileSync(join(unpacked, 'lib/package.json'), 'utf8')).toContain('module'); // untouched
  });

  test('--help and a bad setting: exit 0 and exit 2 with a sentence, from the launcher', () => {
    const env = { PATH: `${dirname(process.execPath)}:/usr/bin:/bin` };
    const help = spawnSync(join(unpacked, 'bin/hush-relay'), ['--help'], { env, encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--redis URL');
    const bad = spawnSync(join(unpacked, 'bin/hush-relay'), ['--port', 'many'], { env, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^hush-relay: ERR_CONFIG: /);
    const noNode = spawnSync(join(unpacked, 'bin/hush-relay'), ['--help'], { env: { PATH: '/usr/bin:/bin', NODE: '/nonexistent/node' }, encoding: 'utf8' });
    expect(noNode.status).toBe(2);
    expect(noNode.stderr).toContain('install Node.js 20 or newer');
  });
});

/** The Dockerfile's instructions, continuation lines joined. */
function dockerfile(text: string): Array<{ op: string; args: string }> {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^(\S+)\s*(.*)$/.exec(l)!;
      return { op: m[1]!.toUpperCase(), args: m[2]! };
    });
}

describe('Dockerfile (checked without a Docker engine)', () => {
  test('every COPY source is in the unpacked tarball; the entrypoint is its launcher; non-root; ports exposed', () => {
    const ins = dockerfile(readFileSync(join(unpacked, 'Dockerfile'), 'utf8'));
    expect(ins[0]).toEqual({ op: 'FROM', args: 'node:20-bookworm-slim' });
    const copies = ins.filter((i) => i.op === 'COPY');
    expect(copies.length).toBeGreaterThan(0);
    const dest = new Map<string, string>();
    for (const c of copies) {
      expect(c.args).not.toMatch(/--from/);
      const parts = c.args.split(/\s+/);
      const to = parts.pop()!;
      for (const src of parts) {
        expect(existsSync(join(unpacked, src)), `COPY source ${src}`).toBe(true);
        dest.set(to.endsWith('/') && !src.endsWith('/') ? to + src : to, src);
      }
    }
    // ENTRYPOINT runs the tarball's own launcher, copied where the image says.
    const entry = JSON.parse(ins.find((i) => i.op === 'ENTRYPOINT')!.args) as string[];
    expect(entry).toEqual(['/opt/hush-relay/bin/hush-relay']);
    expect(dest.get('/opt/hush-relay/bin/')).toBe('bin/');
    expect(dest.get('/opt/hush-relay/lib/')).toBe('lib/');
    expect(JSON.parse(ins.find((i) => i.op === 'CMD')!.args)).toEqual([]);
    // The systemd unit runs the very same command.
    expect(readFileSync(join(unpacked, 'hush-relay.service'), 'utf8')).toMatch(/^ExecStart=\/opt\/hush-relay\/bin\/hush-relay /m);
    const user = ins.find((i) => i.op === 'USER')!.args;
    expect(user).toBe('10001:10001');
    expect(ins.filter((i) => i.op === 'RUN').every((i) => !/apt-get|npm|curl|wget/.test(i.args))).toBe(true); // builds offline
    const exposed = ins.filter((i) => i.op === 'EXPOSE').flatMap((i) => i.args.split(/\s+/));
    for (const p of ['3478/udp', '3478/tcp', '3479/udp', '5349/tcp', '8080/tcp', '9100/tcp', '49152-65535/udp']) expect(exposed).toContain(p);
  });

  test('run as the image would: its ENV (container.json), its entrypoint, then its HEALTHCHECK command', async () => {
    const ins = dockerfile(readFileSync(join(unpacked, 'Dockerfile'), 'utf8'));
    const env: Record<string, string> = {};
    for (const e of ins.filter((i) => i.op === 'ENV')) {
      for (const m of e.args.matchAll(/(\w+)=(\S+)/g)) env[m[1]!] = m[2]!.replace('/opt/hush-relay/', unpacked + '/');
    }
    expect(env.HUSH_RELAY_CONFIG).toBe(join(unpacked, 'container.json'));
    expect(JSON.parse(readFileSync(env.HUSH_RELAY_CONFIG!, 'utf8'))).toEqual({ listen: '0.0.0.0', metricsPort: 9100, metricsListen: '0.0.0.0' });
    // Only the ports move (this machine is shared): everything else as in the image.
    const r = await runUnpacked(['--port', '0', '--signal-port', '0', '--metrics-port', '0', '--alt-port', 'off'], env);
    expect(r.output()).toMatch(/settings from defaults, file, command line/);
    expect(r.output()).toMatch(/^listening stun\+turn udp 0\.0\.0\.0:\d+$/m);
    const metricsPort = port(r.output(), /^listening metrics http 0\.0\.0\.0:(\d+) /m);
    const hc = JSON.parse(ins.find((i) => i.op === 'HEALTHCHECK')!.args.replace(/^.*?CMD\s+/, '')) as string[];
    expect(hc[0]).toBe('node');
    const ok = spawnSync(process.execPath, hc.slice(1), { env: { HUSH_RELAY_METRICS_PORT: String(metricsPort) } });
    expect(ok.status).toBe(0);
    const exited = new Promise<number | null>((res) => r.child.once('exit', (code) => res(code)));
    r.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const down = spawnSync(process.execPath, hc.slice(1), { env: { HUSH_RELAY_METRICS_PORT: String(metricsPort) } });
    expect(down.status).toBe(1);
  });
});

describe('systemd unit and firewall rules', () => {
  test('the unit has the promised hardening, and no MemoryDenyWriteExecute (V8 JIT)', () => {
    const unit = readFileSync(join(unpacked, 'hush-relay.service'), 'utf8');
    const set = (k: string) => [...unit.matchAll(new RegExp(`^${k}=(.*)$`, 'gm'))].map((m) => m[1]);
    expect(set('User')).toEqual(['hush-relay']);
    expect(set('NoNewPrivileges')).toEqual(['yes']);
    expect(set('ProtectSystem')).toEqual(['strict']);
    expect(set('ProtectHome')).toEqual(['yes']);
    expect(set('PrivateTmp')).toEqual(['yes']);
    expect(set('ReadOnlyPaths')).toEqual(['/opt/hush-relay /etc/hush']);
    expect(set('CapabilityBoundingSet')).toEqual(['CAP_NET_BIND_SERVICE']);
    expect(set('AmbientCapabilities')).toEqual(['CAP_NET_BIND_SERVICE']);
    expect(set('RestrictAddressFamilies')[0]).toMatch(/AF_INET AF_INET6/);
    expect(set('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
    expect(set('MemoryDenyWriteExecute')).toEqual([]);
    expect(unit).toMatch(/NOT MemoryDenyWriteExecute=yes: V8's JIT/);
  });

  test('systemd-analyze verify accepts the unit (when systemd-analyze is installed)', (ctx) => {
    const which = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' });
    if (which.status !== 0) return ctx.skip();
    // verify checks that ExecStart exists: point it at the unpacked launcher.
    const dir = mkdtempSync(join(work, 'unit-'));
    const unit = readFileSync(join(unpacked, 'hush-relay.service'), 'utf8').replaceAll('/opt/hush-relay/', unpacked + '/');
    writeFileSync(join(dir, 'hush-relay.service'), unit);
    const v = spawnSync('systemd-analyze', ['verify', '--man=no', join(dir, 'hush-relay.service')], { encoding: 'utf8' });
    const complaints = (v.stdout + v.stderr).split('\n').filter((l) => l.includes('hush-relay.service'));
    expect(v.status, v.stdout + v.stderr).toBe(0);
    expect(complaints, complaints.join('\n')).toEqual([]);
  });

  test('nft -c accepts the firewall rules (when nft is installed)', (ctx) => {
    if (spawnSync('sh', ['-c', 'command -v nft']).status !== 0) return ctx.skip();
    const c = spawnSync('nft', ['-c', '-f', join(unpacked, 'hush-relay.nft')], { encoding: 'utf8' });
    if (/Operation not permitted/.test(c.stderr)) return ctx.skip();
    expect(c.status, c.stderr).toBe(0);
  });
});
