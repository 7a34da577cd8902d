/**
 * Time from dial to the first decrypted audio frame at the callee, through
 * the real extension in two Chromium processes and a real relay on loopback:
 * P2P and relay-only (privacy mode on both sides), several calls each,
 * medians printed. The callee answers as soon as its popup shows the call,
 * so the figure is the machinery's, not a person's reaction time; the ring
 * (dial → callee's popup rings) and answer (accept → first frame) parts are
 * printed too. The P2P figures are the baseline the relay-only ones are
 * compared with, measured in the same run.
 *
 * Issue 17: the timeline of one call, step by step (median ms after the dial
 * click, per side: the background's and the media host's `markCall` steps,
 * lib/testing/hooks.ts), says where the time goes. HUSH_BENCH_CALL_BEFORE=<dir>
 * (an older .output/chrome-mv3) runs the same calls with that build too, two more
 * browsers, its calls alternating with this build's (same load), for a
 * before/after ratio (an older build may have no timeline).
 *
 * The two sides save each other as contacts first, as people who call each
 * other often do: a stranger's HELLOs are bounded to 6, then one per 5 s, for
 * all strangers together (docs/protocol.md §5.5, never refunded since it bounds
 * SAS attempts), so a dozen calls from a stranger in a minute are refused by
 * design; a contact's tagged HELLO is never refused for load.
 */
import { startRelayProcess } from '../tests/harness/relay';
import { launchWithExtension } from '../tests/harness/chromium';
import { callState, click, launchSide, request, stats, typeDialAddress, waitCallState, waitIncoming, type HushSide } from '../tests/harness/hush';
import { median } from '../tests/harness/median';
import { waitFor } from '../tests/harness/wait';
import type { TimelineMark } from '../lib/testing/hooks';

const CALLS = Number(process.env.HUSH_BENCH_CALLS ?? 5);
const BEFORE = process.env.HUSH_BENCH_CALL_BEFORE;

interface CallResult {
  ring: number;
  answer: number;
  connected: number;
  total: number;
  path: string;
  /** Step → ms after the dial click, e.g. "A hello-sent". */
  steps: Map<string, number>;
}

/** Both timelines of one side (background, media host), emptied after reading. */
async function timeline(side: HushSide): Promise<TimelineMark[]> {
  const read = () => {
    const g = globalThis as { hushCallTimeline?: unknown[] };
    const l = g.hushCallTimeline ?? [];
    g.hushCallTimeline = [];
    return l;
  };
  const bg = (await (await side.hb.worker()).evaluate(read).catch(() => [])) as TimelineMark[];
  const host = (await (await side.hb.offscreen(2_000)).evaluate(read).catch(() => [])) as TimelineMark[];
  return [...bg, ...host];
}

/** A person's time between the ring and Accept, for the "answers after" rows (ms). */
const HUMAN_MS = Number(process.env.HUSH_BENCH_ANSWER_AFTER_MS ?? 1500);

async function oneCall(a: HushSide, b: HushSide, answerAfterMs = 0): Promise<CallResult> {
  await Promise.all([timeline(a), timeline(b)]).catch(() => undefined); // start empty
  // The address is typed first; the clock starts at the click on Call (typing is the person's time).
  await typeDialAddress(a.popup, b.address);
  const t0 = Date.now();
  await a.popup.click('[data-testid="dial-button"]');
  await waitIncoming(b.popup); // at once (before 2 Dec 2026: polled every 100 ms, 0-100 ms of the bench's own)
  const tRing = Date.now();
  // A person reads who calls before pressing Accept (waitFor, not a sleep: the condition is the clock).
  if (answerAfterMs) await waitFor(async () => Date.now() - tRing >= answerAfterMs, { timeout: answerAfterMs + 5_000, interval: 20, what: 'the person to decide' });
  await click(b.popup, 'accept');
  const tAccept = Date.now();
  const first = await waitFor(
    async () => ((await stats(b).catch(() => null))?.frames as { firstDecryptedAt?: number } | undefined)?.firstDecryptedAt ?? 0,
    { timeout: 20_000, interval: 20, what: 'an audio frame to reach the callee' },
  ).catch(async (e: Error) => {
    // Say what each side saw, to tell where the call stopped.
    for (const [name, side] of [['A', a], ['B', b]] as const) {
      const st = await stats(side).catch((x: Error) => x.message);
      console.log(`${name}: state ${await callState(side.popup)}; stats ${JSON.stringify(st)}`);
      console.log(`${name}: ${(await timeline(side)).map((m) => `${m.step}@${m.at - t0}`).join(' ')}`);
    }
    throw e;
  });
  const sa = await stats(a);
  const steps = new Map<string, number>();
  for (const [name, side] of [['A', a], ['B', b]] as const) {
    for (const m of await timeline(side)) if (!steps.has(`${name} ${m.step}`)) steps.set(`${name} ${m.step}`, m.at - t0);
  }
  const enc = (sa.frames as { firstEncryptedAt?: number }).firstEncryptedAt;
  if (enc) steps.set('A first frame encrypted', enc - t0);
  steps.set('B popup rings (bench)', tRing - t0);
  steps.set('B accept clicked (bench)', tAccept - t0);
  steps.set('B first frame decrypted', first - t0);
  await request(a.popup, 'hangup');
  await waitCallState(a.popup, 'ended');
  await waitCallState(b.popup, 'ended');
  for (const s of [a, b]) await request(s.popup, 'dismiss-call');
  const connected = Math.min(steps.get('A connected') ?? Infinity, steps.get('B connected') ?? Infinity);
  return { ring: tRing - t0, answer: first - tAccept, connected, total: first - t0, path: sa.path, steps };
}

