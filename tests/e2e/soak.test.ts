/**
 * The 2-minute soak (issue 17; the 30-minute one is `npm run bench -- soak`):
 * one P2P call between two Chromiums with Hush on loopback through the real
 * relay, sampled every 15 s by tests/harness/soak.ts. Asserts
 *   - no growth trend of the live JS heap (after a forced GC) of the
 *     background, the media host and the frame worker, after the first 30 s,
 *     beyond HEAP_SLOPE_LIMIT;
 *   - counters consistent on both sides at every sample: what one side sent
 *     the other decrypted or the network lost (the receiver's RTP
 *     packetsLost), within the frames in flight while the two sides are read
 *     (IN_FLIGHT, 3 s of frames); nothing dropped by the decryptor; sending never stops.
 * Prints the table; the longest gaps (between decrypted frames, and heard:
 * the tone as played) are printed, not asserted (a loaded 2-core machine
 * delays playout; the bench reports them).
 *
 * Needs a build (`npm run build`).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import type { HushSide } from '../harness/hush';
import { SOAK_HEADER, launchSoakSides, slopePerMinute, soak, soakLine, type SideSample, type SoakSample } from '../harness/soak';

const PHASE_MS = 2 * 60_000;
const EVERY_MS = 15_000;
const WARM_UP_MS = 30_000;
/**
 * A leak of one small object per frame (50 frames/s, ~100 B retained each) grows a heap by
 * ~290 KB/min. Repeated runs here show slopes of a few tens of KB/min either way (docs/media.md
 * "Soak"); 256 KB/min sits between the two.
 */
const HEAP_SLOPE_LIMIT = 256 * 1024;
/**
 * Frames in flight between the two sides' reads: 2 s of 20 ms frames (the reads are concurrent, each
 * well under 1 s), plus 1 s more: the 30-minute bench saw a lasting offset of 102–112 frames (sent by
 * one side, neither decrypted nor counted lost by the other) after a 2.9 s stall of a loaded browser
 * (docs/media.md "Soak"). Three seconds of frames.
 */
const IN_FLIGHT = 150;

describe('soak: a 2-minute call', () => {
  let relay: RelayProcess;
  let a: HushSide;
  let b: HushSide;
  let samples: SoakSample[] = [];

  beforeAll(async () => {
    relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
    [a, b] = await launchSoakSides(relay.signalUrl);
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    await relay?.stop();
  });

  test('no heap growth after warm-up; both sides count the same frames', async () => {
    const lines: string[] = [SOAK_HEADER];
    samples = await soak(a, b, { phaseMs: PHASE_MS, everyMs: EVERY_MS, phases: ['p2p'], signalUrl: relay.signalUrl, onSample: (s) => lines.push(soakLine(s)) });
    console.log(`\nsoak (MB; heaps after a forced GC)\n${lines.join('\n')}`);
    const at = (x: SideSample) => x.longGaps.map((g) => `${g.ms} ms at ${(g.afterFirstMs / 1000).toFixed(1)} s`).join(', ') || 'none';
    console.log(`longest gaps between decrypted frames (samples every ${EVERY_MS / 1000} s): A ${at(samples.at(-1)!.a)}; B ${at(samples.at(-1)!.b)}`);
    const heard = (k: 'a' | 'b') => samples.filter((s) => s[k].heardGapMs > 60).map((s) => `${s[k].heardGapMs} ms at ${s[k].heardGapAtS?.toFixed(1)} s`).join(', ') || 'none';
    console.log(`gaps heard above 60 ms (s after the watch began): A ${heard('a')}; B ${heard('b')}`);

    expect(samples.length).toBeGreaterThanOrEqual(PHASE_MS / EVERY_MS);
    // Both directions send Opus with Hush's settings (lib/media/opus-sdp.ts), as the peer's description set them.
    for (const side of [samples.at(-1)!.a, samples.at(-1)!.b]) {
      expect(side.sendCodec).toMatch(/^audio\/opus /);
      expect(side.sendCodec).toContain('useinbandfec=1');
      expect(side.sendCodec).toContain('usedtx=0');
    }
    for (const s of samples) {
      for (const [from, to] of [[s.a, s.b], [s.b, s.a]] as const) {
        const arrived = to.decrypted + to.dropped + to.packetsLost;
        expect(Math.abs(from.sent - arrived), `sent ${from.sent} vs decrypted ${to.decrypted} + lost ${to.packetsLost} at ${s.t} ms`).toBeLessThanOrEqual(IN_FLIGHT);
        expect(to.dropped).toBe(0);
      }
    }
    for (let i = 1; i < samples.length; i++) {
      expect(samples[i]!.a.sent).toBeGreaterThan(samples[i - 1]!.a.sent);
      expect(samples[i]!.b.sent).toBeGreaterThan(samples[i - 1]!.b.sent);
      // The heard-gap column reads the tone as played: each side heard the other in every slice.
      expect(samples[i]!.a.audibleMs, `A heard B before ${samples[i]!.t} ms`).toBeGreaterThan(0);
      expect(samples[i]!.b.audibleMs, `B heard A before ${samples[i]!.t} ms`).toBeGreaterThan(0);
    }
    const warm = samples.filter((s) => s.t >= WARM_UP_MS);
    const slopes: string[] = [];
    for (const side of ['a', 'b'] as const) {
      for (const k of ['backgroundHeap', 'mediaHostHeap', 'frameWorkerHeap'] as const satisfies ReadonlyArray<keyof SideSample>) {
        const slope = slopePerMinute(warm.map((s) => ({ t: s.t, y: s[side][k] })));
        slopes.push(`${side.toUpperCase()} ${k} ${(slope / 1024).toFixed(1)} KB/min`);
        expect(slope, `${side} ${k}: ${(slope / 1024).toFixed(1)} KB/min`).toBeLessThanOrEqual(HEAP_SLOPE_LIMIT);
      }
    }
    console.log(`heap trends after ${WARM_UP_MS / 1000} s: ${slopes.join(', ')}`);
  }, 300_000);
});
