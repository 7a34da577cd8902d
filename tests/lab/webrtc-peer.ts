/**
 * A plain WebRTC audio peer in a lab Chromium, driven from the test process:
 * no extension, no signalling server. The test process carries the offer,
 * the answer and the candidates between the two browsers.
 *
 * The page is served by puppeteer's request interception as
 * http://localhost/lab (localhost is a secure context, so getUserMedia
 * works; nothing goes on the network). Its script (PAGE_SCRIPT below) keeps
 * one RTCPeerConnection with Chromium's fake microphone, and logs with
 * Date.now() timestamps (one clock for both browsers: same machine) every
 * ICE state change, every selected-pair change, and on demand the inbound
 * audio packet counter every 50 ms.
 *
 * negotiate() separates the phases so each can be timed: offer/answer carry
 * no candidates (trickle ICE: the descriptions are the ones createOffer and
 * createAnswer return); both sides gather; then the candidates are handed
 * over at once, and "connect time" runs from that moment to ICE connected.
 */
import type { Page } from 'puppeteer-core';
import type { NsBrowser } from './chromium-in-ns';
import { waitFor } from '../harness/wait';

export interface CandidateInfo {
  type: string;
  protocol: string;
  address: string;
  port: number;
  relayProtocol?: string;
  url?: string;
}

export interface PairInfo {
  local: CandidateInfo;
  remote: CandidateInfo;
  state: string;
  currentRoundTripTime?: number;
}

export interface GatherResult {
  /** Candidates as RTCIceCandidateInit (JSON). */
  candidates: Array<{ candidate: string; sdpMid: string | null; sdpMLineIndex: number | null; usernameFragment?: string | null }>;
  /** From setLocalDescription to gathering complete (or to the timeout). */
  gatherMs: number;
  /** From setLocalDescription to the first relay candidate, if any. */
  relayMs: number | null;
  complete: boolean;
}

export interface PeerEvent {
  t: number;
  kind: 'ice' | 'connection' | 'gathering' | 'pair';
  value: string;
}

export interface AudioSample {
  t: number;
  packets: number;
  /** inbound-rtp lastPacketReceivedTimestamp (ms, epoch). */
  last: number | null;
}

/** inbound-rtp audio counters (cumulative; jitter current, in ms). */
export interface InboundAudio {
  packetsReceived: number;
  packetsLost: number;
  jitterMs: number;
  concealedSamples: number;
  silentConcealedSamples: number;
  totalSamplesReceived: number;
}

export interface PeerConfig {
  iceServers: Array<{ urls: string | string[]; username?: string; credential?: string }>;
  iceTransportPolicy?: 'all' | 'relay';
}

