import { expect, test } from 'vitest';
import { delayImpairment, lossImpairment, qualityBetween, qualityOfR, rating, type QualitySample } from './call-quality';

/** A window of 250 packets (5 s of 20 ms frames) and 240 000 samples (5 s at 48 kHz). */
function window(o: { lost?: number; concealed?: number; silent?: number; dropped?: number; jitterMs?: number; rttMs?: number; rtcpMs?: number; received?: number } = {}) {
  const prev: QualitySample = { packetsReceived: 1000, packetsLost: 10, concealedSamples: 500, silentConcealedSamples: 100, totalSamplesReceived: 960_000, frames: { decrypted: 1000, dropped: 0 } };
  const received = o.received ?? 250 - (o.lost ?? 0);
  const next: QualitySample = {
    packetsReceived: 1000 + received,
    packetsLost: 10 + (o.lost ?? 0),
    concealedSamples: 500 + (o.concealed ?? 0) + (o.silent ?? 0),
    silentConcealedSamples: 100 + (o.silent ?? 0),
    totalSamplesReceived: 960_000 + 240_000,
    jitterMs: o.jitterMs ?? 2,
    roundTripMs: o.rttMs,
    rtcpRoundTripMs: o.rtcpMs,
    frames: { decrypted: 1000 + received - (o.dropped ?? 0), dropped: o.dropped ?? 0 },
  };
  return qualityBetween(prev, next);
}

test('the E-model pieces match G.107 / G.113 figures', () => {
  expect(rating(0, 0)).toBeCloseTo(93.2, 6);
  // Id: 0.024·d below 177.3 ms, steeper above.
  expect(delayImpairment(150)).toBeCloseTo(3.6, 6);
  expect(delayImpairment(400)).toBeCloseTo(9.6 + 0.11 * 222.7, 6);
  // Ie,eff with Bpl 25.1: 2 % → 7.0, 10 % → 27.1.
  expect(lossImpairment(2)).toBeCloseTo(7.01, 2);
  expect(lossImpairment(10)).toBeCloseTo(27.07, 2);
  // The class edges: G.107 Annex B "satisfied" ≥ 80, "nearly all dissatisfied" < 60.
  expect(qualityOfR(80)).toBe('good');
  expect(qualityOfR(79.9)).toBe('weak');
  expect(qualityOfR(60)).toBe('weak');
  expect(qualityOfR(59.9)).toBe('bad');
});

test('a clean LAN call is good', () => {
  const r = window({ rttMs: 2 });
  expect(r.quality).toBe('good');
  expect(r.lossPct).toBe(0);
  expect(r.concealedPct).toBe(0);
  expect(r.r).toBeGreaterThan(90);
});

test('loss: 2 % is good, 6 % weak, 16 % bad', () => {
  expect(window({ lost: 5 }).quality).toBe('good');
  expect(window({ lost: 15 }).quality).toBe('weak');
  expect(window({ lost: 40 }).quality).toBe('bad');
  expect(window({ lost: 15 }).lossPct).toBeCloseTo(6, 6);
});

test('concealment counts when FEC repaired the loss but the decoder still invented audio; silent concealment does not', () => {
  // 10 % of the samples concealed, no packet lost: weak.
  const c = window({ concealed: 24_000 });
  expect(c.concealedPct).toBeCloseTo(10, 6);
  expect(c.quality).toBe('weak');
  // The same amount concealed during silence (DTX, a muted peer) is not heard as damage.
  expect(window({ silent: 24_000 }).quality).toBe('good');
});

test('frames the decryptor drops count as lost', () => {
  const r = window({ dropped: 40 });
  expect(r.droppedPct).toBeCloseTo(16, 6);
  expect(r.quality).toBe('bad');
});

test('round trip: 300 ms good, 600 ms weak, 1000 ms bad; RTCP stands in for a missing pair RTT; jitter adds delay', () => {
  expect(window({ rttMs: 300 }).quality).toBe('good');
  expect(window({ rttMs: 600 }).quality).toBe('weak');
  expect(window({ rttMs: 1000 }).quality).toBe('bad');
  expect(window({ rtcpMs: 600 }).roundTripMs).toBe(600);
  expect(window({ rtcpMs: 600 }).quality).toBe('weak');
  expect(window({ rttMs: 300, jitterMs: 60 }).oneWayMs).toBe(150 + 120 + 40);
  expect(window({ rttMs: 300, jitterMs: 60 }).quality).toBe('weak');
});

test('nothing received in the window is bad, even with nothing counted lost', () => {
  expect(window({ received: 0 }).quality).toBe('bad');
});

test('counters that go back (packetsLost after duplicates) never give negative loss', () => {
  const prev: QualitySample = { packetsReceived: 100, packetsLost: 5, frames: { decrypted: 100, dropped: 0 } };
  const next: QualitySample = { packetsReceived: 200, packetsLost: 3, frames: { decrypted: 200, dropped: 0 } };
  const r = qualityBetween(prev, next);
  expect(r.lossPct).toBe(0);
  expect(r.quality).toBe('good');
});
