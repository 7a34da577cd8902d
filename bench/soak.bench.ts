/**
 * `npm run bench -- soak [--minutes N]`: one long call between two Chromiums
 * with Hush on loopback through the real relay: the first half of N minutes
 * (default 30) P2P, the second half relay-only (privacy mode on both sides,
 * a new call). Every minute it prints, for each side, the live JS heap of the
 * background, the media host (offscreen document) and the frame worker, the
 * RSS of the extension's renderer process and of the browser, the frame
 * counters and the longest gap between two played frames
 * (tests/harness/soak.ts). At the end: each heap's trend (least-squares slope
 * after the first two minutes, KB/min) and its last/first ratio (the first
 * sample after warm-up is the baseline, measured in the same run), and
 * whether the counters agree across the two sides.
 *
 * Runs only when named (`npm run bench` alone skips it: it takes N minutes).
 */
import { startRelayProcess } from '../tests/harness/relay';
import { SOAK_HEADER, launchSoakSides, slopePerMinute, soak, soakLine, type SideSample, type SoakSample } from '../tests/harness/soak';

function minutesArg(): number {
  const i = process.argv.indexOf('--minutes');
  const n = i >= 0 ? Number(process.argv[i + 1]) : 30;
  if (!Number.isFinite(n) || n < 1) throw new Error(`--minutes wants a number of minutes ≥ 1, got ${process.argv[i + 1]}`);
  return n;
}

const WARM_UP_MS = 2 * 60_000;

export async function run(): Promise<void> {
  if (!process.argv.slice(2).includes('soak')) {
    console.log('soak: skipped (it holds a call for 30 minutes): `npm run bench -- soak [--minutes N]`');
    return;
  }
  const minutes = minutesArg();
  const phaseMs = (minutes * 60_000) / 2;
  const relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
  const [a, b] = await launchSoakSides(relay.signalUrl);
  try {
    console.log(`soak: ${minutes} min (${minutes / 2} P2P, then ${minutes / 2} relay-only), a sample every minute; heaps after a forced GC, MB`);
    console.log(SOAK_HEADER);
    const samples = await soak(a, b, {
      phaseMs,
      everyMs: 60_000,
      phases: ['p2p', 'relay-only'],
      signalUrl: relay.signalUrl,
      onSample: (s) => console.log(soakLine(s)),
    });
    summarise(samples, phaseMs);
  } finally {
    await Promise.allSettled([a.close(), b.close()]);
    await relay.stop();
  }
}

function summarise(samples: SoakSample[], phaseMs: number): void {
  const warm = Math.min(WARM_UP_MS, phaseMs / 2);
  console.log(`\ntrend after the first ${warm / 60_000} min of each call (least squares, KB/min) and last/first ratio:`);
  for (const phase of ['p2p', 'relay-only'] as const) {
    const ss = samples.filter((s) => s.phase === phase && s.t >= warm);
    if (ss.length < 2) continue;
    for (const side of ['a', 'b'] as const) {
      const trend = (k: keyof SideSample) => {
        const pts = ss.map((s) => ({ t: s.t, y: s[side][k] as number }));
        return `${(slopePerMinute(pts) / 1024).toFixed(1)} KB/min (×${(pts.at(-1)!.y / pts[0]!.y).toFixed(3)})`;
      };
      console.log(
        `  ${phase.padEnd(10)} ${side.toUpperCase()}: background ${trend('backgroundHeap')}, media host ${trend('mediaHostHeap')}, frame worker ${trend('frameWorkerHeap')}, extension RSS ${trend('extensionRss')}`,
      );
    }
    const last = samples.filter((s) => s.phase === phase).at(-1)!;
    const gap = Math.max(...samples.filter((s) => s.phase === phase).map((s) => Math.max(s.a.longestGapMs, s.b.longestGapMs)));
    console.log(
      `  ${phase.padEnd(10)} counters at the end: A sent ${last.a.sent} / B decrypted ${last.b.decrypted} (Δ ${last.a.sent - last.b.decrypted}), B sent ${last.b.sent} / A decrypted ${last.a.decrypted} (Δ ${last.b.sent - last.a.decrypted}), dropped ${last.a.dropped} + ${last.b.dropped}; longest gap ${gap} ms`,
    );
    const gaps = (x: SideSample) => x.longGaps.map((g) => `${g.ms} ms at ${(g.afterFirstMs / 1000).toFixed(1)} s`).join(', ') || 'none';
    console.log(`  ${phase.padEnd(10)} gaps above 60 ms between decrypted frames: A ${last.a.gapsOver60} (longest: ${gaps(last.a)}), B ${last.b.gapsOver60} (longest: ${gaps(last.b)})`);
    const inPhase = samples.filter((s) => s.phase === phase);
    const heard = (side: 'a' | 'b') => `longest ${Math.max(...inPhase.map((s) => s[side].heardGapMs))} ms, above 60 ms: ${inPhase.filter((s) => s[side].heardGapMs > 60).map((s) => `${s[side].heardGapMs} ms at ${s[side].heardGapAtS?.toFixed(1)} s`).join(', ') || 'none'}, ${inPhase.reduce((n, s) => n + s[side].unseenMs, 0)} ms unseen`;
    console.log(`  ${phase.padEnd(10)} gaps heard (the tone as played): A ${heard('a')}; B ${heard('b')}`);
  }
}
