/**
 * Issue 17, Opus DTX with speech (docs/media.md "DTX with speech"). Hush keeps DTX off
 * (opus-sdp.ts); this measures what it would do in a real Hush call, where a steady tone could
 * not show it (a tone has no silence). A's fake microphone plays speech (espeak-ng) with 3 s of
 * digital silence between sentences; B's plays a tone. Three calls A → B through the popup's UI,
 * in privacy mode (relay-only: no standby connection, so one connection carries the audio and its
 * counters are the call's), in the same run: DTX asked of both encoders with Hush's RED, DTX
 * without RED (session-storage hook `testOpusShape`, test builds only), and Hush as shipped (no
 * DTX), the baseline.
 *
 * Sampled from the test process every ~100 ms in each media host (CDP evaluations run at once;
 * the hidden offscreen document's own timers would not): A's microphone energy (media-source
 * totalAudioEnergy / totalSamplesDuration: the truth of speech and pause) and frames encrypted;
 * B's packets and bytes received, frames decrypted / failing authentication, and the energy of
 * what it played. 500 ms windows of B's counters are classed by A's microphone over the same
 * window: speech (RMS ≥ −34 dBFS), pause (RMS ≤ −60 dBFS from 800 ms before the window to 200 ms
 * after it, so DTX had time to start), else a transition (left out).
 *
 * Asserted (the DTX promise, with the frame encryption): with DTX, pauses carry under a quarter
 * of the packets speech does, and under a quarter of the baseline's bytes; every frame B
 * received, DTX frames included, decrypted (0 authentication failures; packets = decrypted +
 * empty padding packets); what B played follows the speech's envelope (pauses at least 20 dB
 * below speech). The baseline must send ~50 packets/s in pauses (the hook, and nothing else, is
 * what changed). Before the sender transform passed DTX's empty frames on, it sealed each into an
 * 18-21 B packet and DTX calls sent ~51 packets/s in pauses: this test failed. Wall time ~85 s.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeSpeech } from '../harness/audio';
import { callState, click, dialByUi, dismiss, hangUpAll, launchSide, request, waitCallState, type HushSide } from '../harness/hush';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { waitFor } from '../harness/wait';

const SENTENCES = [
  'The quick brown fox jumps over the lazy dog.',
  'Please call me back when you have a moment to talk.',
  'Seven silver swans swam silently down the river.',
];
const PAUSE_SEC = 3;
const SAMPLE_MS = 22_000;
const WINDOW_MS = 500;

let relay: RelayProcess;
let a: HushSide;
let b: HushSide;

interface Snap {
  t: number;
  packets: number;
  bytes: number;
  encrypted: number;
  decrypted: number;
  authFailed: number;
  dropped: number;
  /** Empty frames the receive transform saw (RTP packets with no payload), counted apart (frame-transform.ts). */
  empty: number;
  sourceEnergy: number;
  sourceSeconds: number;
  playedEnergy: number;
  playedSeconds: number;
}

async function snap(side: HushSide): Promise<Snap | null> {
  const off = await side.hb.offscreen();
  return off.evaluate(async () => {
    type S = {
      packetsReceived: number;
      bytesReceived: number;
      frames: { encrypted: number; decrypted: number; authFailed: number; dropped: number; empty?: number };
      sourceEnergy?: number;
      sourceSeconds?: number;
      playedEnergy?: number;
      playedSeconds?: number;
    };
    const server = (globalThis as unknown as { hushMediaServer?: { current(): { stats(): Promise<S> } | undefined } }).hushMediaServer;
    const m = server?.current();
    if (!m) return null;
    const s = await m.stats();
    return {
      t: Date.now(),
      packets: s.packetsReceived,
      bytes: s.bytesReceived,
      encrypted: s.frames.encrypted,
      decrypted: s.frames.decrypted,
      authFailed: s.frames.authFailed,
      dropped: s.frames.dropped,
      empty: s.frames.empty ?? 0,
      sourceEnergy: s.sourceEnergy ?? 0,
      sourceSeconds: s.sourceSeconds ?? 0,
      playedEnergy: s.playedEnergy ?? 0,
      playedSeconds: s.playedSeconds ?? 0,
    };
  });
}

/** Snapshots of one side, as fast as the evaluations return (at least ~100 ms apart), for `ms`. */
async function record(side: HushSide, ms: number): Promise<Snap[]> {
  const out: Snap[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const s = await snap(side);
    if (s) out.push(s);
    await waitFor(() => Date.now() - (s?.t ?? 0) >= 100, { timeout: 1000, interval: 10, what: 'the next sample time' });
  }
  return out;
}