/** The page's script: window.lab. Plain JS, so nothing depends on how the test code is compiled. */
const PAGE_SCRIPT = String.raw`
window.lab = (() => {
  let pc = null;
  let stream = null;
  let cands = [];
  let gathering = null;
  const events = [];
  let audio = null;
  const log = (kind, value) => events.push({ t: Date.now(), kind, value });

  function candInfo(s) {
    return { type: s.candidateType, protocol: s.protocol, address: s.address ?? s.ip, port: s.port,
             relayProtocol: s.relayProtocol, url: s.url };
  }
  // The selected pair as the ICE transport reports it (getStats' transport.selectedCandidatePairId
  // can lag a switch), completed from the stats: relayProtocol, url, pair state and RTT.
  async function selected() {
    const t = pc && pc.getSenders()[0]?.transport?.iceTransport;
    const p = t && t.getSelectedCandidatePair();
    if (!p) return null;
    const stats = await pc.getStats();
    const same = (s, c) => s && s.port === c.port && s.candidateType === c.type && s.protocol === c.protocol;
    let pair = null;
    stats.forEach((s) => {
      if (s.type === 'candidate-pair' && same(stats.get(s.localCandidateId), p.local) && same(stats.get(s.remoteCandidateId), p.remote)) pair = s;
    });
    const info = (c, s) => ({ type: c.type, protocol: c.protocol, address: c.address ?? s?.address ?? '', port: c.port,
                              relayProtocol: c.relayProtocol ?? s?.relayProtocol, url: c.url ?? s?.url });
    return { local: info(p.local, pair && stats.get(pair.localCandidateId)), remote: info(p.remote, pair && stats.get(pair.remoteCandidateId)),
             state: pair ? pair.state : 'unknown', currentRoundTripTime: pair?.currentRoundTripTime };
  }
  function watchGathering() {
    const started = Date.now();
    cands = [];
    let relayAt = null;
    let done;
    const finished = new Promise((r) => (done = r));
    pc.onicecandidate = (e) => {
      if (e.candidate) {
        cands.push(e.candidate.toJSON());
        if (e.candidate.type === 'relay' && relayAt === null) relayAt = Date.now();
      } else done();
    };
    gathering = { started, finished, relayAt: () => relayAt };
  }
  return {
    async create(cfg) {
      this.close();
      events.length = 0;
      stream = stream ?? (await navigator.mediaDevices.getUserMedia({ audio: true }));
      pc = new RTCPeerConnection({ iceServers: cfg.iceServers, iceTransportPolicy: cfg.iceTransportPolicy ?? 'all',
                                   bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
      pc.addTrack(stream.getAudioTracks()[0], stream);
      pc.oniceconnectionstatechange = () => log('ice', pc.iceConnectionState);
      pc.onconnectionstatechange = () => log('connection', pc.connectionState);
      pc.onicegatheringstatechange = () => log('gathering', pc.iceGatheringState);
    },
    async offer(iceRestart) {
      const o = await pc.createOffer({ iceRestart });
      watchGathering();
      await pc.setLocalDescription(o);
      this.watchPair();
      return { type: o.type, sdp: o.sdp };
    },
    async answer(offer) {
      await pc.setRemoteDescription(offer);
      const a = await pc.createAnswer();
      watchGathering();
      await pc.setLocalDescription(a);
      this.watchPair();
      return { type: a.type, sdp: a.sdp };
    },
    async accept(answer) { await pc.setRemoteDescription(answer); },
    setPolicy(policy) { pc.setConfiguration({ ...pc.getConfiguration(), iceTransportPolicy: policy }); },
    watchPair() {
      const t = pc.getSenders()[0]?.transport?.iceTransport;
      if (!t || t.onselectedcandidatepairchange) return;
      t.onselectedcandidatepairchange = () => {
        const p = t.getSelectedCandidatePair();
        log('pair', p ? p.local.type + '/' + p.local.protocol + ' ' + p.local.address + ' -> ' + p.remote.type + ' ' + p.remote.address + ' ufrag=' + p.local.usernameFragment : 'none');
      };
    },
    async gathered(timeoutMs, afterRelayMs) {
      const g = gathering;
      const relaySettled = new Promise((r) => {
        if (afterRelayMs === null) return;
        const poll = setInterval(() => {
          if (g.relayAt() !== null && Date.now() - g.relayAt() >= afterRelayMs) { clearInterval(poll); r(false); }
        }, 20);
        g.finished.then(() => clearInterval(poll));
      });
      const complete = await Promise.race([g.finished.then(() => true), relaySettled,
                                           new Promise((r) => setTimeout(() => r(false), timeoutMs))]);
      const r = g.relayAt();
      return { candidates: cands.slice(), gatherMs: Date.now() - g.started, relayMs: r === null ? null : r - g.started, complete };
    },
    async addCandidates(list) { for (const c of list) await pc.addIceCandidate(c); },
    localUfrag() { return /a=ice-ufrag:(\S+)/.exec(pc.localDescription.sdp)[1]; },
    iceState() { return pc.iceConnectionState; },
    events() { return events.slice(); },
    selected,
    async remoteCandidates() {
      const out = [];
      (await pc.getStats()).forEach((s) => { if (s.type === 'remote-candidate') out.push(candInfo(s)); });
      return out;
    },
    startAudioWatch(intervalMs) {
      this.stopAudioWatch();
      const samples = [];
      const timer = setInterval(async () => {
        if (!pc) return; // between two connections
        const stats = await pc.getStats();
        stats.forEach((s) => {
          if (s.type === 'inbound-rtp' && s.kind === 'audio')
            samples.push({ t: Date.now(), packets: s.packetsReceived, last: s.lastPacketReceivedTimestamp ?? null });
        });
      }, intervalMs);
      audio = { timer, samples };
    },
    async waitStall(stallMs, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = audio ? audio.samples : [];
        let lastMove = null;
        for (let i = s.length - 1; i > 0; i--) if (s[i].packets > s[i - 1].packets) { lastMove = s[i].t; break; }
        if (lastMove !== null && Date.now() - lastMove >= stallMs) return Date.now();
        if (Date.now() > deadline) return null;
        await new Promise((r) => setTimeout(r, 10)); // in the page (no harness there): a poll, not a sleep
      }
    },
    stopAudioWatch() {
      if (!audio) return [];
      clearInterval(audio.timer);
      const s = audio.samples;
      audio = null;
      return s;
    },
    // Play what arrives (Chromium decodes a remote audio track only for a sink; without one, no
    // sample is ever played and concealedSamples / totalSamplesReceived stay 0).
    play() {
      const el = new Audio();
      el.srcObject = new MediaStream(pc.getReceivers().map((r) => r.track));
      return el.play().then(() => true);
    },
    async inboundAudio() {
      let out = null;
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'audio')
          out = { packetsReceived: s.packetsReceived ?? 0, packetsLost: s.packetsLost ?? 0, jitterMs: (s.jitter ?? 0) * 1000,
                  concealedSamples: s.concealedSamples ?? 0, silentConcealedSamples: s.silentConcealedSamples ?? 0,
                  totalSamplesReceived: s.totalSamplesReceived ?? 0 };
      });
      return out;
    },
    close() { if (pc) { pc.close(); pc = null; } },
  };
})();
`;

