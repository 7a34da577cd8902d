/**
 * Time from dial to the first decrypted audio frame at the callee, through
 * the real extension in two Chromium processes and a real relay on loopback:
 * P2P and relay-only (privacy mode on both sides), several calls each,
 * medians printed. The callee answers as soon as its popup shows the call,
 * so the figure is the machinery's, not a person's reaction time; the ring
 * (dial → callee's popup rings) and answer (accept → first frame) parts are
 * printed too. The P2P figures are the baseline the relay-only ones are
 * compared with, measured in the same run.
 */
import { startRelayProcess } from '../tests/harness/relay';
import { click, dialByUi, launchSide, request, stats, waitCallState, type HushSide } from '../tests/harness/hush';
import { median } from '../tests/harness/median';
import { waitFor } from '../tests/harness/wait';

const CALLS = Number(process.env.HUSH_BENCH_CALLS ?? 5);


async function oneCall(a: HushSide, b: HushSide) {
  const t0 = Date.now();
  await dialByUi(a.popup, b.address);
  await waitCallState(b.popup, 'incoming', 20_000);
  const tRing = Date.now();
  await click(b.popup, 'accept');
  const tAccept = Date.now();
  const first = await waitFor(
    async () => ((await stats(b).catch(() => null))?.frames as { firstDecryptedAt?: number } | undefined)?.firstDecryptedAt ?? 0,
    { timeout: 20_000, interval: 20, what: 'an audio frame to reach the callee' },
  );
  const sa = await stats(a);
  await request(a.popup, 'hangup');
  await waitCallState(a.popup, 'ended');
  await waitCallState(b.popup, 'ended');
  for (const s of [a, b]) await request(s.popup, 'dismiss-call');
  return { ring: tRing - t0, answer: first - tAccept, total: first - t0, path: sa.path };
}

export async function run(): Promise<void> {
  const relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
  const sides: HushSide[] = [];
  try {
    const [a, b] = await Promise.all([launchSide({ toneHz: 440, signalUrl: relay.signalUrl }), launchSide({ toneHz: 880, signalUrl: relay.signalUrl })]);
    sides.push(a!, b!);
    const rows: [string, ReturnType<typeof oneCall> extends Promise<infer R> ? R[] : never][] = [];
    for (const mode of ['p2p', 'relay-only'] as const) {
      for (const s of sides) await request(s.popup, 'update-settings', { settings: { privacyMode: mode === 'relay-only' } });
      await oneCall(a!, b!); // warm-up (offscreen document, JIT)
      const results = [];
      for (let i = 0; i < CALLS; i++) results.push(await oneCall(a!, b!));
      rows.push([mode, results]);
    }
    console.log(`dial → first decrypted audio frame at the callee, ms (median of ${CALLS} calls; callee answers at once):`);
    console.log('  mode         path    dial→ring   accept→audio   dial→audio');
    const base = median(rows[0]![1].map((r) => r.total));
    for (const [mode, rs] of rows) {
      const m = (k: 'ring' | 'answer' | 'total') => median(rs.map((r) => r[k])).toFixed(0).padStart(9);
      console.log(`  ${mode.padEnd(11)}  ${rs[0]!.path.padEnd(6)}  ${m('ring')}   ${m('answer')}    ${m('total')}`);
    }
    const relayTotal = median(rows[1]![1].map((r) => r.total));
    console.log(`  ratio relay-only / p2p (dial→audio): ${(relayTotal / base).toFixed(2)}`);
  } finally {
    await Promise.allSettled(sides.map((s) => s.close()));
    await relay.stop();
  }
}
