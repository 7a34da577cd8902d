/**
 * The lab itself, without a browser: the topology, each NAT behaviour seen
 * with plain UDP probes (a reflector in the internet plays STUN), the cut,
 * the UDP block, and cleanup in every way a run can end (destroy(),
 * SIGTERM, SIGKILL + cleanupStaleLabs()).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TSX_LOADER } from '../harness/relay';
import { run } from './commands';
import { cleanupStaleLabs, createLab, requireRoot, type Lab } from './netns';
import { probe, startReflector } from './probes';

const support = requireRoot();
const FIXTURE = resolve(import.meta.dirname, 'fixtures/hold-lab.ts');

const namespaces = async () => (await run('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]).filter(Boolean);
const rootLinks = async () => (await run('ip', ['-o', 'link'])).stdout.split('\n').map((l) => l.split(':')[1]?.trim() ?? '').filter(Boolean).sort();
/** Whether pid still runs (a zombie waiting for init to reap it does not). */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};
const port = (mapped: string | null | undefined) => (mapped ? Number(mapped.split(':')[1]) : null);

/** Run the hold-lab fixture; resolves with what it printed once its lab is built. */
function holdLab() {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, FIXTURE], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const info = new Promise<{ prefix: string; namespaces: string[]; childPid: number }>((ok, fail) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) ok(JSON.parse(line));
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => fail(new Error(`hold-lab exited (${code}) before its lab was up: ${out}`)));
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { child, info, exited };
}

