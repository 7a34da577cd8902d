/**
 * Issue 15: dial → first decrypted audio frame at the callee, across two
 * relays (A on R1 dials B's card `hush1…@R2`, each side on its own relay's
 * TURN) against one shared relay (B moved to R1, bare address), in the same
 * run, with the real extension in two Chromium processes and two relay
 * processes on loopback. The callee answers as soon as its popup rings.
 * The one-relay figure is the baseline; the ratio is printed, never asserted.
 */
import { startRelayProcess } from '../tests/harness/relay';
import { click, launchSide, request, stats, typeInto, waitCallState, waitText, type HushSide } from '../tests/harness/hush';
import { median } from '../tests/harness/median';
import { waitFor } from '../tests/harness/wait';

const CALLS = Number(process.env.HUSH_BENCH_CALLS ?? 5);

async function oneCall(a: HushSide, b: HushSide, text: string) {
  await typeInto(a.popup, 'dial-address', text);
  const t0 = Date.now();
  await a.popup.click('[data-testid="dial-button"]');
  await waitCallState(b.popup, 'incoming', 30_000);
  const tRing = Date.now();
  await click(b.popup, 'accept');
  const first = await waitFor(
    async () => ((await stats(b).catch(() => null))?.frames as { firstDecryptedAt?: number } | undefined)?.firstDecryptedAt ?? 0,
    { timeout: 20_000, interval: 20, what: 'an audio frame to reach the callee' },
  );
  await request(a.popup, 'hangup');
  await waitCallState(a.popup, 'ended');
  await waitCallState(b.popup, 'ended');
  for (const s of [a, b]) await request(s.popup, 'dismiss-call');
  return { ring: tRing - t0, total: first - t0 };
}

export async function run(): Promise<void> {
  const [r1, r2] = await Promise.all([
    startRelayProcess(['--allow-peer', '127.0.0.0/8', '--auth-secret', 'bench-relay-one', '--realm', 'r1.test']),
    startRelayProcess(['--allow-peer', '127.0.0.0/8', '--auth-secret', 'bench-relay-two', '--realm', 'r2.test']),
  ]);
  const sides: HushSide[] = [];
  try {
    const [a, b] = await Promise.all([launchSide({ toneHz: 440, signalUrl: r1.signalUrl }), launchSide({ toneHz: 880, signalUrl: r2.signalUrl })]);
    sides.push(a, b);
    const rows: Array<[string, Array<{ ring: number; total: number }>]> = [];
    const card = `${b.address}@127.0.0.1:${r2.signalPort}`;
    await oneCall(a, b, card); // warm-up (offscreen document, JIT)
    const two = [];
    for (let i = 0; i < CALLS; i++) two.push(await oneCall(a, b, card));
    await request(b.popup, 'update-settings', { settings: { relays: [r1.signalUrl] } });
    await waitText(b.popup, '[data-testid="relay-status"]', (t) => t === 'Connected to relay', 20_000);
    const one = [];
    for (let i = 0; i < CALLS; i++) one.push(await oneCall(a, b, b.address));
    rows.push(['one relay', one], ['two relays', two]);
    console.log(`dial → first decrypted audio frame at the callee, ms (median of ${CALLS} calls; callee answers at once):`);
    console.log('  relays        dial→ring   dial→audio');
    for (const [name, rs] of rows) {
      console.log(`  ${name.padEnd(12)}  ${median(rs.map((r) => r.ring)).toFixed(0).padStart(9)}   ${median(rs.map((r) => r.total)).toFixed(0).padStart(10)}`);
    }
    console.log(`  ratio two relays / one relay (dial→audio): ${(median(two.map((r) => r.total)) / median(one.map((r) => r.total))).toFixed(2)}`);
  } finally {
    await Promise.allSettled(sides.map((s) => s.close()));
    await Promise.allSettled([r1.stop(), r2.stop()]);
  }
}
