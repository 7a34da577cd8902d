/**
 * Driving Hush as a person does: through the popup's real UI (typing,
 * clicking), with a relay started by the test. Built on chromium.ts (browser
 * + extension) and relay.ts (the real relay CLI). Readings of what a side
 * hears come from its media host (the offscreen document's running engine).
 */
import type { Page } from 'puppeteer-core';
import { launchWithExtension, type HushBrowser } from './chromium';
import { makeTone, normaliseReading, type AudioReading } from './audio';
import { waitFor } from './wait';
import type { StandbyStats } from '../../lib/media/types';

export interface HushSide {
  hb: HushBrowser;
  popup: Page;
  address: string;
  close(): Promise<void>;
}

export interface SideOptions {
  toneHz?: number;
  signalUrl: string;
  args?: string[];
  /** How to start the browser (default: on this host, loopback ICE allowed); the lab passes a namespaced launcher. */
  launch?: (args: string[]) => Promise<HushBrowser>;
  /** The microphone permission at launch (launchWithExtension's): 'prompt' for a fresh person's profile. */
  micPermission?: 'granted' | 'prompt';
}

/** Launch a browser with Hush, feed `toneHz` to its fake microphone, point it at `signalUrl`. */
export async function launchSide(opts: SideOptions): Promise<HushSide> {
  const args = [...(opts.launch ? [] : ['--allow-loopback-in-peer-connection']), ...(opts.args ?? [])];
  if (opts.toneHz) args.push(`--use-file-for-fake-audio-capture=${makeTone(opts.toneHz)}`);
  const hb = opts.launch ? await opts.launch(args) : await launchWithExtension({ args, micPermission: opts.micPermission });
  try {
    const popup = await hb.openPopup();
    await popup.waitForSelector('[data-testid="my-address"]', { timeout: 20_000 });
    await request(popup, 'update-settings', { settings: { relays: [opts.signalUrl] } });
    await waitText(popup, '[data-testid="relay-status"]', (t) => t === 'Connected to relay', 20_000);
    const address = await popup.$eval('[data-testid="my-address"]', (e) => e.textContent ?? '');
    return { hb, popup, address, close: () => hb.close() };
  } catch (e) {
    await hb.close();
    throw e;
  }
}

/**
 * A request to the background from an extension page (what the UI's buttons send), in Chromium or
 * Firefox: `browser.runtime` where the page has it (Firefox), else `chrome.runtime`. The one request
 * helper of the tests (there were three: Chromium, Firefox, either side).
 */
export async function request(page: Page, kind: string, body: Record<string, unknown> = {}): Promise<unknown> {
  type Runtime = { runtime: { sendMessage(m: unknown): Promise<unknown> } };
  const r = (await page.evaluate(
    (msg) => {
      const g = globalThis as unknown as { browser?: Runtime; chrome: Runtime };
      return (g.browser ?? g.chrome).runtime.sendMessage(msg);
    },
    { target: 'background', kind, ...body },
  )) as { ok: boolean; value?: unknown; message?: string };
  if (!r?.ok) throw new Error(`${kind} failed: ${r?.message}`);
  return r.value;
}

export async function waitText(page: Page, selector: string, ok: (text: string) => boolean, timeoutMs = 15_000): Promise<string> {
  let last = '';
  const found = await waitFor(
    async () => {
      last = (await page.$eval(selector, (e) => e.textContent ?? '').catch(() => '')) as string;
      return ok(last) && { text: last };
    },
    { timeout: timeoutMs, interval: 100, what: () => `the text of ${selector} to match; last text: "${last}"` },
  );
  return found.text;
}

/** The call's state as the popup shows it (data-state on the call card), or '' when no call is shown. */
export async function callState(page: Page): Promise<string> {
  return (await page.$eval('[data-testid="call"]', (e) => e.getAttribute('data-state') ?? '').catch(() => '')) as string;
}

export async function waitCallState(page: Page, state: string, timeoutMs = 20_000): Promise<void> {
  let s = '';
  await waitFor(async () => (s = await callState(page)) === state, {
    timeout: timeoutMs,
    interval: 100,
    what: async () => {
      const msg = await page.$eval('[data-testid="end-message"]', (e) => e.textContent).catch(() => '');
      return `the call to reach "${state}" (last: "${s}" ${msg ?? ''})`;
    },
  });
}

/** Type an address into the dial box and press Call, as a person would. */
export async function dialByUi(page: Page, address: string): Promise<void> {
  await typeDialAddress(page, address);
  await page.click('[data-testid="dial-button"]');
}

