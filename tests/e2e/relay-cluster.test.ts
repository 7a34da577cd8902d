/**
 * Several relay nodes, one deployment, through the real extension UI: a Redis
 * and two hush-relay nodes on loopback (`--redis`, `--node-id`), two Chromium
 * processes with the built extension. A lists node 1 first, B node 2 first,
 * so they sign in on different nodes; both in privacy mode (relay only), so
 * each side's media goes through the TURN of its own node and the call
 * crosses between nodes. Then node 1 dies (SIGKILL, a crash) mid-call: A's
 * signalling must fail over to node 2, A's TURN must move there (the media
 * engine sees the stall and replaces the connection with node 2's
 * credentials), audio must come back both ways, and the end-to-end keys must
 * be the same ones: the SAS unchanged, frame counters still rising, no frame
 * failing authentication.
 *
 * The nodes stand behind one address, as a deployment does behind its load
 * balancer or DNS name (tests/harness/tcp-proxy.ts): since signalling v2 a
 * mailbox is per relay URL, so every node runs `--signal-url` with that one
 * URL and the extensions list only it. Which node holds whom is read from
 * each node's /metrics; the balancer's rotation is set as a health check would.
 *
 * Then a planned restart: a third node is drained (SIGTERM) mid-call. It
 * tells its clients to move (close 1012): A goes to node 2 at once and
 * restarts ICE there while the old path still carries audio, so the call
 * moves without a break; the drained node sees the moved call's allocations
 * go quiet, releases them and exits 0 before its drain timeout.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { startRedis, type RedisProcess } from '../harness/redis';
import { scrapeMetrics } from '../harness/metrics';
import { waitForReading } from '../harness/audio';
import { click, dialByUi, dismiss, hears, launchSide, request, stats, waitCallState, waitText, type HushSide } from '../harness/hush';
import { sleep, waitFor } from '../harness/wait';
import { startTcpProxy, type TcpProxy } from '../harness/tcp-proxy';

const A_HZ = 440;
const B_HZ = 880;
const SECRET = 'cluster-e2e-secret';
let redis: RedisProcess;
let n1: RelayProcess;
let n2: RelayProcess;
let n3: RelayProcess | undefined;
let a: HushSide;
let b: HushSide;
let lb: TcpProxy;
let url: string;

const relayUrl = (s: HushSide) => s.popup.$eval('[data-testid="relay-status"]', (e) => e.getAttribute('data-url') ?? '');
/** Signalling connections a node holds now (its /metrics). */
const held = async (n: RelayProcess) => (await scrapeMetrics(`http://127.0.0.1:${n.signalPort}`)).hush_relay_signal_connections ?? 0;
const connected = (s: HushSide, ms = 20_000) => waitText(s.popup, '[data-testid="relay-status"]', (t) => t === 'Connected to relay', ms);
const nodeArgs = (id: string) => ['--redis', redis.url, '--node-id', id, '--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8', '--signal-url', url];
const sas = (s: HushSide) => s.popup.$eval('[data-testid="sas"]', (e) => e.textContent ?? '');

beforeAll(async () => {
  redis = await startRedis();
  lb = await startTcpProxy([]);
  url = `ws://127.0.0.1:${lb.port}/signal`;
  n1 = await startRelayProcess(nodeArgs('node-1'));
  n2 = await startRelayProcess(nodeArgs('node-2'));
  // B signs in on node 2, then A on node 1, both through the one address; privacy mode: only
  // relayed candidates, so each side's media goes through its own node's TURN.
  lb.setBackends([n2.signalPort]);
  b = await launchSide({ toneHz: B_HZ, signalUrl: url });
  await request(b.popup, 'update-settings', { settings: { relays: [url], privacyMode: true } });
  await connected(b);
  await waitFor(async () => (await held(n2)) === 1, { timeout: 10_000, what: 'B on node 2' });
  lb.setBackends([n1.signalPort, n2.signalPort]);
  a = await launchSide({ toneHz: A_HZ, signalUrl: url });
  await request(a.popup, 'update-settings', { settings: { relays: [url], privacyMode: true } });
  await connected(a);
  await waitFor(async () => (await held(n1)) === 1, { timeout: 10_000, what: 'A on node 1' });
});

afterAll(async () => {
  await Promise.allSettled([a?.close(), b?.close()]);
  await Promise.allSettled([n1?.stop(), n2?.stop(), n3?.stop()]);
  await lb?.close();
  await redis?.dispose();
});

