/**
 * A long call and what it costs over time (issue 17, the soak): two Chromiums
 * with Hush on loopback and a real relay, one call held for a while, sampled
 * at a fixed period. Shared by `npm run bench -- soak` (30 minutes: P2P, then
 * relay-only) and the 2-minute e2e test (tests/e2e/soak.test.ts).
 *
 * Each sample, on each side:
 * - JS heap in use after a full collection (CDP HeapProfiler.collectGarbage,
 *   then Runtime.getHeapUsage) of the background (service worker), the media
 *   host (offscreen document) and the frame worker (the offscreen document's
 *   dedicated worker): live data, not garbage waiting for a collection;
 * - RSS (/proc/PID/status VmRSS) of the extension's renderer process. Chromium
 *   runs the service worker, the offscreen document, its worker and the popup
 *   of one extension in one renderer process (`--extension-process`), so
 *   their RSS is one figure; the browser process is printed beside it;
 * - the frame counters (sent = encrypted, decrypted, dropped) and the longest
 *   gap between two decrypted frames since the call started (media host);
 * - the longest gap HEARD since the last sample: the peer's tone as the media
 *   host plays it, in 10 ms blocks (level-watch.ts, as the NAT lab measures a
 *   path switch), and the audio time no reading covered (a reader later than
 *   its 680 ms window; never counted as silence). A frame that arrives late
 *   is not always a gap heard: the jitter buffer holds some 40-80 ms.
 *
 * Caveat: a collection forced every sample makes the heap figures comparable,
 * it does not change what a person's browser keeps.
 */
import { readFileSync } from 'node:fs';
import type { CDPSession, Page, WebWorker } from 'puppeteer-core';
import { click, dialByUi, launchSide, request, stats, waitCallState, type HushSide, type StatsView } from './hush';
import { waitFor } from './wait';
import { drainLevelWatch, longestSilence, startLevelWatch, stopLevelWatch } from './level-watch';

export interface SideSample {
  backgroundHeap: number;
  mediaHostHeap: number;
  frameWorkerHeap: number;
  extensionRss: number;
  browserRss: number;
  sent: number;
  decrypted: number;
  dropped: number;
  /** Packets the network lost on the way here (inbound-rtp packetsLost). */
  packetsLost: number;
  /** Audio packets received here (inbound-rtp packetsReceived): each should become a decrypted or dropped frame. */
  packetsReceived: number;
  longestGapMs: number;
  /** Gaps between played frames above 60 ms since the call started, and the longest few with when they began (ms after the first frame). */
  gapsOver60: number;
  longGaps: readonly { ms: number; afterFirstMs: number }[];
  /** The longest silence heard between two audible blocks since the last sample (ms), and audio time no reading saw. */
  heardGapMs: number;
  unseenMs: number;
  /** Audio time the tone was heard since the last sample (ms). */
  audibleMs: number;
  /** When the longest heard gap began, s after the first block this call's watch saw (absent: no gap). */
  heardGapAtS?: number;
  path: string;
  /** The negotiated send codec, "mimeType fmtp" (CallStats.sendCodec). */
  sendCodec?: string;
}

export interface SoakSample {
  /** ms since the phase's call connected. */
  t: number;
  phase: 'p2p' | 'relay-only';
  a: SideSample;
  b: SideSample;
}

const MB = 1024 * 1024;

async function liveHeap(session: CDPSession): Promise<number> {
  await session.send('HeapProfiler.collectGarbage');
  const { usedSize } = await session.send('Runtime.getHeapUsage');
  return usedSize;
}

function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** The CDP handles one side's samples need, found once per call (the offscreen document lives as long as the call). */
class SideProbe {
  private constructor(
    private readonly side: HushSide,
    private readonly sw: CDPSession,
    private readonly offscreen: CDPSession,
    private readonly frameWorker: WebWorker,
    private readonly browserSession: CDPSession,
  ) {}

  /** The first level block this call's watch saw: heard gaps are timed from it. */
  private firstBlock?: number;

  static async open(side: HushSide): Promise<SideProbe> {
    const sw = (await side.hb.worker()).client;
    const page: Page = await side.hb.offscreen();
    const frameWorker = await waitFor(() => page.workers().find((w) => /frame-worker/.test(w.url())), {
      timeout: 15_000,
      what: async () => `the frame worker in the offscreen document (workers: ${page.workers().map((w) => w.url()).join(', ') || 'none'})`,
    });
    const offscreen = await page.createCDPSession();
    const browserSession = await side.hb.browser.target().createCDPSession();
    return new SideProbe(side, sw, offscreen, frameWorker, browserSession);
  }

