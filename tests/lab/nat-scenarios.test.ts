/**
 * NAT scenarios with plain WebRTC (no extension yet): two headless
 * Chromiums, each on a host behind its own NAT router, Chromium's fake
 * microphone, the relay in the internet namespace as STUN and TURN
 * (UDP and TCP). The test process carries offer, answer and candidates.
 *
 * One lab, one relay and two browsers for the file; each scenario sets the
 * routers' NAT (which also flushes their conntrack) and makes fresh
 * RTCPeerConnections. Each cheap scenario runs HUSH_LAB_RUNS times (default
 * 3) and the table printed at the end shows medians.
 *
 *   1. both EIM + firewall        -> direct, srflx on both sides
 *   2. one side symmetric         -> relayed
 *   3. both symmetric             -> relayed
 *   4. UDP to the relay blocked   -> relayed over TURN/TCP
 *   5. mid-call cut of the direct path -> relay, audio gap measured:
 *      a. the caller restarts ICE when its audio stalls; restore -> direct
 *      b. no restart: Chromium's own failover inside the ICE generation
 *      c. the caller replaces the connection (new RTCPeerConnection)
 *   6. caller relay-only          -> relayed although P2P works, and the
 *      callee never sees an address of the caller
 *
 * HUSH_LAB_RELAY=coturn runs everything against coturn instead of hush-relay;
 * by default a last test repeats 1, 2 and 4 against coturn as a reference.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { launchInNamespace, type NsBrowser } from './chromium-in-ns';
import { createLab, requireRoot, type Lab, type NatMode } from './netns';
import { probe } from './probes';
import { defaultRelayKind, startLabRelay, type IceServerChoice, type LabRelay } from './relay-in-ns';
import { describePair, median, TimingTable } from './report';
import { LabPeer, longestGap, negotiate, type NegotiationResult, type PairInfo, type PeerEvent } from './webrtc-peer';
import { sleep } from '../harness/wait';

const support = requireRoot();
const RUNS = Math.max(1, Number(process.env.HUSH_LAB_RUNS ?? 3));
const RELAY_KIND = defaultRelayKind();
/** How long the caller hears nothing before it calls the path dead and restarts ICE. */
const STALL_MS = 500;

const relayed = (p: PairInfo) => p.local.type === 'relay' || p.remote.type === 'relay';
/** A selected-pair event (webrtc-peer's "local/proto addr -> remote addr ufrag=") with no relay on either end. */
const directPairEvent = (e: PeerEvent) => e.kind === 'pair' && !e.value.startsWith('relay/') && !e.value.includes(' -> relay ');
/** How long a direct path may take to win over a relay pair that connected first. */
const DIRECT_SETTLE_MS = 5000;

interface Setup {
  natA: NatMode;
  natB: NatMode;
  /** Both routers drop UDP to the relay's STUN/TURN port. */
  blockRelayUdp?: boolean;
  policyA?: 'all' | 'relay';
  servers?: IceServerChoice;
  /** Stop waiting for gathering this long after the first relay candidate. */
  afterRelayMs?: number;
}