describe('a call across two relay nodes', () => {
  test('A on node 1 calls B on node 2; node 1 dies mid-call; signalling and TURN move to node 2; same keys', async () => {
    expect(await relayUrl(a)).toBe(url);
    expect(await held(n1)).toBe(1);
    expect(await held(n2)).toBe(1);

    await dialByUi(a.popup, b.address);
    await waitCallState(b.popup, 'incoming');
    await click(b.popup, 'accept');
    await waitCallState(a.popup, 'connected');
    await waitCallState(b.popup, 'connected');
    const sasA = await sas(a);
    expect(sasA).toMatch(/^\d{3} \d{3}$/);
    expect(await sas(b)).toBe(sasA);
    await waitForReading(() => hears(b), (r) => Math.abs(r.frequency - A_HZ) < 10 && r.rmsDb > -40);
    await waitForReading(() => hears(a), (r) => Math.abs(r.frequency - B_HZ) < 10 && r.rmsDb > -40);
    const before = { a: await stats(a), b: await stats(b) };
    for (const s of [before.a, before.b]) {
      expect(s.localType).toBe('relay');
      expect(s.frames.decrypted).toBeGreaterThan(0);
      expect(s.frames.authFailed).toBe(0);
    }
    // The call's envelopes crossed between the nodes through Redis; each node relays its own side.
    const m1 = await scrapeMetrics(`http://127.0.0.1:${n1.signalPort}`);
    const m2 = await scrapeMetrics(`http://127.0.0.1:${n2.signalPort}`);
    expect(m1.hush_relay_cluster_published_total).toBeGreaterThan(0);
    console.log(`call set up across nodes: ${m1.hush_relay_cluster_published_total! + m2.hush_relay_cluster_published_total!} envelopes through Redis (node 1 ${m1.hush_relay_cluster_published_total}, node 2 ${m2.hush_relay_cluster_published_total})`);
    expect(m2.hush_relay_cluster_received_total).toBeGreaterThan(0);
    expect(m1.hush_relay_allocations).toBeGreaterThan(0);
    expect(m2.hush_relay_allocations).toBeGreaterThan(0);
    // Let the call run a moment, then node 1 crashes.
    await sleep(2000); // intent: the call has run 2 s when its node dies
    const mid = { a: await stats(a), b: await stats(b) };
    const t0 = Date.now();
    process.kill(n1.pid, 'SIGKILL');
    await n1.exited;

    // A's signalling comes back through the same address, now on node 2 (node 1 refuses: dead).
    await waitFor(async () => (await held(n2)) === 2, { timeout: 30_000, what: "A's signalling to come back on node 2" });
    await connected(a);
    const signalMs = Date.now() - t0;

    // Audio comes back both ways, with the same keys. Both sides are relay only and node 1 is
    // gone, so media that flows now flows through node 2's TURN.
    const decA = mid.a.frames.decrypted;
    const decB = mid.b.frames.decrypted;
    // 100 frames (2 s of audio) past what was decrypted before the kill: the path is back.
    const now = await waitFor(
      async () => {
        const x = { a: await stats(a), b: await stats(b) };
        return x.a.frames.decrypted > decA + 100 && x.b.frames.decrypted > decB + 100 && x;
      },
      { timeout: 30_000, interval: 250, what: 'both sides to decrypt 100 frames more than before node 1 died' },
    );
    const atB = await waitForReading(() => hears(b), (r) => Math.abs(r.frequency - A_HZ) < 10 && r.rmsDb > -40, { timeoutMs: 15_000 });
    const atA = await waitForReading(() => hears(a), (r) => Math.abs(r.frequency - B_HZ) < 10 && r.rmsDb > -40, { timeoutMs: 15_000 });
    const audioMs = Date.now() - t0;
    expect(Math.abs(atB.frequency - A_HZ)).toBeLessThan(10);
    expect(Math.abs(atA.frequency - B_HZ)).toBeLessThan(10);
    // Keep listening a moment, then read the counters: still rising, nothing failed authentication.
    await sleep(1000); // intent: a second of audio between the two readings
    const after = { a: await stats(a), b: await stats(b) };
    const gapA = after.a.frames.longestGapMs ?? -1;
    const gapB = after.b.frames.longestGapMs ?? -1;
    console.log(
      `node 1 killed: A's signalling on node 2 after ${signalMs} ms; audio both ways checked after ${audioMs} ms; ` +
        `longest audio gap at A ${gapA} ms, at B ${gapB} ms; frames decrypted A ${decA}→${after.a.frames.decrypted}, B ${decB}→${after.b.frames.decrypted}; ` +
        `node 2 allocations made ${m2.hush_relay_allocations_created_total}→${(await scrapeMetrics(`http://127.0.0.1:${n2.signalPort}`)).hush_relay_allocations_created_total}`,
    );
    for (const side of ['a', 'b'] as const) {
      expect(after[side].localType).toBe('relay');
      // Same frame keys and counters: a key change would show as authentication failures.
      expect(after[side].frames.authFailed).toBe(0);
      expect(after[side].frames.dropped).toBe(0);
      expect(after[side].frames.encrypted).toBeGreaterThan(mid[side].frames.encrypted);
      expect(after[side].frames.decrypted).toBeGreaterThan(now[side].frames.decrypted);
      expect(now[side].frames.decrypted).toBeGreaterThan(mid[side].frames.decrypted + 100);
    }
    expect(await sas(a)).toBe(sasA);
    expect(await sas(b)).toBe(sasA);
    // Node 2 made the new allocations (A's, and B's for the fresh connection).
    const m2after = await scrapeMetrics(`http://127.0.0.1:${n2.signalPort}`);
    expect(m2after.hush_relay_allocations_created_total! - m2.hush_relay_allocations_created_total!).toBeGreaterThanOrEqual(2);

    await click(a.popup, 'hangup');
    await waitCallState(a.popup, 'ended');
    await waitCallState(b.popup, 'ended');
  });

  test('a node drained mid-call (SIGTERM): A moves to node 2 at once, ICE restarts there, audio goes on; the node exits 0', async () => {
    n3 = await startRelayProcess([...nodeArgs('node-3'), '--drain-timeout', '20']);
    await Promise.all([dismiss(a.popup), dismiss(b.popup)]);
    // A new node joins the rotation; A's next connection goes there.
    lb.setBackends([n3.signalPort, n2.signalPort]);
    await request(a.popup, 'reconnect-relay');
    await waitFor(async () => (await held(n3!)) === 1 && (await held(n2)) === 1, { timeout: 20_000, what: 'A on node 3, B still on node 2' });
    await connected(a);

    await dialByUi(a.popup, b.address);
    await waitCallState(b.popup, 'incoming');
    await click(b.popup, 'accept');
    await waitCallState(a.popup, 'connected');
    await waitForReading(() => hears(b), (r) => Math.abs(r.frequency - A_HZ) < 10 && r.rmsDb > -40);
    await waitForReading(() => hears(a), (r) => Math.abs(r.frequency - B_HZ) < 10 && r.rmsDb > -40);
    const sasA = await sas(a);
    expect((await scrapeMetrics(`http://127.0.0.1:${n3.signalPort}`)).hush_relay_allocations).toBeGreaterThan(0);
    await sleep(1000); // intent: the call has run a second on node 3 before it drains
    const mid = { a: await stats(a), b: await stats(b) };

    const t0 = Date.now();
    const exited = n3.exited;
    // The balancer's health check sees node 3 draining and takes it out of the rotation.
    lb.setBackends([n2.signalPort]);
    process.kill(n3.pid, 'SIGTERM');
    await waitFor(async () => (await held(n2)) === 2, { timeout: 10_000, what: "A's signalling to move to node 2" });
    await connected(a, 10_000);
    const movedMs = Date.now() - t0;
    const code = await Promise.race([exited.then((e) => e.code), new Promise<string>((r) => setTimeout(() => r('still running'), 25_000))]);
    const exitMs = Date.now() - t0;
    // The call is on node 2 only now (node 3 is gone), with the same keys and no break worth the name.
    await waitForReading(() => hears(b), (r) => Math.abs(r.frequency - A_HZ) < 10 && r.rmsDb > -40);
    await waitForReading(() => hears(a), (r) => Math.abs(r.frequency - B_HZ) < 10 && r.rmsDb > -40);
    await sleep(1000); // intent: a second of audio on node 2 before the counters are read
    const after = { a: await stats(a), b: await stats(b) };
    console.log(
      `node 3 drained: A on node 2 after ${movedMs} ms; node 3 exited (${code}) after ${exitMs} ms; ` +
        `longest audio gap at A ${after.a.frames.longestGapMs} ms, at B ${after.b.frames.longestGapMs} ms`,
    );
    expect(code).toBe(0);
    // Before its 20 s drain timeout: once the call had moved, its allocations went quiet and were released.
    expect(exitMs).toBeLessThan(19_000);
    for (const side of ['a', 'b'] as const) {
      expect(after[side].frames.authFailed).toBe(0);
      expect(after[side].frames.decrypted).toBeGreaterThan(mid[side].frames.decrypted + 50);
      expect(after[side].frames.longestGapMs ?? 0).toBeLessThan(1000);
    }
    expect(await sas(a)).toBe(sasA);
    expect(await sas(b)).toBe(sasA);
    await click(a.popup, 'hangup');
    await waitCallState(b.popup, 'ended');
  });
});
