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
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { identityFromSeed } from '../../lib/crypto/identity';
import { REPO_ROOT } from '../harness/relay';
import { SignalTestClient } from '../harness/signal-client';
import { TurnTestClient } from '../harness/turn-client';
import { waitFor } from '../harness/wait';
import { startRedis, type RedisProcess } from '../harness/redis';

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

/** The default log lines ("2026-12-01T23:55:00.123Z info  ready") without their time and level. */
const bare = (text: string) => text.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z (?:info|warn|error) +/gm, '');

/** Start the unpacked relay the way an operator does: its launcher, plain node on PATH, an empty working directory. */
async function runUnpacked(args: string[], env: Record<string, string> = {}, wrap: string[] = []): Promise<{ child: ChildProcess; output: () => string; raw: () => string }> {
  const cwd = mkdtempSync(join(work, 'cwd-'));
  chmodSync(cwd, 0o755);
  const launcher = join(unpacked, 'bin/hush-relay');
  const child = spawn(wrap.length ? wrap[0]! : launcher, wrap.length ? [...wrap.slice(1), launcher, ...args] : args, {
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
    child.stdout!.on('data', () => /^ready$/m.test(bare(out)) && (clearTimeout(t), ok()));
    child.once('exit', (code) => (clearTimeout(t), fail(new Error(`exited ${code}:\n${out}`))));
  });
  return { child, output: () => bare(out), raw: () => out };
}

const port = (out: string, re: RegExp) => Number(re.exec(out)![1]);

describe('the release tarball', () => {
  test('holds the launcher, the bundle and its workers, the deploy files; nothing imports outside it', () => {
    for (const f of ['bin/hush-relay', 'bin/hush-relay-reload', 'lib/early-signals.js', 'lib/hush-relay.js', 'lib/verifier-worker.js', 'lib/turn-thread.js', 'lib/package.json', 'README.md', 'OPERATORS.md', 'hush-relay.service', 'hush-relay.sysusers', 'relay.json.example', 'turn-secrets.example', 'container.json', 'hush-relay.nft', 'Dockerfile', 'LICENSE', 'THIRD-PARTY-NOTICES.txt', 'hush-relay.rules.yml', 'hush-relay.dashboard.json']) {
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
    const r = await runUnpacked(['--listen', '127.0.0.1', '--port', '0', '--signal-port', '0', '--threads', '2', '--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8', '--redis', redis.url, '--node-id', 'packed', '--metrics-port', '0']);
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
    // /metrics is not on the public signal port without a token.
    expect((await fetch(`http://127.0.0.1:${signalPort}/metrics`)).status).toBe(404);
    const metricsPort = port(r.output(), /^listening metrics http 127\.0\.0\.1:(\d+) /m);
    // TURN threads report every second.
    const metrics = await waitFor(
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        return /^hush_relay_thread_allocations_created_total\{thread="1"\} [1-9]/m.test(text) && text;
      },
      { timeout: 5_000, interval: 100, what: "thread 1's allocations in /metrics" },
    );
    expect(metrics).toMatch(/^hush_relay_info\{version="0\.1\.0",node="packed"\} 1$/m);
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
    expect(bad.stderr).toMatch(/^hush-relay: ERR_CONFIG: /m);
    const noNode = spawnSync(join(unpacked, 'bin/hush-relay'), ['--help'], { env: { PATH: '/usr/bin:/bin', NODE: '/nonexistent/node' }, encoding: 'utf8' });
    expect(noNode.status).toBe(2);
    expect(noNode.stderr).toContain('install Node.js 24 (LTS)');
  });
});

