/**
 * The in-call quality indicator: good / weak / bad from what the receiving
 * side measures over the last few seconds (issue 17). Pure; the background's
 * QualityMonitor (lib/background/quality-monitor.ts) samples the media host's
 * `CallStats` and keeps the latest reading in the call view, which the popup,
 * the Firefox call window and the page bar show.
 *
 * The model is ITU-T G.107's E-model, reduced to what a browser can measure
 * (the same reduction as Cole & Rosenbluth, "Voice over IP performance
 * monitoring", ACM CCR 2001):
 *
 *   R = 93.2 − Id(d) − Ie,eff(Ppl)
 *   Id(d)      = 0.024·d + 0.11·(d − 177.3)·[d > 177.3]        d: one-way delay, ms
 *   Ie,eff     = Ie + (95 − Ie) · Ppl / (Ppl + Bpl)             Ppl: % of packets lost
 *
 * with Ie = 0 and Bpl = 25.1 (G.113 Appendix I's figures for G.711 with packet
 * loss concealment; Opus conceals at least as well, so this errs towards
 * "weak"). G.107 Annex B maps R to users' satisfaction: R ≥ 80 "satisfied",
 * 60–80 "some / many dissatisfied", below 60 "nearly all dissatisfied": those
 * are our good / weak / bad. Without delay, R = 80 at Ppl ≈ 4 % and R = 60 at
 * Ppl ≈ 13 %; with no loss, R = 80 at d ≈ 220 ms and R = 60 at d ≈ 330 ms
 * (G.114 puts the planning limit of one-way delay at 150 ms "good for most",
 * 400 ms "unacceptable").
 *
 * What we feed it:
 * - d = round trip / 2 + 2 × jitter (the jitter buffer holds about two
 *   jitters) + 40 ms (a 20 ms Opus frame and the playout's own buffering);
 *   the round trip is the selected candidate pair's currentRoundTripTime,
 *   else RTCP's (remote-inbound-rtp roundTripTime).
 * - Ppl = the worst of: packets the network lost (inbound-rtp packetsLost,
 *   before FEC repairs any), samples the decoder had to invent (concealed −
 *   silent-concealed, over all samples played: what the person hears, after
 *   FEC and the jitter buffer), and frames the decryptor dropped.
 * - No packet at all in the window: bad, whatever the rest says.
 *
 * Caveats: all of it is the receiving direction (what *we* hear); RTCP's
 * round trip is absent for the first seconds; a window of a few seconds of
 * 3 % random loss varies by about ±1.5 % (binomial, 200 packets).
 */

export type Quality = 'good' | 'weak' | 'bad';

/** The cumulative counters the classifier needs (a subset of lib/media/types.ts CallStats). */
export interface QualitySample {
  packetsReceived: number;
  packetsLost?: number;
  concealedSamples?: number;
  silentConcealedSamples?: number;
  totalSamplesReceived?: number;
  /** Current interarrival jitter, ms. */
  jitterMs?: number;
  /** Candidate pair currentRoundTripTime, ms. */
  roundTripMs?: number;
  /** RTCP round trip, ms. */
  rtcpRoundTripMs?: number;
  frames: { decrypted: number; dropped: number };
}

export interface QualityReading {
  quality: Quality;
  /** The E-model rating (0..93.2), rounded to one decimal. */
  r: number;
  /** Network loss over the window, %. */
  lossPct: number;
  /** Non-silent concealed samples over all samples played in the window, %. */
  concealedPct: number;
  /** Frames the decryptor dropped over all frames received in the window, %. */
  droppedPct: number;
  jitterMs: number;
  roundTripMs?: number;
  /** The estimated one-way delay fed to the model, ms. */
  oneWayMs: number;
}

/** G.107 Annex B: R at or above this, users are satisfied. */
export const R_GOOD = 80;
/** G.107 Annex B: below this, nearly all users are dissatisfied. */
export const R_BAD = 60;
/** G.113 Appendix I packet-loss robustness (G.711 with PLC). */
export const BPL = 25.1;
/** Codec frame plus playout buffering added to the network's one-way delay, ms. */
export const CODEC_AND_PLAYOUT_MS = 40;

/** G.107's delay impairment Id, in the simplified form (d in ms). */
export function delayImpairment(d: number): number {
  return 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
}

/** G.107's effective equipment impairment for random loss (Ppl in %), Ie = 0. */
export function lossImpairment(pplPct: number): number {
  const p = Math.max(0, Math.min(100, pplPct));
  return (95 * p) / (p + BPL);
}

export function rating(oneWayMs: number, pplPct: number): number {
  return Math.max(0, 93.2 - delayImpairment(oneWayMs) - lossImpairment(pplPct));
}

export function qualityOfR(r: number): Quality {
  return r >= R_GOOD ? 'good' : r >= R_BAD ? 'weak' : 'bad';
}

const d = (a: number | undefined, b: number | undefined) => Math.max(0, (b ?? 0) - (a ?? 0));
const pct = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : 0);

/** The reading for the window between two samples of the same call (prev older). */
export function qualityBetween(prev: QualitySample, next: QualitySample): QualityReading {
  const received = d(prev.packetsReceived, next.packetsReceived);
  // packetsLost may fall when duplicates arrive (RFC 3550 §6.4.1): clamp the window's loss at 0.
  const lost = d(prev.packetsLost, next.packetsLost);
  const lossPct = pct(lost, received + lost);
  const concealed = d(prev.concealedSamples, next.concealedSamples) - d(prev.silentConcealedSamples, next.silentConcealedSamples);
  const concealedPct = pct(Math.max(0, concealed), d(prev.totalSamplesReceived, next.totalSamplesReceived));
  const dropped = d(prev.frames.dropped, next.frames.dropped);
  const droppedPct = pct(dropped, dropped + d(prev.frames.decrypted, next.frames.decrypted));
  const jitterMs = next.jitterMs ?? 0;
  const roundTripMs = next.roundTripMs ?? next.rtcpRoundTripMs;
  const oneWayMs = (roundTripMs ?? 0) / 2 + 2 * jitterMs + CODEC_AND_PLAYOUT_MS;
  const r = rating(oneWayMs, Math.max(lossPct, concealedPct, droppedPct));
  const reading: QualityReading = {
    quality: received === 0 ? 'bad' : qualityOfR(r),
    r: Math.round(r * 10) / 10,
    lossPct,
    concealedPct,
    droppedPct,
    jitterMs,
    oneWayMs,
  };
  if (roundTripMs !== undefined) reading.roundTripMs = roundTripMs;
  return reading;
}
