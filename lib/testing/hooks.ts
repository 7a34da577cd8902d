/**
 * Test hooks: the one module where test-only behaviour is switched on and the
 * one place its values are read (style.md §14: shipped code carries no test hooks).
 *
 * `TEST_HOOKS` is a build-time constant. It is true in the builds the browser
 * tests load (`npm run build`, `npm run build:firefox`) and under Vitest; it is
 * false in the store builds: `npm run zip` sets HUSH_STORE_BUILD=1, and
 * wxt.config.ts then defines `__HUSH_STORE_BUILD__` as true. Every function
 * below then folds to "no hook" and the bundler removes what only a hook
 * reaches; wxt.config.ts also leaves out the selftest page.
 * Hooks are read only here: the bundler folds the constant inside this module,
 * but not where another chunk imports it, so other files call these functions
 * and never test TEST_HOOKS or name a hook option themselves.
 * tests/integration/store-build.test.ts searches the zipped bundles for the
 * hook names below and fails if any is there.
 *
 * The hooks (and who sets them):
 * - session storage `testWrongKey` (tests/e2e/call.test.ts): the next call's
 *   media decrypts incoming audio with a wrong key (MediaStartOptions.corruptRecvKey),
 *   so the peer's audio must be dropped.
 * - session storage `testTapFrames` (relay-view, lab): keep the first N outgoing
 *   frames, plain and sealed, in the call stats (MediaStartOptions.testTapFrames).
 * - session storage `testRetryDirectMs` (lab ICE scenarios): try a direct path
 *   again after this many ms on the relay (IcePolicyOptions.retryDirectMs).
 * - session storage `testOpusShape` (tests/e2e/dtx-speech.test.ts): 'dtx' — the next
 *   call asks the peer's encoder for Opus DTX (usedtx=1), which Hush keeps off
 *   (opus-sdp.ts); 'dtx-no-red' — DTX, and RED left where the browser put it
 *   (MediaStartOptions.testOpusShape), so DTX with speech can be measured.
 * - session storage `testAboutToDialHoldMs` (tests/e2e/about-to-dial.test.ts): how long a
 *   media host started because the person was about to dial waits for a call before it is
 *   closed again (lib/background/app.ts, 20 s without the hook).
 * - MediaStartOptions.testToneHz: a generated sine instead of the microphone
 *   (the selftest page's loopback call only).
 * - `globalThis.hushMediaServer`: the media host's MediaServer (Chrome's
 *   offscreen document, Firefox's call window), read by the browser tests.
 * - `globalThis.hushSelfTest`: the selftest page's driver (entrypoints/selftest).
 * - `globalThis.hushCallTimeline` (markCall): the steps of a call's start with their
 *   times, in the background and in the media host, read by `npm run bench -- call`.
 * - testInsecureRelayHost (the NAT lab, tests/lab): `ws://` to a host in the
 *   documentation ranges (RFC 5737: 192.0.2.0/24, 198.51.100.0/24,
 *   203.0.113.0/24), which exist only inside the lab's namespaces; store
 *   builds require `wss://` for every host but loopback.
 * Session storage is gone at browser restart, and only extension pages can write it.
 */
import { browser } from 'wxt/browser';
import type { OpusShape } from '../media/opus-sdp';

/** Replaced by wxt.config.ts at build time: true in the store builds (`npm run zip`); undeclared under Vitest. */
declare const __HUSH_STORE_BUILD__: boolean | undefined;

/** Whether this build carries the test hooks (false in the store zips, true in test builds and Vitest). */
export const TEST_HOOKS: boolean = typeof __HUSH_STORE_BUILD__ === 'undefined' || !__HUSH_STORE_BUILD__;

/** What a call session hands its media engine and ICE policy (SessionPorts.testHooks, lib/call/session.ts). */
export interface SessionTestHooks {
  corruptRecvKey?: boolean;
  tapFrames?: number;
  retryDirectMs?: number;
  opusShape?: string;
  aboutToDialHoldMs?: number;
}

