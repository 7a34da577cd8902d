/**
 * The relay's kernel fast path (issue 16, `--offload on`): the real CLI in a
 * network namespace of its own (its loopback gets the XDP program in generic
 * mode; nothing is attached outside it), driven by coturn's
 * turnutils_uclient, with the kernel itself as the witness: bpftool lists
 * the program and its maps while the relay runs and none of them after it
 * is gone, `ip link` shows the attachment, /sys/fs/bpf holds nothing of it.
 *
 *  - UDP channels: every message relayed, and the kernel's counters account
 *    for every datagram (the userspace relay forwarded none);
 *  - a denied peer is never installed; a permission that expires takes its
 *    channel out of the kernel, late datagrams are not forwarded, and a
 *    CreatePermission refresh puts it back (offload-relay.fixture.ts, which
 *    needs the core's permission lifetime shortened); two allocations that
 *    are each other's peer (two relay-only clients) are relayed in one pass;
 *  - SIGTERM and SIGKILL of the relay leave no program attached and no map;
 *  - if the helper dies, the kernel has dropped the program: the relay says
 *    so and relays in userspace;
 *  - as an unprivileged user (no CAP_BPF, CAP_NET_ADMIN) the relay says the
 *    kernel refused and relays in userspace;
 *  - with --threads 2 the relay says it stays in userspace, and relays there;
 *  - native XDP on a veth between two namespaces (relay | client and peer):
 *    uclient to coturn's turnutils_peer echo, none lost, the kernel relays
 *    nearly all of it (a datagram whose next hop is not resolved yet goes
 *    through userspace), and the receiving namespace counts no UDP checksum
 *    error: the checksums the program writes are checked there.
 *
 * Needs root, clang, libbpf-dev, bpftool and coturn (.ci/run installs them);
 * beforeAll builds relay-server/bpf (make).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { METRICS_TOKEN, REPO_ROOT, TSX_LOADER, relayCommand, startRelayProcess, type RelayProcess } from '../harness/relay';
import { runUclient } from '../harness/uclient';
import { waitFor } from '../harness/wait';

const run = promisify(execFile);
const NS = `hush-xdp-${process.pid}`;
const SECRET = 'offload-lab-secret-0123456789';
const relays: RelayProcess[] = [];

beforeAll(() => {
  execFileSync('make', ['-s', '-C', resolve(REPO_ROOT, 'relay-server/bpf')], { stdio: 'pipe' });
  execFileSync('ip', ['netns', 'add', NS]);
  execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
});

afterAll(async () => {
  for (const r of relays) await r.stop();
  try {
    const pids = execFileSync('ip', ['netns', 'pids', NS]).toString().trim().split(/\s+/).filter(Boolean);
    for (const p of pids) process.kill(Number(p), 'SIGKILL');
  } catch {
    // namespace gone already
  }
  execFileSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
});

async function startOffloadRelay(extra: string[] = []): Promise<RelayProcess> {
  const r = await startRelayProcess(['--port', '3478', '--signal-port', '8080', '--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8', '--offload', 'on', ...extra], {
    netns: NS,
    timeoutMs: 40_000,
  });
  relays.push(r);
  return r;
}

/** /metrics from inside the namespace, as name -> value (labels kept in the name). */
async function metrics(ns = NS, host = '127.0.0.1'): Promise<Map<string, number>> {
  const script = `fetch('http://${host}:8080/metrics',{headers:{authorization:'Bearer ${METRICS_TOKEN}'}}).then(r=>r.text()).then(t=>process.stdout.write(t))`;
  const { stdout } = await run('ip', ['netns', 'exec', ns, process.execPath, '-e', script]);
  const out = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** What the kernel holds of Hush's fast path: attached programs on the namespace's loopback, loaded programs and maps by name, pinned files. */
async function kernelState(): Promise<{ attached: boolean; progs: number; maps: number; pinned: string[] }> {
  const link = JSON.parse((await run('ip', ['-n', NS, '-j', '-d', 'link', 'show', 'lo'])).stdout) as Array<Record<string, unknown>>;
  const progs = JSON.parse((await run('bpftool', ['-j', 'prog', 'show'])).stdout) as Array<{ name?: string }>;
  const maps = JSON.parse((await run('bpftool', ['-j', 'map', 'show'])).stdout) as Array<{ name?: string }>;
  const pinned: string[] = [];
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (/hush/i.test(f)) pinned.push(p);
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  if (existsSync('/sys/fs/bpf')) walk('/sys/fs/bpf');
  return {
    attached: link.some((l) => 'xdp' in l),
    progs: progs.filter((p) => p.name === 'hush_relay').length,
    maps: maps.filter((m) => m.name === 'hush_c2p' || m.name === 'hush_p2c').length,
    pinned,
  };
}

const gone = (s: Awaited<ReturnType<typeof kernelState>>) => !s.attached && s.progs === 0 && s.maps === 0 && s.pinned.length === 0;

describe('relay --offload on (XDP)', () => {
  test('turnutils_uclient, UDP channels: none lost, every datagram through the kernel', async () => {
    const relay = await startOffloadRelay();
    try {
      expect(relay.output()).toMatch(/^datapath: kernel XDP \((skb|native) mode\) on lo for ChannelData over UDP\/IPv4/m);
      const during = await kernelState();
      expect(during).toMatchObject({ attached: true, progs: 1, maps: 2, pinned: [] });
      const r = await runUclient(['-c', '-y', '-W', SECRET, '-u', 'offload', '-m', '4', '-n', '100', '-z', '5', '-l', '160', '-p', '3478', '127.0.0.1'], 60_000, NS);
      expect(r.errors, r.output).toEqual([]);
      expect(r.sent, r.output).toBe(400);
      expect(r.received, r.output).toBe(r.sent);
      expect(r.lost, r.output).toBe(0);
      // Each message crosses the relay twice (client -> peer, peer -> client); the
      // counters are read once a second, and the allocations' last counts when they end.
      const m = await waitFor(async () => {
        const m = await metrics();
        return (m.get('hush_relay_offload_packets_total') ?? 0) >= 2 * r.sent ? m : false;
      }, { timeout: 10_000, what: async () => `kernel counters to reach ${2 * r.sent}: ${JSON.stringify([...(await metrics())].filter(([k]) => /offload|relayed/.test(k)))}` });
      expect(m.get('hush_relay_offload_packets_total')).toBe(2 * r.sent);
      expect(m.get('hush_relay_offload_bytes_total')).toBe(2 * r.sent * 160);
      expect(m.get('hush_relay_relayed_packets_total')).toBe(0);
      expect(m.get('hush_relay_offload_installs_total')).toBeGreaterThan(0);
      expect(m.get('hush_relay_offload_kernel')).toBe(1);
      expect(m.get('hush_relay_offload_helper_errors_total')).toBe(0);
    } finally {
      await relay.stop();
    }
  });

  test('a denied peer is never installed; an expired permission leaves the kernel; a refresh puts it back', async () => {
    const { stdout } = await run('ip', ['netns', 'exec', NS, process.execPath, '--import', TSX_LOADER, resolve(REPO_ROOT, 'tests/lab/offload-relay.fixture.ts')], {
      cwd: REPO_ROOT,
      timeout: 60_000,
    });
    const r = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(r.datapath).toMatch(/^xdp-/);
    expect(r.denied).toEqual({ code: 403, installsBefore: 0, installsAfter: 0, entries: { c2p: 0, p2c: 0 } });
    expect(r.bound.entries).toEqual({ c2p: 1, p2c: 1 });
    expect(r.traffic).toEqual({ atPeer: 20, atClient: 20, kernelPackets: 40, userspaceBytes: 0 });
    expect(r.expired).toEqual({ c2p: 0, p2c: 0 });
    expect(r.late).toBe(0);
    expect(r.refresh.entries).toEqual({ c2p: 1, p2c: 1 });
    // The 20 late datagrams went nowhere (not through the kernel either); the marker did.
    expect(r.kernelPacketsEnd).toBe(41);
    expect(r.installsEnd).toBe(2);
    // Two allocations of the relay talking to each other: both hops in the kernel, none in userspace.
    expect(r.hairpin).toEqual({ at2: 20, at1: 20, kernelPackets: 80, userspaceBytes: 0 });
  });

  test.each([['SIGTERM'], ['SIGKILL']] as const)('%s of the relay leaves no program attached and no map', async (signal) => {
    const relay = await startOffloadRelay();
    expect(await kernelState()).toMatchObject({ attached: true, progs: 1, maps: 2 });
    process.kill(relay.pid, signal);
    await relay.exited;
    const after = await waitFor(async () => {
      const s = await kernelState();
      return gone(s) ? s : false;
    }, { timeout: 10_000, what: async () => `the kernel to drop the program: ${JSON.stringify(await kernelState())}` });
    expect(after).toEqual({ attached: false, progs: 0, maps: 0, pinned: [] });
    expect(execFileSync('ip', ['netns', 'pids', NS]).toString().trim()).toBe('');
  });

  test('if the helper dies, the program is gone, the relay says so and relays in userspace', async () => {
    const relay = await startOffloadRelay();
    try {
      const children = readFileSync(`/proc/${relay.pid}/task/${relay.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      const helper = children.find((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('hush-xdp-helper'));
      expect(helper, 'the helper is a child of the relay').toBeDefined();
      process.kill(Number(helper), 'SIGKILL');
      await waitFor(() => /^offload helper exited: the kernel detached the program, media is relayed in userspace$/m.test(relay.output()), {
        timeout: 10_000,
        what: () => `the relay to say the offload is gone:\n${relay.output()}`,
      });
      await waitFor(async () => gone(await kernelState()), { timeout: 10_000, what: 'the program to be gone' });
      const r = await runUclient(['-c', '-y', '-W', SECRET, '-u', 'orphan', '-m', '2', '-n', '20', '-z', '5', '-l', '160', '-p', '3478', '127.0.0.1'], 60_000, NS);
      expect(r.received, r.output).toBe(r.sent);
      expect(r.lost, r.output).toBe(0);
      const m = await metrics();
      expect(m.get('hush_relay_offload_kernel')).toBe(0);
      expect(m.get('hush_relay_relayed_packets_total')).toBeGreaterThanOrEqual(2 * r.sent);
    } finally {
      await relay.stop();
    }
  });

  test('without CAP_BPF and CAP_NET_ADMIN (an unprivileged user) the relay says the kernel refused, and relays in userspace', async () => {
    const { cmd, argv } = relayCommand(['--listen', '127.0.0.1', '--port', '3478', '--signal-port', '8080', '--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8', '--offload', 'on']);
    const child = spawn('ip', ['netns', 'exec', NS, 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', cmd, ...argv], {
      cwd: REPO_ROOT,
      env: { ...process.env, HOME: '/tmp' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(() => /^ready$/m.test(out) || child.exitCode !== null, { timeout: 40_000, what: () => `the unprivileged relay to start:\n${out}` });
      expect(out).toMatch(/^datapath: userspace \(--offload: the kernel refused XDP: .+\)$/m);
      expect(await kernelState()).toMatchObject({ attached: false, progs: 0 });
      const r = await runUclient(['-c', '-y', '-W', SECRET, '-u', 'nobody', '-m', '2', '-n', '20', '-z', '5', '-l', '160', '-p', '3478', '127.0.0.1'], 60_000, NS);
      expect(r.received, r.output).toBe(r.sent);
      expect(r.lost, r.output).toBe(0);
      expect((await metrics()).get('hush_relay_offload_kernel')).toBe(0);
    } finally {
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await new Promise((ok) => child.once('exit', ok));
    }
  });

  test('with --threads 2 the relay says it stays in userspace, and relays there', async () => {
    const relay = await startOffloadRelay(['--threads', '2']);
    try {
      expect(relay.output()).toMatch(/^datapath: userspace \(--offload: .*--threads 1\)$/m);
      expect(await kernelState()).toMatchObject({ attached: false, progs: 0 });
      const r = await runUclient(['-c', '-y', '-W', SECRET, '-u', 'fallback', '-m', '2', '-n', '20', '-z', '5', '-l', '160', '-p', '3478', '127.0.0.1'], 60_000, NS);
      expect(r.received, r.output).toBe(r.sent);
      expect(r.lost, r.output).toBe(0);
      // TURN threads report their counts to the main thread now and then: wait for the last report.
      const m = await waitFor(async () => {
        const m = await metrics();
        return (m.get('hush_relay_relayed_packets_total') ?? 0) >= 2 * r.sent ? m : false;
      }, { timeout: 15_000, what: async () => `userspace counters to cover ${2 * r.sent} datagrams: ${(await metrics()).get('hush_relay_relayed_packets_total')}` });
      expect(m.get('hush_relay_offload_kernel')).toBe(0);
      expect(m.get('hush_relay_offload_packets_total')).toBe(0);
    } finally {
      await relay.stop();
    }
  });
});

describe('relay --offload on, native XDP on a veth between namespaces', () => {
  const R = `hush-xdp-r-${process.pid}`;
  const C = `hush-xdp-c-${process.pid}`;

  afterAll(() => {
    for (const ns of [R, C]) {
      try {
        for (const p of execFileSync('ip', ['netns', 'pids', ns]).toString().trim().split(/\s+/).filter(Boolean)) process.kill(Number(p), 'SIGKILL');
      } catch {
        // not created
      }
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    }
  });

  test('uclient to turnutils_peer through 10.99.0.1 on r0: none lost, through the kernel, checksums good at the receiver', async () => {
    const sh = (...args: string[]) => execFileSync('ip', args);
    sh('netns', 'add', R);
    sh('netns', 'add', C);
    // Both ends created inside the lab namespaces: nothing in the root namespace.
    sh('-n', R, 'link', 'add', 'r0', 'type', 'veth', 'peer', 'name', 'c0', 'netns', C);
    sh('netns', 'exec', R, 'sysctl', '-qw', 'net.ipv4.conf.r0.forwarding=1');
    sh('-n', R, 'addr', 'add', '10.99.0.1/24', 'dev', 'r0');
    sh('-n', C, 'addr', 'add', '10.99.0.2/24', 'dev', 'c0');
    sh('-n', C, 'addr', 'add', '10.99.0.3/24', 'dev', 'c0');
    for (const [ns, dev] of [[R, 'r0'], [R, 'lo'], [C, 'c0'], [C, 'lo']] as const) sh('-n', ns, 'link', 'set', dev, 'up');
    // A veth takes XDP frames (XDP_TX from r0) only when its peer runs XDP too, as a NIC
    // would take them: the same object with empty maps, which passes everything.
    sh('-n', C, 'link', 'set', 'dev', 'c0', 'xdpdrv', 'obj', resolve(REPO_ROOT, 'relay-server/bpf/out/hush_xdp.bpf.o'), 'sec', 'xdp');
    const peer = execFile('ip', ['netns', 'exec', C, 'turnutils_peer', '-L', '10.99.0.3', '-p', '3480']);
    const relay = await startRelayProcess(['--listen', '10.99.0.1', '--port', '3478', '--signal-port', '8080', '--auth-secret', SECRET, '--allow-peer', '10.99.0.0/24', '--offload', 'on'], {
      netns: R,
      timeoutMs: 40_000,
    });
    relays.push(relay);
    try {
      expect(relay.output()).toMatch(/^datapath: kernel XDP \(native mode\) on r0 /m);
      const r = await runUclient(['-c', '-e', '10.99.0.3', '-r', '3480', '-W', SECRET, '-u', 'veth', '-m', '4', '-n', '100', '-z', '5', '-l', '160', '-p', '3478', '10.99.0.1'], 60_000, C);
      expect(r.errors, r.output).toEqual([]);
      expect(r.sent, r.output).toBe(400);
      expect(r.received, r.output).toBe(r.sent);
      expect(r.lost, r.output).toBe(0);
      const m = await waitFor(async () => {
        const m = await metrics(R, '10.99.0.1');
        return (m.get('hush_relay_offload_packets_total') ?? 0) + (m.get('hush_relay_relayed_packets_total') ?? 0) >= 2 * r.sent ? m : false;
      }, { timeout: 10_000, what: 'the kernel and userspace counters to cover every datagram' });
      expect(m.get('hush_relay_offload_packets_total')).toBeGreaterThanOrEqual(2 * r.sent - 8);
      expect(m.get('hush_relay_offload_kernel')).toBe(1);
      expect(m.get('hush_relay_offload_native')).toBe(1);
      const nstat = execFileSync('ip', ['netns', 'exec', C, 'nstat', '-az', 'UdpInCsumErrors', 'UdpInDatagrams'], { encoding: 'utf8' });
      expect(Number(/UdpInDatagrams\s+(\d+)/.exec(nstat)?.[1])).toBeGreaterThanOrEqual(2 * r.sent);
      expect(Number(/UdpInCsumErrors\s+(\d+)/.exec(nstat)?.[1])).toBe(0);
    } finally {
      await relay.stop();
      peer.kill('SIGKILL');
    }
  });
});