describe('the tarball as an operator meets it (issue 20)', () => {
  // An unprivileged user, as the systemd unit and the image run it: nobody (65534), no capabilities.
  const AS_NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--'];
  const canDrop = () => process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v setpriv']).status === 0;

  test('LICENSE (AGPL-3.0-only) and third-party notices for every bundled package', () => {
    expect(readFileSync(join(unpacked, 'LICENSE'), 'utf8')).toMatch(/^GNU AFFERO GENERAL PUBLIC LICENSE\s+Version 3, 19 November 2007/);
    const notices = readFileSync(join(unpacked, 'THIRD-PARTY-NOTICES.txt'), 'utf8');
    // Since signalling v2 (issue 15) the relay checks Ed25519 mailbox keys only: ML-DSA (@noble/post-quantum) is no longer bundled.
    for (const pkg of ['@noble/curves', '@noble/hashes', '@redis/client', '@scure/base', 'ws']) expect(notices, pkg).toMatch(new RegExp(`^${pkg.replace('/', '\\/')} \\d+\\.\\d+\\.\\d+ \\(`, 'm'));
    expect(notices).toMatch(/Permission is hereby granted|Licensed under the Apache License|MIT License/);
  });

  test('unpacked and run as an unprivileged user: starts, answers /healthz, drains on SIGTERM; a port below 1024 is refused with the capability named', async (ctx) => {
    if (!canDrop()) return ctx.skip();
    for (let d = unpacked; d !== dirname(work); d = dirname(d)) chmodSync(d, 0o755);
    const r = await runUnpacked(['--listen', '127.0.0.1', '--port', '0', '--signal-port', '0', '--alt-port', 'off'], {}, AS_NOBODY);
    const pid = r.child.pid!;
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    // The launcher execs node: the process is node itself, as nobody.
    expect(Number(uid?.[1])).toBe(65534);
    // Default log lines carry time and level.
    expect(r.raw()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info  ready$/m);
    const signalPort = port(r.output(), /^listening signal ws [^\s]+:(\d+) /m);
    expect((await fetch(`http://127.0.0.1:${signalPort}/healthz`)).status).toBe(200);
    const exited = new Promise<number | null>((res) => r.child.once('exit', (code) => res(code)));
    r.child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const low = spawnSync(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), join(unpacked, 'bin/hush-relay'), '--port', '0', '--signal-port', '443'], {
      env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin` },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(low.status).toBe(2);
    expect(low.stdout + low.stderr).toMatch(/"signalPort" 443 is below 1024 and this process may not bind it: grant CAP_NET_BIND_SERVICE/);

    // A key only root can read (the systemd steps make it 0640 root:hush-relay; here 0600 root): named with its path.
    const key = join(work, 'root-only.key');
    writeFileSync(key, 'not a key\n', { mode: 0o600 });
    const empty = join(work, 'empty.json');
    writeFileSync(empty, '{}\n', { mode: 0o644 });
    chmodSync(work, 0o755);
    const denied = spawnSync(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), join(unpacked, 'bin/hush-relay'), '--check-config', empty, '--tls-cert', key, '--tls-key', key], {
      env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin` },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(denied.status).toBe(2);
    expect(denied.stdout + denied.stderr).toContain(`TLS certificate ("tlsCert") ${key}: EACCES (permission denied: the relay's user cannot read it`);
  });

  test('reloads during the start (bin/hush-relay-reload, the unit\'s ExecReload, from the spawn on) and after it do not kill it (exit 129 would not be restarted by Restart=on-failure)', async () => {
    const child = spawn(join(unpacked, 'bin/hush-relay'), ['--port', '0', '--signal-port', '0', '--alt-port', 'off', '--log-format', 'plain'], {
      env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const ended = new Promise<string>((res) => child.once('exit', (code, sig) => res(`${code}/${sig}`)));
    // A reload every 50 ms from the spawn until ready, as `systemctl reload` runs one: every phase of the
    // start gets one, Node's boot included (it resets SIGHUP to its default action, which ends the
    // process: the script waits until the relay handles SIGHUP). Each reload must succeed (exit 0).
    const reload = () =>
      new Promise<string>((res) => {
        const r = spawn(join(unpacked, 'bin/hush-relay-reload'), [String(child.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        r.stderr!.on('data', (d: Buffer) => (err += d.toString()));
        r.once('exit', (code) => res(`${code}${err ? ' ' + err.trim() : ''}`));
      });
    const reloads: Promise<string>[] = [];
    const deadline = Date.now() + 15_000;
    while (!/^ready$/m.test(out) && child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
      reloads.push(reload());
      await new Promise((res) => setTimeout(res, 50));
    }
    console.log(`reload sent ${reloads.length} times during the start`);
    expect(reloads.length).toBeGreaterThan(0);
    expect(await Promise.all(reloads)).toEqual(reloads.map(() => '0'));
    expect(await reload()).toBe('0');
    await waitFor(() => /^reload: /m.test(out) || child.exitCode !== null || child.signalCode !== null, { timeout: 5000, what: 'the reload after ready to be handled' });
    expect(child.signalCode, out).toBeNull();
    expect(out).toMatch(/^ready$/m);
    // The script refuses what is not a live process, with its reason.
    const gone = spawnSync(join(unpacked, 'bin/hush-relay-reload'), ['999999999'], { encoding: 'utf8' });
    expect(gone.status).toBe(1);
    expect(gone.stderr).toMatch(/no process 999999999/);
    child.kill('SIGTERM');
    expect(await ended).toBe('0/null');
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
    expect(ins[0]).toEqual({ op: 'FROM', args: 'node:24-bookworm-slim' });
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
    for (const p of ['3478/udp', '3478/tcp', '3479/udp', '5349/tcp', '8080/tcp', '49152-65535/udp']) expect(exposed).toContain(p);
    expect(exposed.some((p) => p.startsWith('9100') || p.startsWith('9478'))).toBe(false); // metrics stay on loopback
  });

  test('run as the image would: its ENV (container.json), its entrypoint, then its HEALTHCHECK command', async () => {
    const ins = dockerfile(readFileSync(join(unpacked, 'Dockerfile'), 'utf8'));
    const env: Record<string, string> = {};
    for (const e of ins.filter((i) => i.op === 'ENV')) {
      for (const m of e.args.matchAll(/(\w+)=(\S+)/g)) env[m[1]!] = m[2]!.replace('/opt/hush-relay/', unpacked + '/');
    }
    expect(env.HUSH_RELAY_CONFIG).toBe(join(unpacked, 'container.json'));
    expect(JSON.parse(readFileSync(env.HUSH_RELAY_CONFIG!, 'utf8'))).toEqual({ listen: '0.0.0.0', tlsPort: 5349, metricsPort: 9478, metricsListen: '127.0.0.1' });
    // Only the ports move (this machine is shared): everything else as in the image.
    const r = await runUnpacked(['--port', '0', '--signal-port', '0', '--metrics-port', '0', '--alt-port', 'off'], env);
    expect(r.output()).toMatch(/settings from defaults, file, command line/);
    expect(r.output()).toMatch(/^listening stun\+turn udp 0\.0\.0\.0:\d+$/m);
    const metricsPort = port(r.output(), /^listening metrics http 127\.0\.0\.1:(\d+) /m);
    // The HEALTHCHECK is the launcher asking itself with the same settings (no hard-wired address).
    const hc = JSON.parse(ins.find((i) => i.op === 'HEALTHCHECK')!.args.replace(/^.*?CMD\s+/, '')) as string[];
    expect(hc).toEqual(['/opt/hush-relay/bin/hush-relay', '--healthcheck']);
    const hcEnv = { ...env, PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HUSH_RELAY_METRICS_PORT: String(metricsPort) };
    const launcher = hc[0]!.replace('/opt/hush-relay/', unpacked + '/');
    const ok = spawnSync(launcher, hc.slice(1), { env: hcEnv });
    expect(ok.status, String(ok.stderr)).toBe(0);
    // With no metrics port it asks the signal port on the address signalling listens on.
    const signalPort = port(r.output(), /^listening signal ws [^\s]+:(\d+) /m);
    expect(spawnSync(launcher, hc.slice(1), { env: { ...hcEnv, HUSH_RELAY_METRICS_PORT: 'off', HUSH_RELAY_SIGNAL_PORT: String(signalPort) } }).status).toBe(0);
    const exited = new Promise<number | null>((res) => r.child.once('exit', (code) => res(code)));
    r.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const down = spawnSync(launcher, hc.slice(1), { env: hcEnv });
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
    expect(set('ExecReload')).toEqual(['/opt/hush-relay/bin/hush-relay-reload $MAINPID']);
    expect(set('MemoryDenyWriteExecute')).toEqual([]);
    expect(unit).toMatch(/NOT MemoryDenyWriteExecute=yes: V8's JIT/);
  });

  test('the offload drop-in alone adds CAP_BPF and CAP_NET_ADMIN; the tarball carries the offload sources and its built helper', () => {
    const dropIn = readFileSync(join(unpacked, 'hush-relay-offload.conf'), 'utf8');
    const set = (k: string) => [...dropIn.matchAll(new RegExp(`^${k}=(.*)$`, 'gm'))].map((m) => m[1]);
    expect(dropIn).toMatch(/^\[Service\]$/m);
    expect(set('CapabilityBoundingSet')).toEqual(['CAP_NET_BIND_SERVICE CAP_BPF CAP_NET_ADMIN']);
    expect(set('AmbientCapabilities')).toEqual(['CAP_NET_BIND_SERVICE CAP_BPF CAP_NET_ADMIN']);
    expect(set('SystemCallFilter')).toEqual(['bpf']);
    for (const f of ['bpf/Makefile', 'bpf/hush_xdp.bpf.c', 'bpf/hush_xdp.h', 'bpf/hush_xdp_helper.c', 'bpf/out/hush_xdp.bpf.o', 'bpf/out/hush-xdp-helper']) {
      expect(existsSync(join(unpacked, f)), f).toBe(true);
    }
  });

  test('the unpacked relay with --offload on relays in the kernel, from its own bpf/out (in a network namespace of its own)', async () => {
    const ns = `hush-pack-xdp-${process.pid}`;
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      const r = await runUnpacked(['--listen', '127.0.0.1', '--port', '3478', '--signal-port', 'off', '--auth-secret', 'pack-offload-secret-0123456789', '--offload', 'on'], {}, ['ip', 'netns', 'exec', ns]);
      expect(r.output()).toMatch(/^datapath: kernel XDP \((skb|native) mode\) on lo /m);
      const link = execFileSync('ip', ['-n', ns, '-j', 'link', 'show', 'lo'], { encoding: 'utf8' });
      expect(JSON.parse(link)[0]).toHaveProperty('xdp');
      r.child.kill('SIGTERM');
      await new Promise((ok) => r.child.once('exit', ok));
      await waitFor(() => !('xdp' in JSON.parse(execFileSync('ip', ['-n', ns, '-j', 'link', 'show', 'lo'], { encoding: 'utf8' }))[0]), { timeout: 10_000, what: 'the program detached after SIGTERM' });
    } finally {
      for (const p of execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean)) process.kill(Number(p), 'SIGKILL');
      execFileSync('ip', ['netns', 'del', ns]);
    }
  });

  test('the tarball carries the native forwarder, and the unpacked relay with --forwarder on uses it from its own native/out', async () => {
    for (const f of ['native/Makefile', 'native/hush_forward.c', 'native/out/hush_forward.node']) expect(existsSync(join(unpacked, f)), f).toBe(true);
    const r = await runUnpacked(['--listen', '127.0.0.1', '--port', '0', '--alt-port', 'off', '--signal-port', 'off', '--auth-secret', 'pack-forwarder-secret-0123456789', '--forwarder', 'on', '--threads', '2']);
    try {
      expect(r.output()).toMatch(/^datapath: native forwarder, 2 thread\(s\), for ChannelData over UDP\/IPv4/m);
    } finally {
      r.child.kill('SIGTERM');
      await new Promise((ok) => r.child.once('exit', ok));
    }
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
