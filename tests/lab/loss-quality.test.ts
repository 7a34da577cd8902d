/**
 * Sound on a lossy path (issue 17): the same lab, the same loss, two calls at
 * once: a Hush call (two Chromiums with the extension, every frame encrypted
 * by the frame worker) and a plain WebRTC call (two Chromiums, the lab's
 * webrtc-peer page, no frame transform), host A to host B, both fed the same
 * 880 Hz tone file. Router B drops a share of the UDP packets it forwards,
 * both directions (nftables `numgen random`: this kernel has no netem,
 * docs/media.md), for 0 %, 3 % and 10 %; with the loss, router B also delays
 * every UDP packet it forwards by 40 ± 30 ms, both directions (`jitter.ts`: a tc
 * BPF delay line, as netem's "delay 40ms 30ms" would), so the 3 % and 10 %
 * rounds are the issue's "loss and 30 ms jitter on one side". Before the calls,
 * a UDP echo through router B checks the jitter is real (RTT mean and spread,
 * printed, without and with it).
 *
 * For each loss and each receiving side it reads inbound-rtp over a window of
 * WINDOW_PACKETS packets (counted: received + lost, so the window is a
 * condition, not a sleep) and prints concealed samples / total samples
 * received (getStats concealedSamples / totalSamplesReceived) for Hush and
 * for plain WebRTC. It asserts:
 *   - both calls survive every loss: still connected, frames decrypted, none
 *     failing authentication, the tone heard at the end;
 *   - at each loss, the median over ~3 s intervals of Hush's concealment minus
 *     plain WebRTC's is within the comparison's noise (3σ of the binomial
 *     median plus STALL_POINTS, justified below and in docs/media.md);
 *   - the quality indicator in both popups turns weak or bad at 10 % loss and
 *     back to good once the loss is gone.
 *
 * HUSH_LAB_RUNS (default 1) repeats the loss sweep; the table shows each run.
 * Root only; needs the Chromium build (`npm run build`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeTone, waitForReading } from '../harness/audio';
import { EXTENSION_DIR } from '../harness/chromium';
import { launchChromiumSideInLab, type CallSide } from '../harness/firefox-hush';
import { callState, click, dialByUi, hangUpAll, request, waitCallState, type HushSide } from '../harness/hush';
import { median } from '../harness/median';
import { waitFor } from '../harness/wait';
import { launchInNamespace, type NsBrowser } from './chromium-in-ns';
import { createLab, requireRoot, type Lab } from './netns';
import { startLabRelay, type LabRelay } from './relay-in-ns';
import { opusForVoice } from '../../lib/media/opus-sdp';
import { addJitter, measureRtt, showRtt, type Jitter, type RttFigures } from './jitter';
import { LabPeer, negotiate, type InboundAudio } from './webrtc-peer';

const support = requireRoot();
const built = existsSync(join(EXTENSION_DIR, 'manifest.json'));
if (!support.skip && !built) console.warn('lab loss test skipped: no build (`npm run build`)');

const TONE_HZ = 880;
const RUNS = Math.max(1, Number(process.env.HUSH_LAB_RUNS ?? 1));
/**
 * The rounds: loss %, and whether router B adds JITTER too. Default: 0 % (clean), then 3 % and
 * 10 % each with jitter. HUSH_LAB_LEVELS="0,3,10,3j,10j" (a `j` adds the jitter) for ad-hoc runs.
 */
const LEVELS = (process.env.HUSH_LAB_LEVELS ?? '0,3j,10j').split(',').map((l) => ({ loss: Number.parseFloat(l), jitter: l.trim().endsWith('j'), name: l.trim() }));
/** netem's "delay 40ms 30ms" on router B: each UDP packet 10..70 ms later, uniform, both directions. */
const JITTER = { delayMs: 40, jitterMs: 30 };
/** The echo for the jitter check sits in the lab's internet, beside the relay (a free port). */
const ECHO = { ns: 'inet' as const, ip: '203.0.113.10', port: 7009 };
/** 15 s of 20 ms packets per window: ±0.6 % (one sigma) on a 3 % loss rate. */
const WINDOW_PACKETS = 750;
/**
 * The noise of the comparison. The counters are polled about every 3 s; for each interval and
 * receiver, Hush's concealment minus plain's over the same seconds. The test takes the median of
 * those differences per loss level: a playout stall of a loaded machine hits one browser for a few
 * seconds (seen here: one Hush receiver concealing 28 % at 10 % loss in one window, the plain
 * receiver beside it 13 %), which moves a mean by many points and a median hardly at all. The
 * median of n differences of two binomial draws has σ ≈ 1.2533·√(2·p·(1−p)/N)/√n (N packets per
 * interval); we allow 3σ of that plus STALL_POINTS (docs/media.md "Sound on a lossy path").
 */