/** A cumulative counter of `snaps` at time `t`, linearly interpolated (clamped at the ends). */
function at(snaps: Snap[], t: number, key: keyof Snap): number {
  if (t <= snaps[0]!.t) return snaps[0]![key];
  for (let i = 1; i < snaps.length; i++) {
    const p = snaps[i - 1]!;
    const q = snaps[i]!;
    if (t <= q.t) return p[key] + ((q[key] - p[key]) * (t - p.t)) / (q.t - p.t);
  }
  return snaps.at(-1)![key];
}

const db = (rms: number): number => (rms > 0 ? 20 * Math.log10(rms) : -Infinity);
function rmsOver(snaps: Snap[], from: number, to: number, energy: 'sourceEnergy' | 'playedEnergy', seconds: 'sourceSeconds' | 'playedSeconds'): number {
  const d = at(snaps, to, seconds) - at(snaps, from, seconds);
  return d > 0 ? Math.sqrt(Math.max(0, at(snaps, to, energy) - at(snaps, from, energy)) / d) : 0;
}

interface ClassFigures {
  windows: number;
  packetsPerSec: number;
  bytesPerSec: number;
  decryptedPerSec: number;
  emptyPerSec: number;
  encryptedPerSecAtA: number;
  /** Median RMS of what B played in these windows, dBFS. */
  playedDb: number;
}

interface Measure {
  speech: ClassFigures;
  pause: ClassFigures;
  packets: number;
  decrypted: number;
  /** Empty (padding-only) packets B's receive transform saw. */
  empty: number;
  authFailed: number;
  dropped: number;
  seconds: number;
}

function measure(atA: Snap[], atB: Snap[]): Measure {
  const cls: Record<'speech' | 'pause', Array<{ s: number; packets: number; bytes: number; dec: number; empty: number; enc: number; played: number }>> = { speech: [], pause: [] };
  for (let i = 0; ; ) {
    const j = atB.findIndex((x, k) => k > i && x.t - atB[i]!.t >= WINDOW_MS);
    if (j < 0) break;
    const p = atB[i]!;
    const q = atB[j]!;
    i = j;
    if (q.t > atA.at(-1)!.t || p.t < atA[0]!.t + 800) continue;
    const mic = rmsOver(atA, p.t, q.t, 'sourceEnergy', 'sourceSeconds');
    const around = rmsOver(atA, p.t - 800, q.t + 200, 'sourceEnergy', 'sourceSeconds');
    const kind = db(mic) >= -34 ? 'speech' : db(around) <= -60 ? 'pause' : undefined;
    if (!kind) continue;
    const s = (q.t - p.t) / 1000;
    cls[kind].push({
      s,
      packets: q.packets - p.packets,
      bytes: q.bytes - p.bytes,
      dec: q.decrypted - p.decrypted,
      empty: q.empty - p.empty,
      enc: at(atA, q.t, 'encrypted') - at(atA, p.t, 'encrypted'),
      played: db(rmsOver(atB, p.t, q.t, 'playedEnergy', 'playedSeconds')),
    });
  }
  const figures = (ws: (typeof cls)['speech']): ClassFigures => {
    const s = ws.reduce((n, w) => n + w.s, 0) || 1;
    const sum = (k: 'packets' | 'bytes' | 'dec' | 'empty' | 'enc') => ws.reduce((n, w) => n + w[k], 0) / s;
    const played = ws.map((w) => w.played).sort((x, y) => x - y);
    return {
      windows: ws.length,
      packetsPerSec: sum('packets'),
      bytesPerSec: sum('bytes'),
      decryptedPerSec: sum('dec'),
      emptyPerSec: sum('empty'),
      encryptedPerSecAtA: sum('enc'),
      playedDb: played.length ? played[Math.floor(played.length / 2)]! : NaN,
    };
  };
  const first = atB[0]!;
  const last = atB.at(-1)!;
  return {
    speech: figures(cls.speech),
    pause: figures(cls.pause),
    packets: last.packets - first.packets,
    decrypted: last.decrypted - first.decrypted,
    empty: last.empty - first.empty,
    authFailed: last.authFailed,
    dropped: last.dropped,
    seconds: (last.t - first.t) / 1000,
  };
}

const fmt = (c: ClassFigures): string =>
  `${c.windows} windows: ${c.packetsPerSec.toFixed(1)} packets/s, ${(c.bytesPerSec * 8 / 1000).toFixed(1)} kbit/s received, ` +
  `${c.decryptedPerSec.toFixed(1)} frames/s decrypted (${c.emptyPerSec.toFixed(1)} empty) at B, ${c.encryptedPerSecAtA.toFixed(1)} encrypted at A, played ${c.playedDb.toFixed(1)} dBFS`;