describe.skipIf(support.skip)(`NAT scenarios, plain WebRTC through ${RELAY_KIND}`, () => {
  let lab: Lab;
  let relay: LabRelay;
  let browserA: NsBrowser;
  let browserB: NsBrowser;
  let caller: LabPeer;
  let callee: LabPeer;
  const table = new TimingTable();

  beforeAll(async () => {
    lab = await createLab();
    relay = await startLabRelay(lab, { kind: RELAY_KIND });
    [browserA, browserB] = await Promise.all([launchInNamespace(lab, 'hostA'), launchInNamespace(lab, 'hostB')]);
    [caller, callee] = await Promise.all([LabPeer.open(browserA, 'caller'), LabPeer.open(browserB, 'callee')]);
  });

  beforeEach((ctx) => {
    ctx.onTestFailed(() => {
      console.log(`--- ${relay?.kind} relay (${relay?.exited() ?? 'running'}), last output ---\n${relay?.output().slice(-2000)}`);
    });
  });
  afterEach(async () => {
    if (!relay) return;
    const ended = relay.exited();
    if (ended) throw new Error(`the ${relay.kind} relay died (${ended}) during this test; its output:\n${relay.output().slice(-4000)}`);
    // Alive is not enough: it must still answer STUN (asked from inside the internet, past any router rule).
    const target = `${relay.ip}:${relay.port}`;
    const r = await probe(lab, 'inet', [target], { stun: true, timeoutMs: 3000 });
    if (r.answers[target] === null) {
      throw new Error(`the ${relay.kind} relay stopped answering STUN on ${target} during this test (process ${relay.cpu()}); its output:\n${relay.output().slice(-4000)}`);
    }
  });

  afterAll(async () => {
    if (table.rows.length) console.log(`\nNAT lab timings (ms; medians of the runs)\n${table.render()}\n`);
    // The lab's destroy() kills whatever these leave behind.
    await Promise.allSettled([browserA?.close(), browserB?.close()]);
    await relay?.stop().catch(() => {});
    await lab?.destroy();
  });

  async function configure(s: Setup): Promise<void> {
    const block = s.blockRelayUdp ? { blockUdpTo: { ip: relay.ip, port: relay.port } } : {};
    await lab.restoreDirect();
    await lab.setNat('A', s.natA, block);
    await lab.setNat('B', s.natB, block);
  }

  async function call(s: Setup): Promise<NegotiationResult> {
    await Promise.all([
      caller.create({ iceServers: relay.iceServers({ ...s.servers, id: 'caller' }), iceTransportPolicy: s.policyA ?? 'all' }),
      callee.create({ iceServers: relay.iceServers({ ...s.servers, id: 'callee' }) }),
    ]);
    return negotiate(caller, callee, s.afterRelayMs !== undefined ? { afterRelayMs: s.afterRelayMs } : {});
  }

  /**
   * Where the NATs allow a direct path, ICE may still connect first on a
   * relay pair (the hole punch needs both sides' checks to cross) and move
   * to the direct pair when it succeeds. Wait for that, up to
   * DIRECT_SETTLE_MS, and say when it happened (ms after the exchange).
   */
  async function settleDirect(r: NegotiationResult): Promise<{ r: NegotiationResult; directMs: number | null; relayFirst: boolean }> {
    const relayFirst = relayed(r.pair.caller) || relayed(r.pair.callee);
    const at = await Promise.all(
      [caller, callee].map((p) => p.waitEvent(directPairEvent, r.exchangedAt, DIRECT_SETTLE_MS).catch(() => null)),
    );
    const pair = { caller: (await caller.selected()) ?? r.pair.caller, callee: (await callee.selected()) ?? r.pair.callee };
    const directMs = at[0] !== null && at[1] !== null ? Math.max(at[0]!, at[1]!) - r.exchangedAt : null;
    return { r: { ...r, pair }, directMs, relayFirst };
  }

  /** Configure, call `runs` times, check every run, add a row to the table. */
  /**
   * Configure, call `runs` times, check every run, add a row to the table.
   * With `direct`, each run first settles on its direct pair (settleDirect)
   * and the connect time is the time to that pair.
   */
  async function scenario(
    name: string,
    s: Setup,
    check: (r: NegotiationResult) => void,
    opts: { runs?: number; direct?: boolean } = {},
  ): Promise<NegotiationResult[]> {
    const runs = opts.runs ?? RUNS;
    await configure(s);
    const results: NegotiationResult[] = [];
    const connect: number[] = [];
    let relayFirst = 0;
    for (let i = 0; i < runs; i++) {
      let r = await call(s);
      let ms = Math.max(r.connectMs.caller, r.connectMs.callee);
      if (opts.direct) {
        const settled = await settleDirect(r);
        r = settled.r;
        if (settled.relayFirst) relayFirst++;
        if (settled.directMs !== null) ms = settled.directMs;
      }
      check(r);
      results.push(r);
      connect.push(ms);
    }
    const relayTimes = results.map((r) => r.gather.caller.relayMs).filter((x): x is number => x !== null);
    table.add({
      scenario: name,
      relay: relay.kind,
      runs,
      connectMs: median(connect),
      gatherMs: median(results.map((r) => r.gather.caller.gatherMs)),
      relayCandidateMs: median(relayTimes),
      pair: describePair(results.at(-1)!.pair.caller),
      ...(relayFirst ? { note: `on a relay pair first in ${relayFirst}/${runs} runs, then direct` } : {}),
    });
    return results;
  }

  /**
   * cutDirect(), timed. The rule takes effect somewhere between `start` and
   * `done` (one nft run in the internet namespace: 20-200 ms here); the
   * table's "after the cut" times count from `start`.
   */
  async function cutNow(): Promise<{ start: number; done: number }> {
    const start = Date.now();
    await lab.cutDirect();
    return { start, done: Date.now() };
  }

  /** A call that must end up direct (EIM both sides), for the mid-call scenarios. */
  async function directCall(s: Setup): Promise<NegotiationResult> {
    const { r } = await settleDirect(await call(s));
    expectDirect(r);
    return r;
  }

  function expectDirect(r: NegotiationResult): void {
    expect(relayed(r.pair.caller), `caller pair ${describePair(r.pair.caller)}`).toBe(false);
    expect(relayed(r.pair.callee), `callee pair ${describePair(r.pair.callee)}`).toBe(false);
    expect(['srflx', 'prflx']).toContain(r.pair.caller.local.type);
    expect(r.pair.caller.local.address).toBe(lab.addresses.wanA);
    expect(r.pair.callee.local.address).toBe(lab.addresses.wanB);
  }

  function expectRelayed(r: NegotiationResult): void {
    expect(relayed(r.pair.caller), `caller pair ${describePair(r.pair.caller)}`).toBe(true);
    expect(relayed(r.pair.callee), `callee pair ${describePair(r.pair.callee)}`).toBe(true);
  }

  test('0. the relay\'s STUN sees each NAT\'s mapping (primary and alternate port)', async () => {
    await configure({ natA: 'eim', natB: 'symmetric' });
    const ports = [relay.port, ...(relay.altPort ? [relay.altPort] : [])].map((p) => `${relay.ip}:${p}`);
    const a = await probe(lab, 'hostA', ports, { stun: true, port: 40000 });
    const b = await probe(lab, 'hostB', ports, { stun: true, port: 40000 });
    for (const t of ports) {
      expect(a.answers[t]).toMatch(new RegExp(`^${lab.addresses.wanA}:\\d+$`));
      expect(b.answers[t]).toMatch(new RegExp(`^${lab.addresses.wanB}:\\d+$`));
    }
    if (relay.altPort) {
      // What the client's symmetric-NAT detection compares: same mapping for both ports, or not.
      expect(a.answers[ports[1]!]).toBe(a.answers[ports[0]!]);
      expect(b.answers[ports[1]!]).not.toBe(b.answers[ports[0]!]);
    }
  });

  test('1. both routers EIM with the home-router firewall: direct, over srflx', async () => {
    await scenario('1. EIM + EIM', { natA: 'eim', natB: 'eim' }, (r) => {
      expectDirect(r);
      expect(r.pair.caller.local.type).toBe('srflx');
      expect(r.pair.callee.local.type).toBe('srflx');
    }, { direct: true });
  });

  test('2. one side behind a symmetric NAT: relayed', async () => {
    await scenario('2. EIM + symmetric', { natA: 'eim', natB: 'symmetric' }, expectRelayed);
  });

  test('3. both sides behind symmetric NATs: relayed', async () => {
    await scenario('3. symmetric + symmetric', { natA: 'symmetric', natB: 'symmetric' }, expectRelayed);
  });

  test('4. UDP to the relay blocked: relayed over TURN/TCP', async () => {
    await scenario('4. relay UDP blocked', { natA: 'eim', natB: 'eim', blockRelayUdp: true, afterRelayMs: 500 }, (r) => {
      expectRelayed(r);
      for (const p of [r.pair.caller, r.pair.callee]) {
        expect(p.local.type).toBe('relay');
        expect(p.local.relayProtocol).toBe('tcp');
      }
      // No server-reflexive candidate: STUN over UDP never got through either.
      expect(r.gather.caller.candidates.some((c) => / typ srflx /.test(c.candidate))).toBe(false);
    });
  });

  test('5a. mid-call cut of the direct path, caller ICE restart on an audio stall: moves to the relay; restore: back to direct', async () => {
    const s: Setup = { natA: 'eim', natB: 'eim' };
    await configure(s);
    await directCall(s);
    await Promise.all([caller.startAudioWatch(50), callee.startAudioWatch(50)]);
    await sleep(1000); // intent: a second of audio sampled before the cut

    const { start: cutAt, done: cutDone } = await cutNow();
    const stallAt = await caller.waitStall(STALL_MS, 20_000);
    expect(stallAt, 'the caller never noticed the cut').not.toBeNull();
    const restart = await negotiate(caller, callee, { iceRestart: true });
    expectRelayed(restart);
    await sleep(1000); // intent: audio sampled after the move, to measure the gap
    const [inA, inB] = await Promise.all([caller.stopAudioWatch(), callee.stopAudioWatch()]);
    const gapA = longestGap(inA);
    const gapB = longestGap(inB);
    // Audio came back on the relay (the last second has packets), and the gap is the cut's.
    expect(inA.at(-1)!.packets).toBeGreaterThan(inA.find((x) => x.t >= stallAt!)!.packets);
    expect(inB.at(-1)!.packets).toBeGreaterThan(inB.find((x) => x.t >= stallAt!)!.packets);
    // The gap begins at the cut (its last packet: within a packet interval before the rule took effect).
    expect(gapA.from!).toBeGreaterThan(cutAt - 100);
    expect(gapA.from!).toBeLessThan(cutDone + 100);
    const onRelayAt = restart.exchangedAt + Math.max(restart.connectMs.caller, restart.connectMs.callee);
    table.add({
      scenario: '5a. cut + ICE restart',
      relay: relay.kind,
      runs: 1,
      connectMs: Math.max(restart.connectMs.caller, restart.connectMs.callee),
      gatherMs: restart.gather.caller.gatherMs,
      relayCandidateMs: restart.gather.caller.relayMs,
      pair: describePair(restart.pair.caller),
      note: `stall seen ${stallAt! - cutAt} ms after cut, relay pair ${onRelayAt - cutAt} ms after cut; audio gap caller ${Math.round(gapA.gapMs)} / callee ${Math.round(gapB.gapMs)}`,
    });

    await lab.restoreDirect();
    await Promise.all([caller.startAudioWatch(50), callee.startAudioWatch(50)]);
    await sleep(500); // intent: audio sampled before the restart
    // The first pair of the new generation may be its relay pair; the direct one follows.
    const { r: back, directMs } = await settleDirect(await negotiate(caller, callee, { iceRestart: true }));
    expectDirect(back);
    await sleep(500); // intent: audio sampled after the move, to measure the gap
    const [backA, backB] = await Promise.all([caller.stopAudioWatch(), callee.stopAudioWatch()]);
    table.add({
      scenario: '5a. restore + ICE restart',
      relay: relay.kind,
      runs: 1,
      connectMs: directMs,
      gatherMs: back.gather.caller.gatherMs,
      relayCandidateMs: back.gather.caller.relayMs,
      pair: describePair(back.pair.caller),
      note: `longest audio gap caller ${Math.round(longestGap(backA).gapMs)} / callee ${Math.round(longestGap(backB).gapMs)}`,
    });
  });

  test('5b. mid-call cut without an ICE restart: Chromium fails over to a relay pair on its own', async () => {
    const s: Setup = { natA: 'eim', natB: 'eim' };
    await configure(s);
    await directCall(s);
    await Promise.all([caller.startAudioWatch(50), callee.startAudioWatch(50)]);
    await sleep(1000); // intent: a second of audio sampled before the cut
    const ufrag = await caller.localUfrag();
    const { start: cutAt } = await cutNow();
    const switchedAt = await caller.waitEvent((e) => e.kind === 'pair' && e.value.includes('relay') && e.value.endsWith(`ufrag=${ufrag}`), cutAt, 30_000);
    await sleep(1000); // intent: audio sampled after the move, to measure the gap
    const [inA, inB] = await Promise.all([caller.stopAudioWatch(), callee.stopAudioWatch()]);
    const pair = (await caller.selected())!;
    expect(relayed(pair)).toBe(true);
    table.add({
      scenario: '5b. cut, no restart',
      relay: relay.kind,
      runs: 1,
      connectMs: null,
      gatherMs: null,
      relayCandidateMs: null,
      pair: describePair(pair),
      note: `relay pair ${switchedAt - cutAt} ms after cut; audio gap caller ${Math.round(longestGap(inA).gapMs)} / callee ${Math.round(longestGap(inB).gapMs)}`,
    });
    await lab.restoreDirect();
  });

  test('5c. mid-call cut, the caller replaces the connection on an audio stall (new RTCPeerConnection, full ICE)', async () => {
    const s: Setup = { natA: 'eim', natB: 'eim' };
    await configure(s);
    await directCall(s);
    await Promise.all([caller.startAudioWatch(50), callee.startAudioWatch(50)]);
    await sleep(1000); // intent: a second of audio sampled before the cut
    const { start: cutAt } = await cutNow();
    const stallAt = await caller.waitStall(STALL_MS, 20_000);
    expect(stallAt, 'the caller never noticed the cut').not.toBeNull();
    const fresh = await call(s); // the audio watch keeps sampling, now the new connection's counters
    expectRelayed(fresh);
    await sleep(1000); // intent: audio sampled after the move, to measure the gap
    const [inA, inB] = await Promise.all([caller.stopAudioWatch(), callee.stopAudioWatch()]);
    const onRelayAt = fresh.exchangedAt + Math.max(fresh.connectMs.caller, fresh.connectMs.callee);
    expect(inA.at(-1)!.packets).toBeGreaterThan(0);
    table.add({
      scenario: '5c. cut + new connection',
      relay: relay.kind,
      runs: 1,
      connectMs: Math.max(fresh.connectMs.caller, fresh.connectMs.callee),
      gatherMs: fresh.gather.caller.gatherMs,
      relayCandidateMs: fresh.gather.caller.relayMs,
      pair: describePair(fresh.pair.caller),
      note: `stall seen ${stallAt! - cutAt} ms after cut, relay pair ${onRelayAt - cutAt} ms after cut; audio gap caller ${Math.round(longestGap(inA).gapMs)} / callee ${Math.round(longestGap(inB).gapMs)}`,
    });
    await lab.restoreDirect();
  });

  test('6. caller relay-only: relayed although P2P works, and the callee never sees a caller address', async () => {
    const { hostA, wanA } = lab.addresses;
    const leaks = (text: string) => [hostA, wanA].filter((ip) => new RegExp(`\\b${ip.replace(/\./g, '\\.')}\\b`).test(text));
    await scenario('6. caller relay-only', { natA: 'eim', natB: 'eim', policyA: 'relay' }, (r) => {
      expect(r.pair.caller.local.type).toBe('relay');
      expectRelayed(r);
      // What the callee received: the offer and the caller's candidates.
      expect(leaks(r.offer.sdp)).toEqual([]);
      expect(r.gather.caller.candidates.length).toBeGreaterThan(0);
      for (const c of r.gather.caller.candidates) {
        expect(c.candidate).toMatch(/ typ relay/);
        expect(leaks(c.candidate), c.candidate).toEqual([]);
      }
    });
    // And what the callee's ICE agent saw on the wire (peer-reflexive candidates included).
    for (const c of await callee.remoteCandidates()) {
      expect([relay.ip, '']).toContain(c.address);
    }
  });

  test.skipIf(RELAY_KIND === 'coturn')('reference: coturn gives the same pairs (1, 2, 4)', async () => {
    await relay.stop();
    relay = await startLabRelay(lab, { kind: 'coturn' });
    await scenario('1. EIM + EIM', { natA: 'eim', natB: 'eim' }, expectDirect, { runs: 1, direct: true });
    await scenario('2. EIM + symmetric', { natA: 'eim', natB: 'symmetric' }, expectRelayed, { runs: 1 });
    await scenario('4. relay UDP blocked', { natA: 'eim', natB: 'eim', blockRelayUdp: true, afterRelayMs: 500 }, (r) => {
      expect(r.pair.caller.local.relayProtocol).toBe('tcp');
      expectRelayed(r);
    }, { runs: 1 });
  });
});