/** Only the typing of dialByUi: a measure of "dial → …" starts its clock after it, at the click on Call. */
export async function typeDialAddress(page: Page, address: string): Promise<void> {
  await page.click('[data-testid="dial-address"]');
  await page.type('[data-testid="dial-address"]', address);
}

/**
 * The moment the popup shows an incoming call: waitForSelector follows the page's own changes,
 * where waitCallState polls every 100 ms (0-100 ms of the harness's own in a timed "answers at once").
 */
export async function waitIncoming(page: Page, timeoutMs = 20_000): Promise<void> {
  await page.waitForSelector('[data-testid="call"][data-state="incoming"]', { timeout: timeoutMs });
}

export async function click(page: Page, testid: string): Promise<void> {
  await page.waitForSelector(`[data-testid="${testid}"]`, { visible: true, timeout: 20_000 });
  await page.click(`[data-testid="${testid}"]`);
}

/** Replace a field's text as a person does (select all, delete, type). `field`: a data-testid, or a CSS selector. */
export async function typeInto(page: Page, field: string, text: string): Promise<void> {
  const selector = /^[\[#.]/.test(field) ? field : `[data-testid="${field}"]`;
  await page.waitForSelector(selector, { visible: true, timeout: 10_000 });
  await page.click(selector, { count: 3 });
  await page.keyboard.press('Backspace');
  if (text) await page.type(selector, text);
}

/** Close a finished call's card (back to the home view). */
/** The states in which a side has a call to hang up. */
export const LIVE_STATES = [
  'dial-waiting-mic',
  'dialing',
  'ringing',
  'incoming',
  'answer-waiting-mic',
  'peer-waiting-mic',
  'connecting',
  'connected',
  'reconnecting',
];

/**
 * Between tests: hangs up every side that shows a live call, then waits until none does (the hang-up
 * reaches the other end over the relay). A side that never ends is reported, not thrown: this is
 * clean-up, and the next test's own waits will say what is wrong.
 */
export async function hangUpAll(...sides: HushSide[]): Promise<void> {
  for (const s of sides) {
    if (LIVE_STATES.includes(await callState(s.popup))) await request(s.popup, 'hangup').catch(() => {});
  }
  const states = async () => Promise.all(sides.map((s) => callState(s.popup)));
  await waitFor(async () => (await states()).every((st) => !LIVE_STATES.includes(st)), {
    timeout: 5_000,
    what: async () => `every side's call to end after hang-up (states: ${(await states()).join(', ')})`,
  }).catch((e: Error) => console.warn(e.message));
}

export async function dismiss(page: Page): Promise<void> {
  if (await page.$('[data-testid="close-call"]')) await page.click('[data-testid="close-call"]');
  await page.waitForSelector('[data-testid="call"]', { hidden: true, timeout: 5000 }).catch(() => {});
}

/** What this side hears right now, measured on the remote audio its media host plays. */
export async function hears(side: HushSide): Promise<AudioReading> {
  const off = await side.hb.offscreen();
  const r = await off.evaluate(() => {
    const server = (globalThis as unknown as { hushMediaServer?: { current(): { analyseRemote(): { frequency: number; rmsDb: number } } | undefined } }).hushMediaServer;
    const m = server?.current();
    if (!m) return { frequency: 0, rmsDb: null };
    const a = m.analyseRemote();
    return { frequency: a.frequency, rmsDb: Number.isFinite(a.rmsDb) ? a.rmsDb : null };
  });
  return normaliseReading(r);
}

export interface StatsView {
  path: string;
  ice?: {
    phase: string;
    nat: string;
    path: string;
    exchangedAt?: number;
    connectedAt?: number;
    firstPath?: string;
    relayEngagedAt?: number;
    forcedRelay?: string;
    remoteTypes: Record<string, number>;
    remoteAddresses: string[];
  };
  localType?: string;
  remoteType?: string;
  relayProtocol?: string;
  bytesReceived: number;
  packetsReceived: number;
  frames: { encrypted: number; decrypted: number; dropped: number; authFailed: number; longestGapMs?: number; gapsOver60?: number; longGaps?: readonly { ms: number; afterFirstMs: number }[]; firstDecryptedAt?: number };
  /** Make before break (lib/media/types.ts StandbyStats). */
  standby?: StandbyStats;
  /** Audio bytes and packets sent on the connection carrying our audio now (outbound-rtp). */
  bytesSent?: number;
  packetsSent?: number;
}

export async function stats(side: HushSide): Promise<StatsView> {
  return (await request(side.popup, 'call-stats')) as StatsView;
}
