/**
 * P2P first, relay within 800 ms: the real extension in the NAT lab.
 *
 * Two Chromiums with the built extension, each on a host behind its own home
 * router (tests/lab/netns.ts), the real relay in the "internet" namespace,
 * every call dialled and answered through the popup's UI, audio checked at
 * both ends. The scenarios of issue 5:
 *
 *   1. both routers endpoint-independent + firewall   → P2P (srflx)
 *   2. one side symmetric                              → relay, engaged ≤ 800 ms after the exchange
 *   3. both symmetric                                  → relay
 *   4. UDP to the relay's UDP port blocked             → TURN over TCP carries the call
 *   5. mid-call cut of the direct path                 → the standby relay connection takes the audio
 *      (make before break, lib/media/path-switch.ts)     (gap heard at each side measured); restored →
 *                                                         back to P2P; same SAS, frames keep decrypting
 *   6. privacy mode                                    → relay although P2P works; the peer receives no
 *                                                         address of ours in any candidate
 *   7. privacy mode on both sides                      → relay-only both ways, through the relay's kernel
 *                                                         fast path; no RTP lost over a measured window
 *   8. two relays (issue 15): A on R1, B on R2,        → (a) P2P; (b) privacy on both sides: relay ↔ relay
 *      A dials B's card hush1…@R2                        across R1 and R2, both relays allocate for it
 *
 * The relay runs with `--offload on` (issue 16): the kernel (XDP, generic
 * mode on the internet bridge br0) relays ChannelData over UDP. In the
 * relayed UDP scenarios 2, 3 and 7 the relay's /metrics must show the
 * kernel path on, its packet counter grown by 80 % of the RTP packets both
 * browsers received and by more than userspace's (6: printed only); TURN over TCP (4) stays in userspace by design
 * (no kernel packet for that call). R2 in 8 runs with the native forwarder
 * instead (`--forwarder on`): in 8b, where R1 relays in userspace (its next
 * hop to R2 is local), B's media crosses R2's C threads, and R2's counters
 * must show it (more datagrams through the forwarder than through R2's
 * JavaScript). e2e two-relays, relay-view and the integration layer's relay
 * tests run the relay in userspace JavaScript.
 *
 * Timings (medians over the runs of a scenario) are printed as a table, with
 * dial → first decrypted frame at the callee and the longest audio gap heard
 * at each side on the cut and on the restore (tests/harness/level-watch.ts:
 * the remote audio's level every ~10 ms in the media host). No assertion on
 * their length: speed is for benches; the table shows them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EXTENSION_DIR } from '../harness/chromium';
import { waitForReading } from '../harness/audio';
import { callState, click, hears, launchSide, request, stats, typeDialAddress, waitCallState, waitIncoming, waitText, type HushSide, type StatsView } from '../harness/hush';
import { launchExtensionInNamespace } from './chromium-in-ns';
import { createLab, requireRoot, type Lab, type NatMode, type NatOptions } from './netns';
import { SIGNAL_PORT, startLabRelay, type LabRelay } from './relay-in-ns';
import { median } from './report';
import { waitFor, sleep } from '../harness/wait';
import { longestSilence, startLevelWatch, stopLevelWatch } from '../harness/level-watch';

const support = requireRoot();
const built = existsSync(join(EXTENSION_DIR, 'manifest.json'));
const RUNS = Number(process.env.HUSH_LAB_RUNS ?? 3);
const A_HZ = 440;
const B_HZ = 880;
const RETRY_DIRECT_MS = 3000;

interface Row {
  scenario: string;
  path: string;
  pair: string;
  dialToConnected: number[];
  /** Dial → the callee's first decrypted frame (its frame worker's clock, the same machine's). */
  dialToFirstFrame: number[];
  exchangedToRelay: number[];
  gap: number[];
  /** Longest audio gap heard at A / at B when the direct path is cut, and when it comes back. */
  cutGap?: { a: number[]; b: number[] };
  restoreGap?: { a: number[]; b: number[] };
  note: string;
}

/** Which relay path a call's media must take (the relay's /metrics say which it took); 'measured': printed, not asserted. */
type Datapath = 'kernel' | 'userspace' | 'measured';
const KERNEL = 'hush_relay_offload_packets_total';
const USERSPACE = 'hush_relay_relayed_packets_total';