const PAGE_HTML = `<!doctype html><meta charset="utf-8"><title>hush lab peer</title><script>${PAGE_SCRIPT}</script>`;

type LabWindow = typeof globalThis & {
  lab: {
    create(cfg: PeerConfig): Promise<void>;
    offer(iceRestart: boolean): Promise<{ type: 'offer'; sdp: string }>;
    answer(offer: { type: 'offer'; sdp: string }): Promise<{ type: 'answer'; sdp: string }>;
    accept(answer: { type: 'answer'; sdp: string }): Promise<void>;
    setPolicy(policy: 'all' | 'relay'): void;
    gathered(timeoutMs: number, afterRelayMs: number | null): Promise<GatherResult>;
    addCandidates(list: GatherResult['candidates']): Promise<void>;
    localUfrag(): string;
    iceState(): string;
    events(): PeerEvent[];
    selected(): Promise<PairInfo | null>;
    remoteCandidates(): Promise<CandidateInfo[]>;
    startAudioWatch(intervalMs: number): void;
    stopAudioWatch(): AudioSample[];
    waitStall(stallMs: number, timeoutMs: number): Promise<number | null>;
    inboundAudio(): Promise<InboundAudio | null>;
    play(): Promise<boolean>;
    close(): void;
  };
};

export class LabPeer {
  private constructor(
    readonly name: string,
    readonly page: Page,
  ) {}

  /** Open the peer page in a lab browser. */
  static async open(nb: NsBrowser, name: string): Promise<LabPeer> {
    // The page's microphone, granted as the browser records a person's Allow (CDP Browser.grantPermissions), not by a flag.
    await nb.browser.defaultBrowserContext().overridePermissions('http://localhost', ['microphone']);
    const page = await nb.newPage();
    await page.setRequestInterception(true);
    page.on('request', (r) => {
      if (r.isInterceptResolutionHandled()) return;
      if (r.url() === 'http://localhost/lab') void r.respond({ status: 200, contentType: 'text/html', body: PAGE_HTML });
      else void r.respond({ status: 404, body: '' });
    });
    await page.goto('http://localhost/lab');
    return new LabPeer(name, page);
  }