/**
 * The background's view of the session-storage hooks: read once now, then kept
 * current as tests change them. Undefined in store builds (the session then sees none).
 */
export async function watchSessionHooks(): Promise<(() => SessionTestHooks) | undefined> {
  if (!TEST_HOOKS) return undefined;
  const area = browser.storage.session;
  const keys = ['testWrongKey', 'testTapFrames', 'testRetryDirectMs', 'testOpusShape', 'testAboutToDialHoldMs'] as const;
  const values: Record<string, unknown> = (await area?.get([...keys]).catch(() => ({}))) ?? {};
  browser.storage.onChanged.addListener((changes, areaName) => {
    if (areaName !== 'session') return;
    for (const k of keys) if (k in changes) values[k] = changes[k]!.newValue;
  });
  return () => ({
    corruptRecvKey: !!values.testWrongKey,
    tapFrames: Number(values.testTapFrames) || 0,
    retryDirectMs: Number(values.testRetryDirectMs) || 0,
    opusShape: typeof values.testOpusShape === 'string' ? values.testOpusShape : undefined,
    aboutToDialHoldMs: Number(values.testAboutToDialHoldMs) || 0,
  });
}

/** For the browser tests (and DevTools): the media host's MediaServer as `globalThis.hushMediaServer`. */
export function exposeMediaServer(server: object): void {
  if (!TEST_HOOKS) return;
  (globalThis as { hushMediaServer?: object }).hushMediaServer = server;
}

/** For the browser tests: the selftest page's driver as `globalThis.hushSelfTest`. */
export function exposeSelfTest(driver: object): void {
  if (!TEST_HOOKS) return;
  (globalThis as { hushSelfTest?: object }).hushSelfTest = driver;
}

/** The media engine's hook options, as MediaStartOptions and WireStartOptions carry them. */
export interface MediaHookOptions {
  /** Decrypt with a wrong key, so the peer's audio must be dropped (silence, counted). */
  corruptRecvKey?: boolean;
  /** Keep the first N outgoing frames, plain and sealed, for CallStats.testTap. */
  testTapFrames?: number;
  /** Send a generated sine of this frequency instead of the microphone (no getUserMedia). */
  testToneHz?: number;
  /** The DTX measurement's Opus settings: 'dtx' (usedtx=1, which Hush keeps off) or 'dtx-no-red' (and no RED first). */
  testOpusShape?: string;
}

/** What a call session adds to its media start (lib/call/session.ts): the session-storage hooks. */
export function mediaStartHooks(hooks?: () => SessionTestHooks): MediaHookOptions {
  if (!TEST_HOOKS) return {};
  const h = hooks?.();
  return { corruptRecvKey: h?.corruptRecvKey ?? false, testTapFrames: h?.tapFrames, ...(h?.opusShape ? { testOpusShape: h.opusShape } : {}) };
}

/** What a call session adds to its ICE policy's options (IcePolicyOptions). */
export function iceHooks(hooks?: () => SessionTestHooks): { retryDirectMs?: number } {
  if (!TEST_HOOKS) return {};
  return { retryDirectMs: hooks?.().retryDirectMs || undefined };
}

/** How long a media host started for "about to dial" waits for a call: `fallback`, or a test's shorter hold. */
export function aboutToDialHoldMs(hooks: (() => SessionTestHooks) | undefined, fallback: number): number {
  if (!TEST_HOOKS) return fallback;
  return hooks?.().aboutToDialHoldMs || fallback;
}

/** The ICE policy's wait before it tries a direct path again, if a test set one (lib/ice/policy.ts). */
export function retryDirectMsOf(opts: { retryDirectMs?: number }): number | undefined {
  return TEST_HOOKS ? opts.retryDirectMs : undefined;
}