type Shape = 'dtx' | 'dtx-no-red' | '';

async function setShape(side: HushSide, shape: Shape): Promise<void> {
  const w = await side.hb.worker();
  await w.evaluate((v) => (globalThis as unknown as { chrome: { storage: { session: { set(o: object): Promise<void> } } } }).chrome.storage.session.set({ testOpusShape: v }), shape);
}

/** One call A → B with DTX on or off; returns what B received, by speech and pause. */
async function callAndMeasure(shape: Shape): Promise<Measure> {
  await Promise.all([setShape(a, shape), setShape(b, shape)]);
  try {
    await dialByUi(a.popup, b.address);
    await waitCallState(b.popup, 'incoming');
    await click(b.popup, 'accept');
    await waitCallState(a.popup, 'connected');
    await waitCallState(b.popup, 'connected');
    // Frames flowing both ways before the clock starts.
    await waitFor(async () => ((await snap(b))?.decrypted ?? 0) > 50, { timeout: 10_000, what: 'B to decrypt 50 frames' });
    const [atA, atB] = await Promise.all([record(a, SAMPLE_MS), record(b, SAMPLE_MS)]);
    expect(await callState(b.popup)).toBe('connected');
    return measure(atA, atB);
  } finally {
    await hangUpAll(a, b);
    await Promise.all([dismiss(a.popup), dismiss(b.popup)]);
    await Promise.all([setShape(a, ''), setShape(b, '')]);
  }
}

beforeAll(async () => {
  relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
  const speech = makeSpeech(SENTENCES, PAUSE_SEC);
  [a, b] = await Promise.all([
    launchSide({ signalUrl: relay.signalUrl, args: [`--use-file-for-fake-audio-capture=${speech}`] }),
    launchSide({ toneHz: 880, signalUrl: relay.signalUrl }),
  ]);
  await Promise.all([a, b].map((s) => request(s.popup, 'update-settings', { settings: { privacyMode: true } })));
});

afterAll(async () => {
  await Promise.allSettled([a?.close(), b?.close()]);
  await relay?.stop();
});

describe('Opus DTX with speech, through the frame encryption', () => {
  test('with DTX, pauses send few packets and bytes; every frame decrypts; the received audio follows the speech', async () => {
    const runs: Array<[string, Measure]> = [];
    runs.push(['DTX, RED first (Hush + usedtx=1)', await callAndMeasure('dtx')]);
    runs.push(['DTX, no RED', await callAndMeasure('dtx-no-red')]);
    runs.push(['no DTX, RED first (Hush as shipped)', await callAndMeasure('')]);
    for (const [name, m] of runs) {
      const pad = ' '.repeat(name.length + 2);
      console.log(
        `${name}: speech ${fmt(m.speech)}\n${pad}pause  ${fmt(m.pause)}\n` +
          `${pad}over ${m.seconds.toFixed(1)} s: ${m.packets} packets, ${m.decrypted} frames decrypted and ${m.empty} empty at B, ${m.authFailed} authentication failures, ${m.dropped} dropped`,
      );
    }
    for (const [, m] of runs) {
      expect(m.speech.windows).toBeGreaterThanOrEqual(4);
      expect(m.pause.windows).toBeGreaterThanOrEqual(4);
      // Every frame B received, DTX frames included, passed the decryption.
      expect(m.authFailed).toBe(0);
      expect(m.dropped).toBe(0);
      // Each packet is a decrypted frame or an empty (padding) one; a few may sit between the two counters' reads.
      expect(Math.abs(m.packets - m.decrypted - m.empty)).toBeLessThanOrEqual(4);
      expect(m.pause.decryptedPerSec).toBeGreaterThan(0);
      // What B played follows the speech: pauses far below it.
      expect(m.pause.playedDb).toBeLessThan(m.speech.playedDb - 20);
    }
    const [red, noRed, shipped] = runs.map(([, m]) => m) as [Measure, Measure, Measure];
    // The DTX promise, through the frame encryption, with RED and without: pauses send a fraction
    // of the packets (the sender transform passes DTX's empty frames on, frame-transform.ts).
    for (const m of [red, noRed]) {
      expect(m.pause.packetsPerSec).toBeLessThan(m.speech.packetsPerSec / 4);
      expect(m.pause.bytesPerSec).toBeLessThan(shipped.pause.bytesPerSec / 4);
    }
    // As shipped (no DTX): a packet every 20 ms, pause or not.
    expect(shipped.pause.packetsPerSec).toBeGreaterThan(40);
  }, 240_000);
});