  create(cfg: PeerConfig): Promise<void> {
    return this.page.evaluate((c) => (globalThis as LabWindow).lab.create(c), cfg);
  }
  offer(iceRestart = false) {
    return this.page.evaluate((r) => (globalThis as LabWindow).lab.offer(r), iceRestart);
  }
  answer(offer: { type: 'offer'; sdp: string }) {
    return this.page.evaluate((o) => (globalThis as LabWindow).lab.answer(o), offer);
  }
  accept(answer: { type: 'answer'; sdp: string }) {
    return this.page.evaluate((a) => (globalThis as LabWindow).lab.accept(a), answer);
  }
  /** Change iceTransportPolicy mid-call (takes effect at the next ICE restart). */
  setPolicy(policy: 'all' | 'relay'): Promise<void> {
    return this.page.evaluate((p) => (globalThis as LabWindow).lab.setPolicy(p), policy);
  }
  /**
   * Wait for gathering to complete, at most timeoutMs; with afterRelayMs, stop
   * waiting that long after the first relay candidate (a TURN server that
   * never answers over one transport would otherwise hold gathering open).
   */
  gathered(timeoutMs: number, afterRelayMs: number | null = null): Promise<GatherResult> {
    return this.page.evaluate((t, r) => (globalThis as LabWindow).lab.gathered(t, r), timeoutMs, afterRelayMs);
  }
  addCandidates(list: GatherResult['candidates']): Promise<void> {
    return this.page.evaluate((l) => (globalThis as LabWindow).lab.addCandidates(l), list);
  }
  localUfrag(): Promise<string> {
    return this.page.evaluate(() => (globalThis as LabWindow).lab.localUfrag());
  }
  iceState(): Promise<string> {
    return this.page.evaluate(() => (globalThis as LabWindow).lab.iceState());
  }
  events(): Promise<PeerEvent[]> {
    return this.page.evaluate(() => (globalThis as LabWindow).lab.events());
  }
  selected(): Promise<PairInfo | null> {
    return this.page.evaluate(() => (globalThis as LabWindow).lab.selected());
  }
  remoteCandidates(): Promise<CandidateInfo[]> {
    return this.page.evaluate(() => (globalThis as LabWindow).lab.remoteCandidates());
  }
  startAudioWatch(intervalMs = 50): Promise<void> {
    return this.page.evaluate((i) => (globalThis as LabWindow).lab.startAudioWatch(i), intervalMs);
  }
  /**
   * Resolves (Date.now()) once no inbound audio packet arrived for stallMs,
   * as an app's "the path died" detector would; null after timeoutMs.
   * Needs startAudioWatch().
   */
  waitStall(stallMs: number, timeoutMs: number): Promise<number | null> {
    return this.page.evaluate((s, t) => (globalThis as LabWindow).lab.waitStall(s, t), stallMs, timeoutMs);
  }
  stopAudioWatch(): Promise<AudioSample[]> {
    return this.page.evaluate(() => (globalThis as LabWindow).lab.stopAudioWatch());
  }
  /** Play the received audio in an <audio> element (needs `--autoplay-policy=no-user-gesture-required`). */
  play(): Promise<boolean> {
    return this.page.evaluate(() => (globalThis as LabWindow).lab.play());
  }
  /** The inbound audio counters of getStats (issue 17: loss and concealment, as Hush's CallStats carries them). */
  inboundAudio(): Promise<InboundAudio | null> {
    return this.page.evaluate(() => (globalThis as LabWindow).lab.inboundAudio());
  }
  close(): Promise<void> {
    return this.page.evaluate(() => (globalThis as LabWindow).lab.close());
  }

  /** Wait until an event matching `match` is logged at or after `since` (Date.now() ms); returns its time. */
  async waitEvent(match: (e: PeerEvent) => boolean, since: number, timeoutMs: number): Promise<number> {
    const hit = await waitFor(async () => (await this.events()).find((e) => e.t >= since && match(e)), {
      timeout: timeoutMs,
      what: async () => `${this.name}: a matching event; events: ${JSON.stringify(await this.events())}`,
    });
    return hit.t;
  }
}