/** The hook options the media host passes on from the wire to the engine (lib/platform/media-server.ts). */
export function forwardMediaHooks(o: MediaHookOptions): MediaHookOptions {
  if (!TEST_HOOKS) return {};
  return { corruptRecvKey: o.corruptRecvKey, testTapFrames: o.testTapFrames, ...(o.testOpusShape ? { testOpusShape: o.testOpusShape } : {}) };
}

/** The Opus settings a test asked for on this call's descriptions (lib/media/call-media.ts → opus-sdp.ts); {} = Hush's. */
export function opusShapeOf(opts: MediaHookOptions): OpusShape {
  if (!TEST_HOOKS) return {};
  if (opts.testOpusShape === 'dtx') return { dtx: true };
  if (opts.testOpusShape === 'dtx-no-red') return { dtx: true, red: false };
  return {};
}

/** The engine's receive secret, spoiled if a test asked for a wrong key (lib/media/call-media.ts). */
export function spoilRecvSecretForTest(opts: MediaHookOptions, recv: Uint8Array): void {
  if (TEST_HOOKS && opts.corruptRecvKey) recv[0] = recv[0]! ^ 0xff; // every incoming frame must fail authentication
}

/** The test tone's frequency, if the engine is to send one instead of the microphone. */
export function testToneOf(opts: MediaHookOptions): number | undefined {
  return TEST_HOOKS ? opts.testToneHz : undefined;
}

/** The frame tap's `tap` message to the worker, sent before any transform is attached (lib/media/frame-worker-client.ts). */
export function tapInitField(tapFrames?: number): { tapFrames?: number } {
  return TEST_HOOKS && tapFrames ? { tapFrames } : {};
}

/** How many outgoing frames the frame worker keeps, from its `tap` message (lib/media/frame-worker.ts): 0, none. */
export function workerTapFrames(init: { tapFrames?: number }): number {
  return TEST_HOOKS ? (init.tapFrames ?? 0) : 0;
}

/** The frame tap as the call stats show it (CallStats.testTap), if a test switched it on. */
export function frameTapStats(
  tap: { plain: Uint8Array[]; sealed: Uint8Array[] } | undefined,
  hex: (b: Uint8Array) => string,
): { testTap?: { plain: string[]; sealed: string[] } } {
  if (!TEST_HOOKS || !tap) return {};
  return { testTap: { plain: tap.plain.map(hex), sealed: tap.sealed.map(hex) } };
}

/** How many outgoing frames the engine keeps for the stats (0: none). */
export function tapFramesOf(opts: MediaHookOptions): number | undefined {
  return TEST_HOOKS ? opts.testTapFrames : undefined;
}

/**
 * Test builds only: may `ws://` reach this host (lib/signal/relay-url.ts)? The
 * NAT lab's relay sits at 203.0.113.10, a documentation address that exists
 * only inside the lab's namespaces. Always false in store builds.
 */
export function testInsecureRelayHost(host: string): boolean {
  if (!TEST_HOOKS) return false;
  return /^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d{1,3}$/.test(host);
}

/** One step of a call's start as the timeline records it (issue 17, `npm run bench -- call`). */
export interface TimelineMark {
  /** The call's id, first 6 hex digits ('' before the call has one). */
  call: string;
  step: string;
  /** Wall clock, ms (Date.now): the background, the media host and the bench share it. */
  at: number;
}

const TIMELINE_MAX = 400;

/**
 * Test builds only: note that a call reached `step` now, in this context's
 * `globalThis.hushCallTimeline` (the background's and the media host's each
 * have one; the call bench reads both). Steps are names, never keys, SDP or
 * addresses. Store builds: nothing.
 */
export function markCall(callId: string, step: string): void {
  if (!TEST_HOOKS) return;
  const g = globalThis as { hushCallTimeline?: TimelineMark[] };
  const list = (g.hushCallTimeline ??= []);
  list.push({ call: callId.slice(0, 6), step, at: Date.now() });
  if (list.length > TIMELINE_MAX) list.splice(0, list.length - TIMELINE_MAX);
}