describe.skipIf(support.skip || !built)('the extension in the NAT lab', () => {
  let lab: Lab;
  let relay: LabRelay;
  let a: HushSide;
  let b: HushSide;
  const rows: Row[] = [];

  beforeAll(async () => {
    lab = await createLab();
    relay = await startLabRelay(lab, { kind: 'hush', offload: true });
    // A bridge has no native XDP: generic (skb) mode on br0, where the relay's address is.
    expect(relay.output()).toMatch(/^datapath: kernel XDP \(skb mode\) on br0 for ChannelData over UDP\/IPv4/m);
    const side = (role: 'hostA' | 'hostB', toneHz: number) =>
      launchSide({ toneHz, signalUrl: relay.signalUrl!, launch: (args) => launchExtensionInNamespace(lab, role, EXTENSION_DIR, { args }) });
    [a, b] = await Promise.all([side('hostA', A_HZ), side('hostB', B_HZ)]);
    // Contacts of each other, as two people who call each other ten times in three minutes are. A
    // stranger gets a burst of 3 HELLOs, then one per 20 s, refused silently (lib/call/admission.ts:
    // the SAS-attempt bound): the 5th scenario's call came ~36 s after the first, its HELLO was
    // refused and B did not ring within 30 s (the retry, later, passed: CI saw it in scenarios 4 and 5).
    // From the first call on, a contact's HELLO carries its token and is never refused for load.
    await request(a.popup, 'add-contact', { address: b.address, name: 'B' });
    await request(b.popup, 'add-contact', { address: a.address, name: 'A' });
    if (process.env.HUSH_LAB_DEBUG) {
      for (const [n, x] of [['A', a], ['B', b]] as const) (await x.hb.worker()).on('console', (m) => console.log(`${n}-SW: ${m.text()}`));
    }
    const w = await a.hb.worker();
    await w.evaluate((ms) => (globalThis as unknown as { chrome: { storage: { session: { set(v: object): Promise<void> } } } }).chrome.storage.session.set({ testRetryDirectMs: ms }), RETRY_DIRECT_MS);
  }, 120_000);

  afterAll(async () => {
    if (rows.length) printTable(rows);
    await Promise.allSettled([a?.close(), b?.close()]);
    await relay?.stop().catch(() => {});
    await lab?.destroy();
  }, 60_000);

  /** New NAT rules on both routers. They forget every mapping, the signalling sockets' too: reconnect them. */
  async function nat(modeA: NatMode, modeB: NatMode, opts: NatOptions = {}, optsFor: ('A' | 'B')[] = ['A', 'B']) {
    await lab.setNat('A', modeA, optsFor.includes('A') ? opts : {});
    await lab.setNat('B', modeB, optsFor.includes('B') ? opts : {});
    // Both reconnect at once, and the wait reads each background's own state: right after
    // reconnect-relay it is "connecting". The popup's text could still say "Connected to relay"
    // from the socket just dropped (its next view push was not there yet): a dial then raced B's
    // new mailbox on the relay and B never rang (scenario 4 once timed out so on its first attempt).
    for (const s of [a, b]) await request(s.popup, 'reconnect-relay');
    for (const [name, s] of [['A', a], ['B', b]] as const) {
      let state = '';
      await waitFor(async () => (state = ((await request(s.popup, 'get-view')) as { relay: { state: string } }).relay.state) === 'online', {
        timeout: 20_000,
        what: () => `${name} back online with the relay after the NAT change (state ${state})`,
      });
      await waitText(s.popup, '[data-testid="relay-status"]', (t) => t === 'Connected to relay', 5_000);
    }
  }

  /**
   * Dial A → B through the UI (`dial`: what A types, B's address by default), B answers; resolves
   * when both hear each other. The clock starts at the click on Call, as the bench's (the typing
   * is the person's time; until 2 Dec 2026 it was counted, and B's ring was polled every 100 ms).
   */
  async function call(dial = b.address): Promise<{ dialToConnected: number; dialToFirstFrame?: number }> {
    await typeDialAddress(a.popup, dial);
    const t0 = Date.now();
    await a.popup.click('[data-testid="dial-button"]');
    await waitIncoming(b.popup, 30_000);
    await click(b.popup, 'accept');
    await waitFor(async () => (await callState(a.popup)) === 'connected', {
      timeout: Math.max(0, t0 + 30_000 - Date.now()),
      interval: 20, // the dial-to-connected time is measured from this poll
      what: async () => {
        const why = await a.popup.$eval('[data-testid="end-message"]', (e) => e.getAttribute('data-reason')).catch(() => '');
        const whyB = await b.popup.$eval('[data-testid="end-message"]', (e) => e.getAttribute('data-reason')).catch(() => '');
        const relayOf = async (s: HushSide) => ((await request(s.popup, 'get-view').catch(() => ({}))) as { relay?: { state?: string } }).relay?.state;
        return `A to connect (A ${await callState(a.popup)}, B ${await callState(b.popup)}; reasons A ${why} B ${whyB}; relay A ${await relayOf(a)} B ${await relayOf(b)})`;
      },
    });
    const dialToConnected = Date.now() - t0;
    await waitCallState(b.popup, 'connected');
    const atB = await waitForReading(() => hears(b), (r) => Math.abs(r.frequency - A_HZ) < 10 && r.rmsDb > -45, { timeoutMs: 10_000 });
    const atA = await waitForReading(() => hears(a), (r) => Math.abs(r.frequency - B_HZ) < 10 && r.rmsDb > -45, { timeoutMs: 10_000 });
    expect(Math.abs(atB.frequency - A_HZ), 'B hears A').toBeLessThan(10);
    expect(Math.abs(atA.frequency - B_HZ), 'A hears B').toBeLessThan(10);
    const first = (await stats(b)).frames.firstDecryptedAt;
    return { dialToConnected, ...(first ? { dialToFirstFrame: first - t0 } : {}) };
  }

  async function hangup() {
    // Any state of a live call, the waiting ones too: a call left in one would keep the next dial from the popup.
    for (const s of [a, b]) {
      if (!['', 'idle', 'ended'].includes(await callState(s.popup).catch(() => ''))) await request(s.popup, 'hangup').catch(() => {});
    }
    await waitCallState(a.popup, 'ended').catch(() => {});
    await waitCallState(b.popup, 'ended').catch(() => {});
    for (const s of [a, b]) await request(s.popup, 'dismiss-call').catch(() => {});
  }

  /** Poll A's stats until `ok` holds (the path can settle a little after "connected"). */
  async function settle(ok: (s: StatsView) => boolean, timeoutMs = 8000): Promise<StatsView> {
    let s = await stats(a);
    // A path that never settles is returned as it is: the caller's assertion names it.
    await waitFor(async () => ok((s = await stats(a))), { timeout: timeoutMs, interval: 100, what: "A's path to settle" }).catch(() => undefined);
    return s;
  }

  const pairOf = (s: StatsView) => `${s.localType}${s.relayProtocol ? `(${s.relayProtocol})` : ''} -> ${s.remoteType}`;
  const engaged = (s: StatsView) => (s.ice?.relayEngagedAt !== undefined && s.ice.exchangedAt !== undefined ? s.ice.relayEngagedAt - s.ice.exchangedAt : undefined);

  /**
   * After a call's audio was heard both ways: the relay's counters since `m0` account for the
   * media. 'kernel': the XDP path is on and its packet counter grew by at least 80 % of the RTP
   * packets both sides received (every one crossed the relay once; RTCP and ICE checks on the
   * channel count too; the counters are read once a second, so a moment lags), more than the userspace counter (the first packets of a call, Send indications
   * before ChannelBind, go through userspace: ~20 per call here, printed). 'userspace': the userspace counter
   * covers 80 % of them and the kernel relayed nothing. Returns "kernel K / userspace U / received R".
   */
  async function relayedBy(want: Datapath, m0: Record<string, number>): Promise<string> {
    let m = m0;
    let received = 0;
    const d = (k: string) => (m[k] ?? 0) - (m0[k] ?? 0);
    const counter = want === 'kernel' ? KERNEL : USERSPACE;
    const covered = () => (want === 'measured' ? d(KERNEL) + d(USERSPACE) : d(counter));
    // The kernel's counters are read once a second (relay-server/src/offload/kernel-offload.ts).
    let frames: StatsView['frames'][] = [];
    await waitFor(async () => {
      const [sa, sb] = await Promise.all([stats(a), stats(b)]);
      frames = [sa.frames, sb.frames];
      received = sa.packetsReceived + sb.packetsReceived;
      m = await relay.metrics();
      return received > 0 && covered() >= 0.8 * received;
    }, { timeout: 10_000, interval: 250, what: () => `the relay's ${want === 'measured' ? 'counters' : counter} to cover 80 % of the ${received} RTP packets received (kernel ${d(KERNEL)}, userspace ${d(USERSPACE)})` });
    expect(m['hush_relay_offload_kernel'], 'the kernel path is on').toBe(1);
    for (const f of frames) {
      expect(f.decrypted, 'frames decrypted').toBeGreaterThan(0);
      expect(f.authFailed, 'no frame failed authentication').toBe(0);
    }
    if (want === 'kernel') expect(d(KERNEL), 'the kernel relayed more datagrams than userspace').toBeGreaterThan(d(USERSPACE));
    else if (want === 'userspace') expect(d(KERNEL), 'userspace: no kernel packet for this call').toBe(0);
    return `kernel ${d(KERNEL)} / userspace ${d(USERSPACE)} / received ${received}`;
  }

  interface ScenarioOptions {
    /** The relay path the media must take (relayedBy). */
    datapath?: Datapath;
    /** What A dials (B's address by default). */
    dial?: string;
    /** Checks while the call is up, after `check`. */
    during?: () => Promise<void>;
    /** Calls (default RUNS). */
    runs?: number;
  }

  async function scenario(name: string, expectPath: 'p2p' | 'relay', check: (s: StatsView) => void, note = '', opts: ScenarioOptions = {}) {
    const { datapath, dial, during, runs = RUNS } = opts;
    const row: Row = { scenario: name, path: '', pair: '', dialToConnected: [], dialToFirstFrame: [], exchangedToRelay: [], gap: [], note };
    rows.push(row);
    const counted: string[] = [];
    for (let i = 0; i < runs; i++) {
      try {
        const m0 = await relay.metrics();
        const { dialToConnected, dialToFirstFrame } = await call(dial);
        if (dialToFirstFrame !== undefined) row.dialToFirstFrame.push(dialToFirstFrame);
        const s = await settle((x) => x.path === expectPath);
        expect(s.path, `${name}: path`).toBe(expectPath);
        check(s);
        row.dialToConnected.push(dialToConnected);
        const e = engaged(s);
        if (expectPath === 'relay' && e !== undefined) row.exchangedToRelay.push(Math.max(0, e));
        row.path = s.path;
        row.pair = pairOf(s);
        if (datapath) counted.push(await relayedBy(datapath, m0));
        if (during) await during();
      } finally {
        await hangup();
      }
    }
    if (datapath) row.note = [row.note, `relay ${datapath}: ${counted.join('; ')}`].filter(Boolean).join('; ');
  }

  test('1. both routers endpoint-independent with a firewall: P2P over server-reflexive candidates', async () => {
    await nat('eim', 'eim');
    await scenario('1 eim + eim', 'p2p', (s) => {
      expect(['srflx', 'prflx']).toContain(s.localType);
      expect(['srflx', 'prflx']).toContain(s.remoteType);
      expect(s.ice?.nat).toBe('endpoint-independent');
    });
  });

  test('2. one side symmetric: relay, engaged within 800 ms of the candidates exchanged', async () => {
    await nat('symmetric', 'eim');
    await scenario('2 symmetric + eim', 'relay', (s) => {
      expect(s.ice?.nat).toBe('symmetric');
      const e = engaged(s);
      expect(e, 'relay engaged').toBeDefined();
      expect(e!).toBeLessThanOrEqual(800);
    }, '', { datapath: 'kernel' });
  });

  test('3. both symmetric: relay', async () => {
    await nat('symmetric', 'symmetric');
    await scenario('3 symmetric + symmetric', 'relay', (s) => {
      const e = engaged(s);
      expect(e!).toBeLessThanOrEqual(800);
    }, '', { datapath: 'kernel' });
  });

  test('4. UDP to the relay blocked: TURN over TCP carries the call', async () => {
    // A's firewall lets only TCP reach the relay; A is behind a symmetric NAT, so no direct path either.
    await nat('symmetric', 'eim', { blockUdpTo: { ip: relay.ip } }, ['A']);
    await scenario('4 UDP to relay blocked (A)', 'relay', (s) => {
      expect(s.localType).toBe('relay');
      expect(s.relayProtocol).toBe('tcp');
    }, 'A symmetric, no UDP to the relay', { datapath: 'userspace' });
  });

  test('5. mid-call: the direct path is cut, the standby relay connection takes the audio; restored, back to P2P; same keys throughout', async () => {
    await nat('eim', 'eim');
    const row: Row = {
      scenario: '5 cut mid-call',
      path: '',
      pair: '',
      dialToConnected: [],
      dialToFirstFrame: [],
      exchangedToRelay: [],
      gap: [],
      cutGap: { a: [], b: [] },
      restoreGap: { a: [], b: [] },
      note: '',
    };
    rows.push(row);
    const back: number[] = [];
    const costs: string[] = [];
    const sasOf = (s: HushSide) => s.popup.$eval('[data-testid="sas"]', (e) => e.textContent ?? '');
    for (let i = 0; i < RUNS; i++) {
      try {
        const { dialToConnected, dialToFirstFrame } = await call();
        row.dialToConnected.push(dialToConnected);
        if (dialToFirstFrame !== undefined) row.dialToFirstFrame.push(dialToFirstFrame);
        const before = await settle((s) => s.path === 'p2p');
        expect(before.path).toBe('p2p');
        // Make before break: both sides hold a connected, silent standby while P2P.
        const ready = async (s: HushSide) =>
          waitFor(async () => {
            const x = await stats(s);
            return x.standby?.state === 'connected' && x.standby.leg === 'main' && x.standby;
          }, { timeout: 20_000, interval: 100, what: 'the standby connection to connect' });
        const [sbA, sbB] = await Promise.all([ready(a), ready(b)]);
        const sas = [await sasOf(a), await sasOf(b)];
        expect(sas[0]).toMatch(/^\d{3} \d{3}$/);
        expect(sas[1]).toBe(sas[0]);

        // Its idle cost, over a few seconds of the call (bytes on its transport, ICE checks on its pair).
        await sleep(5000); // intent: a span of idle standby to measure its keep-alive traffic
        const sbA2 = (await stats(a)).standby!;
        const sbB2 = (await stats(b)).standby!;
        const span = sbA2.upMs! - sbA.upMs!;
        const bytes = (sbA2.bytesSent! + sbA2.bytesReceived!) - (sbA.bytesSent! + sbA.bytesReceived!);
        const checks = (sbA2.requestsSent! + sbA2.requestsReceived!) - (sbA.requestsSent! + sbA.requestsReceived!);
        // Only an idle span counts: a (false) switch in it put audio on the standby.
        if (sbA2.switches === sbA.switches && sbB2.switches === sbB.switches) costs.push(`${Math.round((bytes * 60_000) / span)} B/min on its transport, ${Math.round((checks * 60_000) / span)} ICE checks/min (A)`);
        else costs.push(`not idle (${sbA2.switches - sbA.switches + sbB2.switches - sbB.switches} switches), ${Math.round((checks * 60_000) / span)} ICE checks/min (A)`);
        const f0 = [(await stats(a)).frames, (await stats(b)).frames];

        await Promise.all([startLevelWatch(a), startLevelWatch(b)]);
        const sent0 = await Promise.all([stats(a), stats(b)]);
        await sleep(1000); // intent: a second of audio sampled before the cut
        // Bytes per audio packet on the direct path (RED over Opus: each packet carries the previous frame too).
        const sizeMain = (await Promise.all([stats(a), stats(b)])).map((x, i) => (x.bytesSent! - sent0[i]!.bytesSent!) / Math.max(1, x.packetsSent! - sent0[i]!.packetsSent!));
        await lab.cutDirect();
        const tCut = Date.now();
        const onRelay = await settle((s) => s.path === 'relay' && s.standby?.leg === 'standby', 20_000);
        expect(onRelay.path, 'moved to the relay').toBe('relay');
        expect(onRelay.standby?.leg, 'the standby carries the audio').toBe('standby');
        // Each side hears the standby (play-leg.ts): the peer's audio comes only there.
        for (const s of [a, b]) await waitFor(async () => (await stats(s)).standby?.heard === 'standby', { timeout: 10_000, interval: 100, what: 'the standby heard' });
        // Audio resumes both ways.
        await waitForReading(() => hears(b), (r) => Math.abs(r.frequency - A_HZ) < 10 && r.rmsDb > -45, { timeoutMs: 10_000 });
        await waitForReading(() => hears(a), (r) => Math.abs(r.frequency - B_HZ) < 10 && r.rmsDb > -45, { timeoutMs: 10_000 });
        const sent1 = await Promise.all([stats(a), stats(b)]);
        await sleep(1000); // intent: audio sampled after the switch
        // The standby's descriptions carry the call's Opus settings (opus-sdp.ts): its packets are the
        // size of the direct path's (RED first); without RED they would be about half.
        const sizeStandby = (await Promise.all([stats(a), stats(b)])).map((x, i) => (x.bytesSent! - sent1[i]!.bytesSent!) / Math.max(1, x.packetsSent! - sent1[i]!.packetsSent!));
        if (process.env.HUSH_LAB_DEBUG) console.log('bytes per packet, main / standby', sizeMain, sizeStandby);
        for (const i of [0, 1]) expect(sizeStandby[i]!, `bytes per packet on the standby vs the direct path (${sizeMain[i]!.toFixed(0)} B), side ${i ? 'B' : 'A'}`).toBeGreaterThan(0.75 * sizeMain[i]!);
        const [cutA, cutB] = await Promise.all([stopLevelWatch(a), stopLevelWatch(b)]).then((w) => w.map((x) => longestSilence(x)));
        row.cutGap!.a.push(cutA!.gapMs);
        row.cutGap!.b.push(cutB!.gapMs);
        row.gap.push(Math.max(cutA!.gapMs, cutB!.gapMs));
        row.pair = pairOf(onRelay);
        row.note = `cut→relay ${Date.now() - tCut} ms; unseen audio ${cutA!.unseenMs}/${cutB!.unseenMs} ms; switches before the cut A ${sbA2.switches} B ${sbB2.switches}`;
        if (process.env.HUSH_LAB_DEBUG) console.log('cut', JSON.stringify({ cutA, cutB, tCut, a: onRelay.standby, b: (await stats(b)).standby }));

        // Same keys and counters: no new handshake (same SAS), frames kept decrypting, none failed.
        const f1 = [(await stats(a)).frames, (await stats(b)).frames];
        for (const k of [0, 1]) {
          expect(f1[k]!.decrypted, 'frames kept decrypting').toBeGreaterThan(f0[k]!.decrypted);
          expect(f1[k]!.encrypted, 'one send counter, carried on').toBeGreaterThan(f0[k]!.encrypted);
          expect(f1[k]!.authFailed, 'no frame failed authentication').toBe(0);
        }
        expect([await sasOf(a), await sasOf(b)]).toEqual(sas);

        await Promise.all([startLevelWatch(a), startLevelWatch(b)]);
        await lab.restoreDirect();
        const tRestore = Date.now();
        const direct = await settle((s) => s.path === 'p2p' && s.standby?.leg === 'main', RETRY_DIRECT_MS + 15_000);
        if (direct.path === 'p2p') back.push(Date.now() - tRestore);
        expect(direct.path, 'moved back to P2P after the restore').toBe('p2p');
        await waitFor(async () => (await stats(b)).standby?.leg === 'main', { timeout: 20_000, interval: 100, what: 'B back on the main connection' });
        for (const s of [a, b]) await waitFor(async () => (await stats(s)).standby?.heard === 'main', { timeout: 10_000, interval: 100, what: 'the main connection heard again' });
        await sleep(1000); // intent: audio sampled after the switch back
        const [resA, resB] = await Promise.all([stopLevelWatch(a), stopLevelWatch(b)]).then((w) => w.map((x) => longestSilence(x)));
        if (process.env.HUSH_LAB_DEBUG) console.log('restore', JSON.stringify({ resA, resB, tRestore, a: (await stats(a)).standby, b: (await stats(b)).standby }));
        row.restoreGap!.a.push(resA!.gapMs);
        row.restoreGap!.b.push(resB!.gapMs);
        expect(resA!.audible, 'A heard B across the restore').toBeGreaterThan(0);
        expect(resB!.audible, 'B heard A across the restore').toBeGreaterThan(0);

        const f2 = [(await stats(a)).frames, (await stats(b)).frames];
        for (const k of [0, 1]) {
          expect(f2[k]!.decrypted).toBeGreaterThan(f1[k]!.decrypted);
          expect(f2[k]!.authFailed).toBe(0);
        }
        expect([await sasOf(a), await sasOf(b)]).toEqual(sas);
        row.path = 'p2p→relay→p2p';
      } finally {
        await lab.restoreDirect().catch(() => {});
        await hangup();
      }
    }
    row.note += `; restore→p2p median ${median(back)} ms (retry every ${RETRY_DIRECT_MS} ms in the lab, 30 s by default); standby ${costs.join(', ')}`;
  });

  test('6. privacy mode: relay even where P2P works; the peer never receives our address', async () => {
    await nat('eim', 'eim');
    await request(a.popup, 'update-settings', { settings: { privacyMode: true } });
    try {
      // Measured, not asserted: in this scenario userspace carried a large share in some calls
      // (up to 1559 of 2328 datagrams in one), cause not found yet (docs/lab.md).
      await scenario('6 privacy mode (A)', 'relay', () => {}, 'A relay-only', { datapath: 'measured' });
      const sb = await (async () => {
        await call();
        try {
          // A's relay candidates reach B through the sealed channel; under load B's pair can connect
          // (peer-reflexive) before the trickled candidate itself is processed: wait for it.
          return await waitFor(async () => {
            const s = await stats(b);
            return Object.keys(s.ice?.remoteTypes ?? {}).length > 0 && s;
          }, { timeout: 10_000, interval: 100, what: "A's candidates at B" });
        } finally {
          await hangup();
        }
      })();
      expect(Object.keys(sb.ice?.remoteTypes ?? {})).toEqual(['relay']);
      for (const addr of [lab.addresses.hostA, lab.addresses.wanA]) expect(sb.ice?.remoteAddresses ?? []).not.toContain(addr);
    } finally {
      await request(a.popup, 'update-settings', { settings: { privacyMode: false } });
    }
  });

  test('7. privacy mode on both sides: relay-only both ways through the kernel fast path, no RTP lost', async () => {
    await nat('eim', 'eim');
    for (const s of [a, b]) await request(s.popup, 'update-settings', { settings: { privacyMode: true } });
    const row: Row = { scenario: '7 privacy mode (A and B)', path: '', pair: '', dialToConnected: [], dialToFirstFrame: [], exchangedToRelay: [], gap: [], note: '' };
    rows.push(row);
    try {
      const m0 = await relay.metrics();
      const { dialToConnected, dialToFirstFrame } = await call();
      row.dialToConnected.push(dialToConnected);
      if (dialToFirstFrame !== undefined) row.dialToFirstFrame.push(dialToFirstFrame);
      const [sa, sb] = await Promise.all([stats(a), stats(b)]);
      expect([sa.localType, sa.remoteType, sb.localType, sb.remoteType], 'relay candidates at both ends').toEqual(['relay', 'relay', 'relay', 'relay']);
      row.path = sa.path;
      row.pair = pairOf(sa);
      // The measured window: from now until each side received 150 more RTP packets (3 s of 20 ms frames).
      const lost = (s: StatsView) => (s as StatsView & { packetsLost?: number }).packetsLost ?? 0;
      const w0 = [sa, sb];
      let w1 = w0;
      await waitFor(async () => {
        w1 = await Promise.all([stats(a), stats(b)]);
        return w1.every((x, k) => x.packetsReceived - w0[k]!.packetsReceived >= 150);
      }, { timeout: 20_000, interval: 250, what: () => `150 RTP packets at each side (A ${w1[0]!.packetsReceived - w0[0]!.packetsReceived}, B ${w1[1]!.packetsReceived - w0[1]!.packetsReceived})` });
      for (const k of [0, 1]) {
        const side = k === 0 ? 'A' : 'B';
        expect(lost(w1[k]!) - lost(w0[k]!), `RTP packets lost at ${side} over the window`).toBe(0);
        expect(w1[k]!.frames.decrypted, `${side} kept decrypting`).toBeGreaterThan(w0[k]!.frames.decrypted);
        expect(w1[k]!.frames.authFailed, `no frame failed authentication at ${side}`).toBe(0);
      }
      // Two allocations of one relay, each the other's peer: the kernel relays both hops in one pass.
      row.note = `window ${w1[0]!.packetsReceived - w0[0]!.packetsReceived}/${w1[1]!.packetsReceived - w0[1]!.packetsReceived} packets at A/B, 0 lost; relay kernel: ${await relayedBy('kernel', m0)}`;
    } finally {
      for (const s of [a, b]) await request(s.popup, 'update-settings', { settings: { privacyMode: false } });
      await hangup();
    }
  });

  test('8. two relays (issue 15): A on R1 dials B on R2 by its card; P2P, then privacy on both sides across R1 and R2', async () => {
    const r2 = await startLabRelay(lab, { kind: 'hush', ip: lab.addresses.relay2, realm: 'r2.lab', forwarder: true });
    try {
      expect(r2.output()).toMatch(/^datapath: native forwarder, \d+ thread\(s\), for ChannelData over UDP\/IPv4/m);
      expect(r2.secret).not.toBe(relay.secret);
      await request(b.popup, 'update-settings', { settings: { relays: [r2.signalUrl] } });
      await nat('eim', 'eim');
      // B's card in the typed form (lib/contacts/card.ts): its address @ R2's host. B's popup shows no card
      // for a ws:// relay off loopback (hostOfRelayUrl), which only the lab's test builds accept.
      const card = `${b.address}@${lab.addresses.relay2}:${SIGNAL_PORT}`;
      // One call each (lab time): its dial → first frame sits in the table next to one relay's (1, 7).
      await scenario('8a two relays, eim + eim', 'p2p', (s) => {
        expect(['srflx', 'prflx']).toContain(s.localType);
      }, 'A on R1 dials hush1…@R2', { dial: card, runs: 1 });

      for (const s of [a, b]) await request(s.popup, 'update-settings', { settings: { privacyMode: true } });
      const created = (m: Record<string, number>) => m['hush_relay_allocations_created_total'] ?? 0;
      const c1 = created(await relay.metrics());
      const m2 = await r2.metrics();
      const c2 = created(m2);
      let during: [Record<string, number>, Record<string, number>] = [{}, {}];
      await scenario('8b two relays, privacy A and B', 'relay', (s) => {
        expect([s.localType, s.remoteType]).toEqual(['relay', 'relay']);
        // R1 and R2 share the internet namespace: R1's next hop to R2 is local, so R1 relays this call in userspace.
      }, 'relay ↔ relay across R1 and R2', { dial: card, runs: 1, datapath: 'userspace', during: async () => {
        during = [await relay.metrics(), await r2.metrics()];
        const sb = await stats(b);
        expect([sb.localType, sb.remoteType]).toEqual(['relay', 'relay']);
        expect(sb.frames.authFailed).toBe(0);
        // Across the two relays: A's candidates (all relayed) are on R1, B's on R2 (trickled: wait for them).
        const remote = async (s: HushSide, ip: string) =>
          waitFor(async () => (await stats(s)).ice?.remoteAddresses.includes(ip) ?? false, { timeout: 10_000, interval: 100, what: async () => `${ip} among the remote candidates (${(await stats(s)).ice?.remoteAddresses})` });
        await remote(b, lab.addresses.relay);
        await remote(a, lab.addresses.relay2);
        const [ra, rb] = [(await stats(a)).ice?.remoteAddresses ?? [], (await stats(b)).ice?.remoteAddresses ?? []];
        for (const x of [lab.addresses.relay, lab.addresses.wanB, lab.addresses.hostB]) expect(ra, 'A saw no address of B but R2').not.toContain(x);
        for (const x of [lab.addresses.relay2, lab.addresses.wanA, lab.addresses.hostA]) expect(rb, 'B saw no address of A but R1').not.toContain(x);
      } });
      // Each side took TURN from its own relay: both hold an allocation during the call, both made new ones.
      expect(during[0]['hush_relay_allocations'] ?? 0, 'R1 allocations during the call').toBeGreaterThan(0);
      expect(during[1]['hush_relay_allocations'] ?? 0, 'R2 allocations during the call').toBeGreaterThan(0);
      expect(created(await relay.metrics())).toBeGreaterThan(c1);
      expect(created(await r2.metrics())).toBeGreaterThan(c2);
      // B's media crossed R2's native forwarder: its C threads relayed more of it than R2's JavaScript
      // (the first packets, Send indications before ChannelBind, and TURN requests are JavaScript's).
      const d2 = (m: Record<string, number>, k: string) => (m[k] ?? 0) - (m2[k] ?? 0);
      const after2 = await waitFor(async () => {
        const m = await r2.metrics();
        return d2(m, KERNEL) > 100 && d2(m, KERNEL) > d2(m, USERSPACE) ? m : false;
      }, { timeout: 10_000, interval: 250, what: async () => { const m = await r2.metrics(); return `R2's forwarder counter above 100 and above its JavaScript's (forwarder ${d2(m, KERNEL)}, JavaScript ${d2(m, USERSPACE)})`; } });
      expect(after2['hush_relay_forwarder'], 'R2 relays with the native forwarder').toBe(1);
      expect(after2['hush_relay_forwarder_dropped_total'] ?? 0, 'R2 forwarder dropped nothing').toBe(0);
      console.log(`8b: R2 relayed ${d2(after2, KERNEL)} datagrams in its native forwarder, ${d2(after2, USERSPACE)} in JavaScript`);
    } finally {
      for (const s of [a, b]) await request(s.popup, 'update-settings', { settings: { privacyMode: false } }).catch(() => {});
      await request(b.popup, 'update-settings', { settings: { relays: [relay.signalUrl] } }).catch(() => {});
      await r2.stop();
    }
  });
});

function printTable(rows: Row[]): void {
  const fmt = (xs: number[]) => (xs.length ? String(Math.round(median(xs)!)) : '-');
  const both = (g?: { a: number[]; b: number[] }) => (g ? `${fmt(g.a)} / ${fmt(g.b)}` : '-');
  const head = ['scenario', 'path', 'caller pair', 'dial→connected ms', 'dial→1st frame at B ms', 'exchanged→relay ms', 'gap on cut A/B ms', 'gap on restore A/B ms', 'note'];
  const body = rows.map((r) => [r.scenario, r.path, r.pair, fmt(r.dialToConnected), fmt(r.dialToFirstFrame), fmt(r.exchangedToRelay), both(r.cutGap), both(r.restoreGap), r.note]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\nNAT lab, the extension (medians of ${RUNS} runs):\n${[line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n')}`);
}