const MEDIAN_EFFICIENCY = 1.2533;
const STALL_POINTS = 1;
const LOSS_TABLE = 'hush_loss';

/**
 * HUSH_LAB_OPUS_VARIANTS=1 (ad hoc, never in CI): instead of the comparison, one plain WebRTC call
 * per Opus setting between the same two lab browsers, at 10 % loss and the jitter, concealment per
 * receiver (docs/media.md "Opus settings, measured"). The settings go into the description each side
 * *receives* (its fmtp and ptime steer that side's encoder, RFC 7587 §7), munged in the test process;
 * the send codec each side then uses is read back from getStats and printed. `e2ee` variants put an
 * AES-GCM frame transform (legacy createEncodedStreams, a stand-in for Hush's frame worker: 4-byte
 * counter header, 16-byte tag) on both ends, so RED can be seen through frame encryption.
 */
const OPUS_VARIANTS = process.env.HUSH_LAB_OPUS_VARIANTS === '1';
const VARIANT_SAMPLES = 48_000 * Number(process.env.HUSH_LAB_VARIANT_SECONDS ?? 15);

/** Sets `key=value` on every Opus fmtp line (adds the line if missing is not needed: Chromium always writes one). */
function fmtp(sdp: string, key: string, value: string): string {
  const opus = [...sdp.matchAll(/a=rtpmap:(\d+) opus\/48000/gi)].map((m) => m[1]);
  return sdp.replace(/^a=fmtp:(\d+) (.*)$/gm, (line, pt: string, params: string) => {
    if (!opus.includes(pt)) return line;
    const kept = params.split(';').filter((p) => p && !p.toLowerCase().startsWith(`${key}=`));
    return `a=fmtp:${pt} ${[...kept, `${key}=${value}`].join(';')}`;
  });
}
/** One `a=ptime:MS` line, right after the Opus rtpmap (opusForVoice put its own 20 elsewhere). */
const ptime = (sdp: string, ms: number) => sdp.replace(/^a=ptime:\d+\r?\n/gm, '').replace(/^(a=rtpmap:\d+ opus\/48000\/2\r?\n)/im, `$1a=ptime:${ms}\r\n`);
/** RED first in the audio m-line: the first codec is the one each encoder sends. */
function redFirst(sdp: string): string {
  const red = /a=rtpmap:(\d+) red\/48000/i.exec(sdp)?.[1];
  if (!red) throw new Error('this Chromium offers no audio/red');
  return sdp.replace(/^(m=audio \d+ \S+) (.*)$/m, (_l, head: string, pts: string) => `${head} ${[red, ...pts.split(' ').filter((p) => p !== red)].join(' ')}`);
}
interface OpusVariant {
  name: string;
  munge: (sdp: string) => string;
  e2ee?: boolean;
}
/** FEC 1, DTX 0, 20 ms, Opus first: Hush's settings before RED. */
const noRed = (s: string) => opusForVoice(s, { red: false });
const VARIANTS: OpusVariant[] = [
  { name: 'Chromium default', munge: (s) => s },
  { name: 'FEC 1, DTX 0, 20 ms', munge: noRed },
  { name: 'FEC off', munge: (s) => fmtp(noRed(s), 'useinbandfec', '0') },
  { name: 'ptime 40', munge: (s) => ptime(noRed(s), 40) },
  { name: 'ptime 60', munge: (s) => ptime(noRed(s), 60) },
  { name: 'DTX on', munge: (s) => fmtp(noRed(s), 'usedtx', '1') },
  { name: 'RED', munge: (s) => redFirst(noRed(s)) },
  { name: 'FEC 1, DTX 0, 20 ms + E2EE', munge: noRed, e2ee: true },
  { name: 'RED + E2EE', munge: (s) => redFirst(noRed(s)), e2ee: true },
  { name: 'Hush now (opusForVoice) + E2EE', munge: (s) => opusForVoice(s), e2ee: true },
];