describe.skipIf(support.skip)('network lab', () => {
  let lab: Lab;
  let linksBefore: string[];
  const { relay, wanA, wanB, hostB } = { relay: '203.0.113.10', wanA: '203.0.113.1', wanB: '203.0.113.2', hostB: '10.200.2.2' };

  beforeAll(async () => {
    linksBefore = await rootLinks();
    lab = await createLab({ natA: 'eim', natB: 'symmetric' });
    await startReflector(lab, 'inet', relay, [4000, 4001]);
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  test('builds five namespaces and leaves no lab interface in the root namespace', async () => {
    const ns = await namespaces();
    for (const n of Object.values(lab.ns)) expect(ns).toContain(n);
    expect(await rootLinks()).toEqual(linksBefore);
    for (const n of Object.values(lab.ns)) expect(n.length).toBeLessThanOrEqual(15);
    const routes = (await lab.exec('inet', 'ip', ['route'])).stdout;
    expect(routes).toMatch(/^default dev sink/m);
  });

  test('an endpoint-independent NAT keeps one public port for every destination', async () => {
    const r = await probe(lab, 'hostA', [`${relay}:4000`, `${relay}:4001`], { port: 5000 });
    const [m1, m2] = [r.answers[`${relay}:4000`], r.answers[`${relay}:4001`]];
    expect(m1).toMatch(new RegExp(`^${wanA}:\\d+$`));
    expect(m2).toBe(m1);
  });

  test('a symmetric NAT gives each destination its own public port', async () => {
    const r = await probe(lab, 'hostB', [`${relay}:4000`, `${relay}:4001`], { port: 5000 });
    const [m1, m2] = [r.answers[`${relay}:4000`], r.answers[`${relay}:4001`]];
    expect(m1).toMatch(new RegExp(`^${wanB}:\\d+$`));
    expect(m2).toMatch(new RegExp(`^${wanB}:\\d+$`));
    expect(port(m2)).not.toBe(port(m1));
  });

  test('the home-router firewall drops unsolicited inbound; eim-open does not', async () => {
    const rr = await startReflector(lab, 'rtrA', wanA, [4100]);
    try {
      expect((await probe(lab, 'inet', [`${wanA}:4100`])).answers[`${wanA}:4100`]).toBeNull();
      await lab.setNat('A', 'eim-open');
      const r = await probe(lab, 'inet', [`${wanA}:4100`]);
      expect(r.answers[`${wanA}:4100`]).toMatch(/^203\.0\.113\.(10|254):\d+$/);
    } finally {
      await lab.setNat('A', 'eim');
      rr.stop();
    }
  });

  test('hosts cannot reach the other LAN, and the internet swallows packets to private addresses', async () => {
    expect((await probe(lab, 'hostA', [`${hostB}:4000`])).answers[`${hostB}:4000`]).toBeNull();
    // From the internet, a send to a LAN address must not fail (ENETUNREACH would end the probe): the sink takes it.
    const fromInet = await probe(lab, 'inet', ['10.200.1.2:9', `${relay}:4000`]);
    expect(fromInet.answers['10.200.1.2:9']).toBeNull();
    expect(fromInet.answers[`${relay}:4000`]).not.toBeNull();
  });

  test('cutDirect drops traffic between the two WAN addresses only; restoreDirect brings it back', async () => {
    await lab.setNat('B', 'eim-open'); // so router B itself answers a probe to its WAN
    const rr = await startReflector(lab, 'rtrB', wanB, [4200]);
    try {
      const targets = [`${wanB}:4200`, `${relay}:4000`];
      let r = await probe(lab, 'hostA', targets);
      expect(r.answers[`${wanB}:4200`]).toMatch(new RegExp(`^${wanA}:`));
      await lab.cutDirect();
      r = await probe(lab, 'hostA', targets);
      expect(r.answers[`${wanB}:4200`]).toBeNull();
      expect(r.answers[`${relay}:4000`]).toMatch(new RegExp(`^${wanA}:`));
      await lab.restoreDirect();
      r = await probe(lab, 'hostA', targets);
      expect(r.answers[`${wanB}:4200`]).toMatch(new RegExp(`^${wanA}:`));
    } finally {
      await lab.restoreDirect();
      await lab.setNat('B', 'symmetric');
      rr.stop();
    }
  });

  test('blockUdpTo drops UDP to that address and port only', async () => {
    await lab.setNat('A', 'eim', { blockUdpTo: { ip: relay, port: 4000 } });
    try {
      expect(lab.nat('A')).toEqual({ mode: 'eim', blockUdpTo: { ip: relay, port: 4000 } });
      const r = await probe(lab, 'hostA', [`${relay}:4000`, `${relay}:4001`]);
      expect(r.answers[`${relay}:4000`]).toBeNull();
      expect(r.answers[`${relay}:4001`]).not.toBeNull();
    } finally {
      await lab.setNat('A', 'eim');
    }
  });

  test('a failing command says which command failed', async () => {
    await expect(lab.exec('hostA', 'false')).rejects.toThrow(`\`ip netns exec ${lab.ns.hostA} false\` failed (exit 1)`);
    await expect(lab.exec('hostA', 'ip', ['link', 'set', 'nosuchdev', 'up'])).rejects.toThrow(/Cannot find device "nosuchdev"/);
    expect(() => lab.exec('someone-elses-ns', 'true')).toThrow(/not a namespace of lab/);
  });

  test('destroy() kills the lab\'s processes and removes its namespaces and files', async () => {
    const other = await createLab();
    const sleeper = other.spawnIn('hostA', 'sleep', ['600']);
    const exited = new Promise((r) => sleeper.once('exit', r));
    await other.destroy();
    await exited;
    const ns = await namespaces();
    for (const n of Object.values(other.ns)) {
      expect(ns).not.toContain(n);
      expect(existsSync(`/etc/netns/${n}`)).toBe(false);
    }
    expect(existsSync(`/run/hush-lab/${other.prefix}.json`)).toBe(false);
    await other.destroy(); // idempotent
  });

  test('SIGTERM to a run cleans up its lab', async () => {
    const h = holdLab();
    const info = await h.info;
    expect(await namespaces()).toEqual(expect.arrayContaining(info.namespaces));
    h.child.kill('SIGTERM');
    await h.exited;
    const ns = await namespaces();
    for (const n of info.namespaces) expect(ns).not.toContain(n);
    expect(alive(info.childPid)).toBe(false);
  });

  test('cleanupStaleLabs() removes a SIGKILLed run\'s lab and leaves look-alikes it cannot prove are ours', async () => {
    const h = holdLab();
    const info = await h.info;
    h.child.kill('SIGKILL');
    await h.exited;
    expect(await namespaces()).toEqual(expect.arrayContaining(info.namespaces)); // nothing could run
    // A namespace named like a lab, but with no owner file: not provably ours.
    const lookAlike = `hl${'zzz'}-inet`;
    const made = !(await namespaces()).includes(lookAlike);
    if (made) await run('ip', ['netns', 'add', lookAlike]);
    try {
      const removed = await cleanupStaleLabs();
      expect(removed).toEqual(expect.arrayContaining(info.namespaces));
      expect(removed).not.toContain(lookAlike);
      const ns = await namespaces();
      for (const n of info.namespaces) expect(ns).not.toContain(n);
      expect(ns).toContain(lookAlike);
      expect(alive(info.childPid)).toBe(false);
    } finally {
      if (made) await run('ip', ['netns', 'delete', lookAlike]);
    }
  });
});