  async sample(): Promise<SideSample> {
    const blocks = await drainLevelWatch(this.side);
    this.firstBlock ??= blocks.blocks[0]?.[0];
    const heard = longestSilence(blocks);
    // The counters first: both sides are sampled at once, so their reads are close in time.
    const s = (await stats(this.side)) as StatsView & { packetsLost?: number; sendCodec?: string };
    const [backgroundHeap, mediaHostHeap, frameWorkerHeap] = [await liveHeap(this.sw), await liveHeap(this.offscreen), await liveHeap(this.frameWorker.client)];
    const info = (await this.browserSession.send('SystemInfo.getProcessInfo')) as { processInfo: Array<{ type: string; id: number }> };
    const renderers = info.processInfo.filter((p) => p.type === 'renderer').map((p) => p.id);
    const ext = renderers.filter((pid) => cmdline(pid).includes('--extension-process'));
    const browserPid = info.processInfo.find((p) => p.type === 'browser')?.id ?? this.side.hb.browser.process()?.pid ?? 0;
    const f = s.frames;
    return {
      backgroundHeap,
      mediaHostHeap,
      frameWorkerHeap,
      extensionRss: ext.reduce((n, pid) => n + rssOf(pid), 0),
      browserRss: browserPid ? rssOf(browserPid) : 0,
      sent: f.encrypted,
      decrypted: f.decrypted,
      dropped: f.dropped,
      packetsLost: s.packetsLost ?? 0,
      packetsReceived: s.packetsReceived,
      longestGapMs: f.longestGapMs ?? 0,
      gapsOver60: f.gapsOver60 ?? 0,
      longGaps: f.longGaps ?? [],
      heardGapMs: heard.gapMs,
      unseenMs: heard.unseenMs,
      audibleMs: heard.audible * heard.blockMs,
      heardGapAtS: heard.gapMs && heard.gapAtBlock !== undefined && this.firstBlock !== undefined ? ((heard.gapAtBlock - this.firstBlock) * heard.blockMs) / 1000 : undefined,
      path: s.path,
      sendCodec: s.sendCodec,
    };
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.offscreen.detach(), this.browserSession.detach()]);
  }
}

export interface SoakOptions {
  /** How long each phase's call is held, ms. */
  phaseMs: number;
  /** Sampling period, ms. */
  everyMs: number;
  phases: Array<'p2p' | 'relay-only'>;
  signalUrl: string;
  onSample?: (s: SoakSample) => void;
}

/** Dial, answer, hold, sample; hang up. Both sides' privacy mode set per phase. */
export async function soak(a: HushSide, b: HushSide, opts: SoakOptions): Promise<SoakSample[]> {
  const out: SoakSample[] = [];
  for (const phase of opts.phases) {
    for (const s of [a, b]) await request(s.popup, 'update-settings', { settings: { privacyMode: phase === 'relay-only' } });
    await dialByUi(a.popup, b.address);
    await waitCallState(b.popup, 'incoming', 20_000);
    await click(b.popup, 'accept');
    await waitCallState(a.popup, 'connected', 30_000);
    await waitCallState(b.popup, 'connected', 30_000);
    const t0 = Date.now();
    const [pa, pb] = await Promise.all([SideProbe.open(a), SideProbe.open(b)]);
    await Promise.all([startLevelWatch(a), startLevelWatch(b)]);
    try {
      for (let n = 0; ; n++) {
        // Sample n is due at t0 + n·everyMs: wait for that moment (the call runs meanwhile).
        const due = t0 + n * opts.everyMs;
        await waitFor(() => Date.now() >= due, { timeout: opts.everyMs + 60_000, interval: 200, what: 'the next sampling time' });
        const [sa, sb] = await Promise.all([pa.sample(), pb.sample()]);
        const s: SoakSample = { t: Date.now() - t0, phase, a: sa, b: sb };
        out.push(s);
        opts.onSample?.(s);
        if (Date.now() - t0 >= opts.phaseMs) break;
      }
    } finally {
      await Promise.allSettled([stopLevelWatch(a), stopLevelWatch(b)]);
      await Promise.allSettled([pa.close(), pb.close()]);
    }
    await request(a.popup, 'hangup');
    await waitCallState(a.popup, 'ended');
    await waitCallState(b.popup, 'ended');
    for (const s of [a, b]) await request(s.popup, 'dismiss-call');
  }
  return out;
}

export async function launchSoakSides(signalUrl: string): Promise<[HushSide, HushSide]> {
  const [a, b] = await Promise.all([launchSide({ toneHz: 440, signalUrl }), launchSide({ toneHz: 880, signalUrl })]);
  return [a, b];
}

/** Least-squares slope of y over t, per minute (t in ms). */
export function slopePerMinute(points: Array<{ t: number; y: number }>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.y - my);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60_000;
}

const mb = (n: number) => (n / MB).toFixed(2).padStart(7);

export const SOAK_HEADER =
  ' phase       min side  bg heap  media heap  worker heap  ext RSS  browser RSS      sent  decrypted  dropped  lost  received  longest gap  >60 ms  heard gap  unseen  path';

export function soakLine(s: SoakSample): string {
  const one = (name: string, x: SideSample) =>
    `${s.phase.padEnd(11)} ${(s.t / 60_000).toFixed(1).padStart(4)} ${name.padEnd(4)} ${mb(x.backgroundHeap)}   ${mb(x.mediaHostHeap)}      ${mb(x.frameWorkerHeap)}  ${mb(x.extensionRss)}      ${mb(x.browserRss)}  ${String(x.sent).padStart(8)}  ${String(x.decrypted).padStart(9)}  ${String(x.dropped).padStart(7)}  ${String(x.packetsLost).padStart(4)}  ${String(x.packetsReceived).padStart(8)}  ${String(x.longestGapMs).padStart(8)} ms  ${String(x.gapsOver60).padStart(6)}  ${String(x.heardGapMs).padStart(6)} ms  ${String(x.unseenMs).padStart(3)} ms  ${x.path}`;
  return ` ${one('A', s.a)}\n ${one('B', s.b)}`;
}