/**
 * Runs in the plain peer's page before `create`: every RTCPeerConnection made afterwards is kept in
 * `__pcs`, and with `e2ee` gets AES-GCM on every encoded audio frame both ways, attached right after
 * addTrack (the trap in docs/media.md). What the sender transform sees is recorded: frame sizes and
 * payload types, so a RED frame (primary + redundancy in one) shows as one larger frame.
 */
function installPageHooks(e2ee: boolean): Promise<void> {
  type W = typeof globalThis & { __pcs?: RTCPeerConnection[]; __frames?: { sent: number; bytes: number; pts: Record<string, number>; failed: number }; __origPC?: typeof RTCPeerConnection };
  const w = globalThis as W;
  w.__origPC ??= w.RTCPeerConnection;
  const Orig = w.__origPC;
  w.__pcs = [];
  w.__frames = { sent: 0, bytes: 0, pts: {}, failed: 0 };
  const keyP = crypto.subtle.importKey('raw', new Uint8Array(32).fill(7), 'AES-GCM', false, ['encrypt', 'decrypt']);
  const nonce = (n: number) => {
    const iv = new Uint8Array(12);
    new DataView(iv.buffer).setUint32(8, n);
    return iv;
  };
  type Encoded = { data: ArrayBuffer; getMetadata(): { payloadType?: number } };
  type Streams = { readable: ReadableStream<Encoded>; writable: WritableStream<Encoded> };
  const pipe = (st: Streams, fn: (f: Encoded) => Promise<boolean>) =>
    void st.readable.pipeThrough(new TransformStream<Encoded, Encoded>({ async transform(f, c) { if (await fn(f)) c.enqueue(f); } })).pipeTo(st.writable);
  let counter = 0;
  class HookedPC extends Orig {
    constructor(cfg?: RTCConfiguration) {
      super(e2ee ? ({ ...cfg, encodedInsertableStreams: true } as RTCConfiguration) : cfg);
      w.__pcs!.push(this);
    }
    override addTrack(track: MediaStreamTrack, ...streams: MediaStream[]): RTCRtpSender {
      const sender = super.addTrack(track, ...streams);
      if (!e2ee) return sender;
      const t = this.getTransceivers().find((x) => x.sender === sender)!;
      pipe((sender as unknown as { createEncodedStreams(): Streams }).createEncodedStreams(), async (f) => {
        const stats = w.__frames!;
        stats.sent++;
        stats.bytes += f.data.byteLength;
        const pt = String(f.getMetadata().payloadType ?? '?');
        stats.pts[pt] = (stats.pts[pt] ?? 0) + 1;
        const n = counter++;
        const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce(n) }, await keyP, f.data));
        const out = new Uint8Array(4 + ct.length);
        new DataView(out.buffer).setUint32(0, n);
        out.set(ct, 4);
        f.data = out.buffer;
        return true;
      });
      pipe((t.receiver as unknown as { createEncodedStreams(): Streams }).createEncodedStreams(), async (f) => {
        if (f.data.byteLength < 20) return false;
        const n = new DataView(f.data).getUint32(0);
        try {
          f.data = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce(n) }, await keyP, f.data.slice(4));
          return true;
        } catch {
          w.__frames!.failed++;
          return false;
        }
      });
      return sender;
    }
  }
  w.RTCPeerConnection = HookedPC as typeof RTCPeerConnection;
  return Promise.resolve();
}