export interface NegotiationResult {
  /** The descriptions as sent (no candidates in them: trickle). */
  offer: { type: 'offer'; sdp: string };
  answer: { type: 'answer'; sdp: string };
  gather: { caller: GatherResult; callee: GatherResult };
  /** Date.now() when both candidate lists were handed over. */
  exchangedAt: number;
  /** ms from exchangedAt to ICE connected, per side. */
  connectMs: { caller: number; callee: number };
  /** The pair each side selected once connected. */
  pair: { caller: PairInfo; callee: PairInfo };
}

export interface NegotiateOptions {
  iceRestart?: boolean;
  /** Stop waiting for gathering after this long and use what was gathered (default 10 s). */
  gatherTimeoutMs?: number;
  /** Stop waiting for gathering this long after the first relay candidate (default: wait for complete). */
  afterRelayMs?: number;
  /** How long ICE may take to connect (default 30 s). */
  connectTimeoutMs?: number;
}

/**
 * Offer/answer without candidates, both sides gather, candidates handed
 * over together, then wait for ICE connected on both sides. With
 * iceRestart, "connected" means a selected pair on the new ufrag.
 */
export async function negotiate(caller: LabPeer, callee: LabPeer, opts: NegotiateOptions = {}): Promise<NegotiationResult> {
  const gatherTimeout = opts.gatherTimeoutMs ?? 10_000;
  const connectTimeout = opts.connectTimeoutMs ?? 30_000;
  const offer = await caller.offer(opts.iceRestart ?? false);
  const answer = await callee.answer(offer);
  await caller.accept(answer);
  const afterRelay = opts.afterRelayMs ?? null;
  const [gc, ge] = await Promise.all([caller.gathered(gatherTimeout, afterRelay), callee.gathered(gatherTimeout, afterRelay)]);
  const [uc, ue] = await Promise.all([caller.localUfrag(), callee.localUfrag()]);
  const exchangedAt = Date.now();
  await Promise.all([callee.addCandidates(gc.candidates), caller.addCandidates(ge.candidates)]);
  // A selected pair on this generation's ufrag: the moment media can flow on the new path.
  const onGeneration = (ufrag: string) => (e: PeerEvent) => e.kind === 'pair' && e.value.endsWith(`ufrag=${ufrag}`);
  const connected = (e: PeerEvent) => e.kind === 'ice' && (e.value === 'connected' || e.value === 'completed');
  const wait = async (p: LabPeer, ufrag: string) => {
    const t1 = await p.waitEvent(onGeneration(ufrag), exchangedAt, connectTimeout);
    const t2 = opts.iceRestart ? t1 : await p.waitEvent(connected, exchangedAt, connectTimeout);
    return Math.max(t1, t2) - exchangedAt;
  };
  const [mc, me] = await Promise.all([wait(caller, uc), wait(callee, ue)]);
  const [pc, pe] = await Promise.all([caller.selected(), callee.selected()]);
  if (!pc || !pe) throw new Error('connected but no selected candidate pair in stats');
  return { offer, answer, gather: { caller: gc, callee: ge }, exchangedAt, connectMs: { caller: mc, callee: me }, pair: { caller: pc, callee: pe } };
}

/**
 * Longest stretch without a new inbound packet in the samples, in ms, and
 * when it started. Resolution: the sampling interval (50 ms by default),
 * sharpened by inbound-rtp's lastPacketReceivedTimestamp.
 */
export function longestGap(samples: AudioSample[]): { gapMs: number; from: number | null } {
  // Arrival times: the last-packet timestamp of every sample whose counter moved.
  // A counter that went down belongs to a new RTCPeerConnection: it moved if it is above 0.
  const arrivals: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    const [prev, cur] = [samples[i - 1]!.packets, samples[i]!.packets];
    if (cur > prev || (cur < prev && cur > 0)) arrivals.push(samples[i]!.last ?? samples[i]!.t);
  }
  let gapMs = 0;
  let from: number | null = null;
  for (let i = 1; i < arrivals.length; i++) {
    const g = arrivals[i]! - arrivals[i - 1]!;
    if (g > gapMs) {
      gapMs = g;
      from = arrivals[i - 1]!;
    }
  }
  return { gapMs, from };
}