type Rows = [string, CallResult[]][];

/** Two sides with one build, contacts of each other. */
async function pair(relaySignalUrl: string, extensionDir?: string): Promise<[HushSide, HushSide]> {
  const launch = extensionDir
    ? (args: string[]) => launchWithExtension({ extensionDir, args: ['--allow-loopback-in-peer-connection', ...args] })
    : undefined;
  const [a, b] = await Promise.allSettled([
    launchSide({ toneHz: 440, signalUrl: relaySignalUrl, launch }),
    launchSide({ toneHz: 880, signalUrl: relaySignalUrl, launch }),
  ]);
  if (a.status === 'rejected' || b.status === 'rejected') {
    for (const x of [a, b]) if (x.status === 'fulfilled') await x.value.close();
    throw a.status === 'rejected' ? a.reason : (b as PromiseRejectedResult).reason;
  }
  await request(a.value.popup, 'add-contact', { address: b.value.address, name: 'B' });
  await request(b.value.popup, 'add-contact', { address: a.value.address, name: 'A' });
  return [a.value, b.value];
}

/**
 * Warm-up and CALLS calls per mode, for each build; with two builds their calls alternate (one
 * before, one after, …) so both see the same load on this shared machine.
 */
async function series(pairs: [HushSide, HushSide][]): Promise<Rows[]> {
  const out: Rows[] = pairs.map(() => []);
  for (const mode of ['p2p', 'relay-only', `p2p, Accept after ${HUMAN_MS} ms`] as const) {
    const after = mode.startsWith('p2p,') ? HUMAN_MS : 0;
    const results: CallResult[][] = pairs.map(() => []);
    for (const [a, b] of pairs) {
      for (const s of [a, b]) await request(s.popup, 'update-settings', { settings: { privacyMode: mode === 'relay-only' } });
      if (!after) await oneCall(a, b); // warm-up (JIT; the first call also gives the contacts their admission tokens)
    }
    for (let i = 0; i < CALLS; i++) for (const [k, [a, b]] of pairs.entries()) results[k]!.push(await oneCall(a, b, after));
    for (const [k, r] of results.entries()) out[k]!.push([mode, r]);
  }
  return out;
}

function printRows(label: string, rows: Rows): void {
  console.log(`${label}: dial → …, ms (median of ${CALLS} calls; callee answers at once):`);
  console.log('  mode                         path    dial→ring   dial→connected   accept→audio   dial→audio');
  for (const [mode, rs] of rows) {
    const m = (k: 'ring' | 'connected' | 'answer' | 'total') => {
      const vs = rs.map((r) => r[k]).filter(Number.isFinite);
      return vs.length ? median(vs).toFixed(0) : '–';
    };
    console.log(`  ${mode.padEnd(27)}  ${rs[0]!.path.padEnd(6)}  ${m('ring').padStart(9)}   ${m('connected').padStart(14)}   ${m('answer').padStart(12)}   ${m('total').padStart(10)}`);
  }
  const base = median(rows[0]![1].map((r) => r.total));
  const relayTotal = median(rows[1]![1].map((r) => r.total));
  console.log(`  ratio relay-only / p2p (dial→audio): ${(relayTotal / base).toFixed(2)}`);
}

function printTimeline(rows: Rows): void {
  for (const [mode, rs] of rows) {
    const names = new Set<string>();
    for (const r of rs) for (const k of r.steps.keys()) names.add(k);
    const lines = [...names]
      .map((k) => ({ k, ms: median(rs.map((r) => r.steps.get(k)).filter((v): v is number => v !== undefined)) }))
      .sort((x, y) => x.ms - y.ms);
    console.log(`timeline of one call, ${mode} (median ms after the dial click; A calls, B answers):`);
    let prev = 0;
    for (const { k, ms } of lines) {
      console.log(`  ${ms.toFixed(0).padStart(6)}  (+${(ms - prev).toFixed(0).padStart(4)})  ${k}`);
      prev = ms;
    }
  }
}

export async function run(): Promise<void> {
  const relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
  try {
    const pairs: [HushSide, HushSide][] = [];
    let rows: Rows[];
    try {
      if (BEFORE) pairs.push(await pair(relay.signalUrl, BEFORE));
      pairs.push(await pair(relay.signalUrl));
      rows = await series(pairs);
    } finally {
      await Promise.allSettled(pairs.flat().map((s) => s.close()));
    }
    const before = BEFORE ? rows[0] : undefined;
    const after = rows.at(-1)!;
    if (before) printRows(`before (${BEFORE}; its calls alternate with this build's)`, before);
    printRows(before ? 'after (this build)' : 'this build', after);
    if (before) {
      for (const [i, [mode, rs]] of after.entries()) {
        const b = median(before[i]![1].map((r) => r.total));
        console.log(`  ratio after / before, ${mode} dial→audio: ${(median(rs.map((r) => r.total)) / b).toFixed(2)}`);
      }
    }
    printTimeline(after);
  } finally {
    await relay.stop();
  }
}