/** The send codec and frame figures of the page's newest connection. */
function readSendSide(): Promise<{ codec: string; fmtp: string; packetsSent: number; frames: unknown }> {
  type W = typeof globalThis & { __pcs?: RTCPeerConnection[]; __frames?: unknown };
  const w = globalThis as W;
  const pc = w.__pcs!.at(-1)!;
  return pc.getStats().then((stats) => {
    let out = { codec: '?', fmtp: '', packetsSent: 0, frames: w.__frames };
    stats.forEach((s: { type: string; kind?: string; codecId?: string; packetsSent?: number }) => {
      if (s.type === 'outbound-rtp' && s.kind === 'audio') {
        const c = s.codecId ? (stats.get(s.codecId) as { mimeType: string; sdpFmtpLine?: string } | undefined) : undefined;
        out = { codec: c?.mimeType ?? '?', fmtp: c?.sdpFmtpLine ?? '', packetsSent: s.packetsSent ?? 0, frames: w.__frames };
      }
    });
    return out;
  });
}

interface Counters {
  packetsReceived: number;
  packetsLost: number;
  concealedSamples: number;
  totalSamplesReceived: number;
}

interface Row {
  run: number;
  loss: string;
  side: string;
  hush: number;
  plain: number;
  hushLost: number;
  plainLost: number;
  /** The window's raw counts, for the per-level totals. */
  hushConcealed: number;
  hushSamples: number;
  plainConcealed: number;
  plainSamples: number;
  packets: number;
}

const pct = (a: Counters, b: Counters) => (100 * (b.concealedSamples - a.concealedSamples)) / Math.max(1, b.totalSamplesReceived - a.totalSamplesReceived);
const lostPct = (a: Counters, b: Counters) => {
  const lost = b.packetsLost - a.packetsLost;
  return (100 * lost) / Math.max(1, lost + b.packetsReceived - a.packetsReceived);
};
const seen = (c: Counters) => c.packetsReceived + c.packetsLost;

/** Router B drops `percent` % of the UDP packets it forwards (both directions); 0 removes the rule. */
async function setLoss(lab: Lab, percent: number): Promise<void> {
  const rules = percent > 0 ? `add chain inet ${LOSS_TABLE} lossy { type filter hook forward priority -10; policy accept; }\nadd rule inet ${LOSS_TABLE} lossy meta l4proto udp numgen random mod 1000 < ${percent * 10} drop\n` : '';
  await lab.exec('rtrB', 'nft', ['-f', '-'], { input: `add table inet ${LOSS_TABLE}\ndelete table inet ${LOSS_TABLE}\n${rules ? `add table inet ${LOSS_TABLE}\n${rules}` : ''}` });
}

describe.skipIf(support.skip || !built)('sound on a lossy path: Hush against plain WebRTC, and the quality indicator', () => {
  let lab: Lab;
  let relay: LabRelay;
  let hushA: CallSide;
  let hushB: CallSide;
  let plainBrowsers: NsBrowser[] = [];
  let plainA: LabPeer;
  let plainB: LabPeer;
  const rows: Row[] = [];
  const intervals: Array<{ loss: string; diff: number; packets: number }> = [];
  let jitter: Jitter | undefined;
  let rtt: { without: RttFigures; with: RttFigures; lines: string[] } | undefined;

  /** Loss (nftables) and jitter (the delay line) on router B for one round. */
  async function setLevel(level: { loss: number; jitter: boolean }): Promise<void> {
    await setLoss(lab, level.loss);
    if (level.jitter && !jitter) jitter = await addJitter(lab, 'rtrB', JITTER);
    if (!level.jitter && jitter) {
      await jitter.remove();
      jitter = undefined;
    }
  }

  beforeAll(async () => {
    lab = await createLab();
    relay = await startLabRelay(lab, { kind: 'hush' });
    const tone = [`--use-file-for-fake-audio-capture=${makeTone(TONE_HZ)}`, '--autoplay-policy=no-user-gesture-required'];
    // The jitter, checked by UDP round trips host B → router B → the internet and back, while the browsers start.
    const checkJitter = async () => {
      const without = await measureRtt(lab, 'hostB', ECHO);
      const line = await addJitter(lab, 'rtrB', JITTER);
      let withJitter: RttFigures;
      try {
        withJitter = await measureRtt(lab, 'hostB', ECHO);
      } finally {
        rtt = { without, with: undefined!, lines: await line.remove() };
      }
      rtt.with = withJitter;
      console.log(`jitter check, UDP echo host B -> ${ECHO.ip} every 20 ms:\n  without: ${showRtt(without)}\n  with ${JITTER.delayMs} ± ${JITTER.jitterMs} ms on router B: ${showRtt(withJitter)}\n  lines: ${rtt.lines.join('; ')}`);
    };
    const [, ...launched] = await Promise.all([
      checkJitter(),
      launchChromiumSideInLab(lab, 'hostA', { toneHz: TONE_HZ, signalUrl: relay.signalUrl! }),
      launchChromiumSideInLab(lab, 'hostB', { toneHz: TONE_HZ, signalUrl: relay.signalUrl! }),
      launchInNamespace(lab, 'hostA', { args: tone }),
      launchInNamespace(lab, 'hostB', { args: tone }),
    ]);
    [hushA, hushB, ...plainBrowsers] = launched as [CallSide, CallSide, NsBrowser, NsBrowser];
    [plainA, plainB] = await Promise.all([LabPeer.open(plainBrowsers[0]!, 'plainA'), LabPeer.open(plainBrowsers[1]!, 'plainB')]);
  }, 120_000);

  afterAll(async () => {
    if (rows.length) {
      const line = (r: Row) =>
        `${String(r.run).padStart(3)} ${String(r.loss).padStart(5)} % ${r.side.padEnd(8)} ${r.hushLost.toFixed(1).padStart(8)} ${r.plainLost.toFixed(1).padStart(8)} ${r.hush.toFixed(2).padStart(9)} ${r.plain.toFixed(2).padStart(9)} ${(r.hush - r.plain).toFixed(2).padStart(8)}`;
      console.log(
        `\nconcealed / total samples received, % (window ${WINDOW_PACKETS} packets; loss on router B, both directions; j: and ${JITTER.delayMs} ± ${JITTER.jitterMs} ms)\n` +
          `run  loss   hears     lost%H   lost%P   Hush      plain     H−P\n${rows.map(line).join('\n')}\n`,
      );
    }
    if (lab) await setLevel({ loss: 0, jitter: false }).catch(() => {});
    await Promise.allSettled([hushA?.close(), hushB?.close(), ...plainBrowsers.map((b) => b.close())]);
    await relay?.stop().catch(() => {});
    await lab?.destroy();
  });

  async function hushCounters(side: CallSide): Promise<Counters & { frames: { decrypted: number; dropped: number; authFailed: number } }> {
    const s = (await request(side.popup, 'call-stats')) as Counters & { frames: { decrypted: number; dropped: number; authFailed: number } } | null;
    if (!s) throw new Error('no call stats: the Hush call is gone');
    return s;
  }

  async function plainCounters(peer: LabPeer): Promise<InboundAudio> {
    const s = await peer.inboundAudio();
    if (!s) throw new Error(`${peer.name}: no inbound audio stats`);
    return s;
  }

  const quality = (side: CallSide) => side.popup.$eval('[data-testid="call-quality"]', (e) => e.getAttribute('data-quality'));

  if (!OPUS_VARIANTS) test('concealment under 0 %, then 3 / 10 % loss with 40 ± 30 ms jitter: Hush within the noise of plain WebRTC; the indicator turns weak/bad and back to good', async () => {
    // The delay line works: the echo's round trip grew by about twice the delay (it crosses router B
    // both ways) and spread out (two uniform ±30 ms: σ ≈ 24.5 ms). Lower bounds only: a loaded machine adds.
    // Medians, not means: the browsers start beside the "without" probe, and their load spikes moved
    // its mean by up to 58 ms (its median by under 6).
    expect(rtt?.with, 'the jitter check ran').toBeDefined();
    expect(rtt!.with.received, 'echoes through the delay line').toBe(rtt!.with.sent);
    expect(rtt!.with.p50Ms - rtt!.without.p50Ms).toBeGreaterThan(0.75 * 2 * JITTER.delayMs);
    expect(rtt!.with.sdMs).toBeGreaterThan(0.5 * Math.SQRT2 * (JITTER.jitterMs / Math.sqrt(3)));
    // A retry starts from no call (the first attempt may have left one up).
    await hangUpAll(...([hushA, hushB] as unknown as HushSide[]));
    for (const side of [hushA, hushB]) await request(side.popup, 'dismiss-call').catch(() => {});
    rows.length = 0;
    intervals.length = 0;
    // The Hush call, through the UI.
    await dialByUi(hushA.popup, hushB.address);
    await waitCallState(hushB.popup, 'incoming');
    await click(hushB.popup, 'accept');
    await waitCallState(hushA.popup, 'connected', 30_000);
    await waitCallState(hushB.popup, 'connected', 30_000);
    // The plain call, the test process carrying the descriptions and candidates.
    await Promise.all([
      plainA.create({ iceServers: relay.iceServers({ id: 'caller' }) }),
      plainB.create({ iceServers: relay.iceServers({ id: 'callee' }) }),
    ]);
    await negotiate(plainA, plainB);
    // Played out like Hush's media host does, so both count concealed samples the same way.
    await Promise.all([plainA.play(), plainB.play()]);
    // The plain calls play out: samples are counted at both receivers.
    // No inbound-rtp entry yet means "not yet" here (it appears with the first RTP packet), not a failure.
    await waitFor(async () => (await Promise.all([plainA.inboundAudio(), plainB.inboundAudio()])).every((c) => (c?.totalSamplesReceived ?? 0) > 0), {
      timeout: 15_000,
      what: 'the plain calls to play out samples',
    });
    const heard = (side: CallSide) => waitForReading(() => side.hears(), (r) => Math.abs(r.frequency - TONE_HZ) < 10 && r.rmsDb > -40, { timeoutMs: 15_000 });
    await Promise.all([heard(hushA), heard(hushB)]);
    const hushPath = ((await request(hushA.popup, 'call-stats')) as { path: string }).path;
    const plainPath = await plainA.selected();
    console.log(`paths: Hush ${hushPath}, plain ${plainPath ? `${plainPath.local.type} -> ${plainPath.remote.type}` : 'none'}`);

    const pairs: Array<{ side: string; hush: CallSide; plain: LabPeer }> = [
      { side: 'A', hush: hushA, plain: plainA },
      { side: 'B', hush: hushB, plain: plainB },
    ];
    const pathsSeen: string[] = [];
    const counters = () => Promise.all(pairs.map(async (p) => ({ h: await hushCounters(p.hush), p: await plainCounters(p.plain) })));
    // One window at 0 %, not counted: we compare steady calls. (Once, the first window of the Hush call
    // concealed 10 % on both receivers at 0 % loss while the plain call's did not; not explained.)
    const start = await counters();
    await waitFor(async () => (await counters()).every((n, i) => seen(n.h) - seen(start[i]!.h) >= WINDOW_PACKETS && seen(n.p) - seen(start[i]!.p) >= WINDOW_PACKETS), {
      timeout: 90_000,
      interval: 3000,
      what: `${WINDOW_PACKETS} packets at every receiver before measuring`,
    });
    for (let run = 1; run <= RUNS; run++) {
      for (const level of LEVELS) {
        const loss = level.name;
        await setLevel(level);
        const before = await counters();
        // The window: every receiver has seen WINDOW_PACKETS more packets (received or lost). Polled
        // every 3 s: a Hush `call-stats` also runs the media host's analyser, a cost the plain call has not.
        const polls = [before];
        const after = await waitFor(
          async () => {
            const now = await counters();
            polls.push(now);
            // Which path the Hush call's media host says it uses: a make-before-break switch to the
            // standby under loss or jitter alone would show as "relay" (path-switch.ts; printed, not asserted).
            now.forEach((n, i) => pathsSeen.push(`${loss}:${pairs[i]!.side}:${(n.h as { path?: string }).path ?? '?'}`));
            const done = now.every((n, i) => seen(n.h) - seen(before[i]!.h) >= WINDOW_PACKETS && seen(n.p) - seen(before[i]!.p) >= WINDOW_PACKETS);
            return done ? now : undefined;
          },
          { timeout: 90_000, interval: 3000, what: `${WINDOW_PACKETS} packets at every receiver under ${loss} % loss (j: with jitter)` },
        );
        // Each poll-to-poll interval (about 3 s) of each receiver: Hush's concealment minus plain's, same moments.
        for (let k = 1; k < polls.length; k++) {
          pairs.forEach((_, i) => {
            const [b, a] = [polls[k - 1]![i]!, polls[k]![i]!];
            if (a.h.totalSamplesReceived > b.h.totalSamplesReceived && a.p.totalSamplesReceived > b.p.totalSamplesReceived) {
              intervals.push({ loss, diff: pct(b.h, a.h) - pct(b.p, a.p), packets: seen(a.p) - seen(b.p) });
            }
          });
        }
        pairs.forEach((p, i) => {
          const b = before[i]!;
          const a = after[i]!;
          rows.push({
            run,
            loss,
            side: p.side,
            hush: pct(b.h, a.h),
            plain: pct(b.p, a.p),
            hushLost: lostPct(b.h, a.h),
            plainLost: lostPct(b.p, a.p),
            hushConcealed: a.h.concealedSamples - b.h.concealedSamples,
            hushSamples: a.h.totalSamplesReceived - b.h.totalSamplesReceived,
            plainConcealed: a.p.concealedSamples - b.p.concealedSamples,
            plainSamples: a.p.totalSamplesReceived - b.p.totalSamplesReceived,
            packets: seen(a.p) - seen(b.p),
          });
          // Every frame that arrived authenticated: loss never turns into garbage for the decoder.
          expect(a.h.frames.decrypted).toBeGreaterThan(b.h.frames.decrypted);
          expect(a.h.frames.authFailed).toBe(0);
        });
        if (level.loss === 10) {
          // The indicator of both popups says the network is hurting the call.
          for (const side of [hushA, hushB]) {
            await waitFor(async () => ['weak', 'bad'].includes((await quality(side)) ?? ''), { timeout: 30_000, interval: 1000, what: 'the quality indicator to say weak or bad at 10 % loss' });
          }
        }
      }
      await setLevel({ loss: 0, jitter: false });
      for (const side of [hushA, hushB]) {
        await waitFor(async () => (await quality(side)) === 'good', { timeout: 30_000, interval: 1000, what: 'the quality indicator back to good once the loss is gone' });
      }
    }

    const tally = new Map<string, number>();
    for (const p of pathsSeen) tally.set(p, (tally.get(p) ?? 0) + 1);
    console.log(`Hush path at each poll (level:receiver:path × polls): ${[...tally].map(([k, n]) => `${k}×${n}`).join(', ')}`);
    // Both calls survived everything and still sound.
    for (const side of [hushA, hushB]) expect(await callState(side.popup)).toBe('connected');
    await Promise.all([heard(hushA), heard(hushB)]);
    expect(await plainA.iceState()).toMatch(/connected|completed/);

    // The measured loss is the loss we set (the rule works), and Hush conceals no worse than plain WebRTC.
    for (const r of rows) {
      const set = Number.parseFloat(r.loss);
      if (set > 0) expect(r.hushLost, `run ${r.run}, ${r.loss} %, side ${r.side}: measured loss`).toBeGreaterThan(set / 3);
    }
    for (const level of LEVELS) {
      const loss = level.name;
      const at = rows.filter((r) => r.loss === loss);
      const sum = (k: keyof Row) => at.reduce((n, r) => n + (r[k] as number), 0);
      const hush = (100 * sum('hushConcealed')) / sum('hushSamples');
      const plain = (100 * sum('plainConcealed')) / sum('plainSamples');
      // The median interval: a stall that hits one browser for a few seconds moves a mean, not a median.
      const diffs = intervals.filter((x) => x.loss === loss);
      const mid = median(diffs.map((x) => x.diff));
      const p = Math.max(level.loss / 100, plain / 100);
      const perInterval = diffs.reduce((n, x) => n + x.packets, 0) / diffs.length;
      const bound = MEDIAN_EFFICIENCY * 300 * Math.sqrt((2 * p * (1 - p)) / perInterval) / Math.sqrt(diffs.length) + STALL_POINTS;
      console.log(
        `${loss} % loss: Hush ${hush.toFixed(2)} %, plain ${plain.toFixed(2)} % over all windows; median of ${diffs.length} intervals Hush − plain ${mid.toFixed(2)} points, bound ${bound.toFixed(2)}`,
      );
      expect(mid, `${loss} % loss: median interval difference Hush − plain ${mid.toFixed(2)} points (bound ${bound.toFixed(2)})`).toBeLessThanOrEqual(bound);
    }
  }, 900_000);

  if (OPUS_VARIANTS)
    test('Opus settings at 10 % loss with the jitter: concealment per variant (ad hoc, HUSH_LAB_OPUS_VARIANTS=1)', async () => {
      const table: string[] = [];
      await setLevel({ loss: 0, jitter: true });
      for (let run = 1; run <= RUNS; run++) {
        for (const v of VARIANTS) {
          await setLoss(lab, 0);
          await Promise.all([plainA, plainB].map((p) => p.page.evaluate(installPageHooks, !!v.e2ee)));
          await Promise.all([
            plainA.create({ iceServers: relay.iceServers({ id: 'caller' }) }),
            plainB.create({ iceServers: relay.iceServers({ id: 'callee' }) }),
          ]);
          // negotiate() with the variant's settings in each description as the other side receives it.
          const offer = await plainA.offer();
          const answer = await plainB.answer({ type: 'offer', sdp: v.munge(offer.sdp) });
          await plainA.accept({ type: 'answer', sdp: v.munge(answer.sdp) });
          const [ga, gb] = await Promise.all([plainA.gathered(10_000), plainB.gathered(10_000)]);
          await Promise.all([plainB.addCandidates(ga.candidates), plainA.addCandidates(gb.candidates)]);
          await waitFor(async () => (await Promise.all([plainA.iceState(), plainB.iceState()])).every((s) => /connected|completed/.test(s)), { timeout: 30_000, what: `${v.name}: both connected` });
          await Promise.all([plainA.play(), plainB.play()]);
          await waitFor(async () => (await Promise.all([plainA.inboundAudio(), plainB.inboundAudio()])).every((c) => (c?.totalSamplesReceived ?? 0) > 48_000), {
            timeout: 30_000,
            what: `${v.name}: a second of samples played at both ends`,
          });
          await setLoss(lab, 10);
          const t0 = Date.now();
          const before = await Promise.all([plainA.inboundAudio(), plainB.inboundAudio()]);
          const after = await waitFor(
            async () => {
              const now = await Promise.all([plainA.inboundAudio(), plainB.inboundAudio()]);
              return now.every((n, i) => n!.totalSamplesReceived - before[i]!.totalSamplesReceived >= VARIANT_SAMPLES) ? now : undefined;
            },
            { timeout: 120_000, interval: 1000, what: `${v.name}: ${VARIANT_SAMPLES} samples at both ends` },
          );
          const secs = (Date.now() - t0) / 1000;
          const send = await Promise.all([plainA, plainB].map((p) => p.page.evaluate(readSendSide)));
          ['A', 'B'].forEach((side, i) => {
            const [b, a] = [before[i]!, after[i]!];
            const peerSend = send[1 - i]!;
            const f = peerSend.frames as { sent: number; bytes: number; pts: Record<string, number>; failed: number };
            table.push(
              `${run} | ${v.name} | ${side} | ${lostPct(b, a).toFixed(1)} | ${pct(b, a).toFixed(2)} | ${((a.packetsReceived - b.packetsReceived) / secs).toFixed(1)} | ${peerSend.codec} ${peerSend.fmtp} | ${v.e2ee ? `${f.sent} frames, ${(f.bytes / Math.max(1, f.sent)).toFixed(0)} B avg, pt ${JSON.stringify(f.pts)}, auth failed here ${(send[i]!.frames as { failed: number }).failed}` : '-'} |`,
            );
          });
          await Promise.all([plainA.close(), plainB.close()]);
        }
      }
      await setLevel({ loss: 0, jitter: false });
      console.log(`\nOpus variants at 10 % loss + ${JITTER.delayMs} ± ${JITTER.jitterMs} ms on router B, ${VARIANT_SAMPLES / 48_000} s per receiver\n| run | variant | hears | lost % | concealed % | packets/s | peer sends | frames seen by the sender transform |\n|---|---|---|---|---|---|---|---|\n${table.join('\n')}\n`);
      expect(table.length).toBe(RUNS * VARIANTS.length * 2);
    }, 1_800_000);
});
