/**
 * One browser with Hush in it, driven as a person drives it: the popup's and
 * options page's real UI (typing, clicking), Hush's welcome page for the
 * microphone, and ordinary web pages with Hush links or the page API. What a
 * test reads (state, path, SAS, what is heard) is what the UI shows, read
 * from its data attributes, so the kit needs no private hook.
 *
 * Caveats: Chromium only for now (`firefox: true` throws ERR_UNSUPPORTED);
 * the popup runs as a tab (the same document the toolbar shows).
 */
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { launchWithExtension, type HushBrowser } from '../tests/harness/chromium';
import { grantMicrophoneLikeAPerson } from '../tests/harness/permission';
import { makeTone, medianReading } from '../tests/harness/audio';
import { waitFor } from '../tests/harness/wait';
import { KitError, extensionNotBuilt, noChromium, noMicrophone } from './errors';
import { checkRelayReachable } from './relay';
import { LogRecorder, writeArtifacts } from './artifacts';
import { HushPage } from './page';

/** The call states the popup shows (its call card's data-state). */
/**
 * The call states the popup shows (data-state). The three `*-waiting-mic` states are Hush waiting for a
 * person to allow the microphone (its permission window, or Firefox's prompt): no timer ends them.
 */
export type CallStateName =
  | 'dial-waiting-mic'
  | 'dialing'
  | 'ringing'
  | 'peer-waiting-mic'
  | 'incoming'
  | 'answer-waiting-mic'
  | 'connecting'
  | 'connected'
  | 'reconnecting'
  | 'ended';

/** Why a call ended, as the popup shows it (data-reason): 'hangup', 'remote-hangup', 'declined', 'busy', 'mic-denied', … */
export type EndReason = string;

export interface LaunchHushOptions {
  /** Unpacked Chrome build of Hush; default $HUSH_EXTENSION_DIR, else ./.output/chrome-mv3 (what `npm run build` writes). */
  extensionDir?: string;
  /** Relay signalling URL to use (ws://… from startRelay(), or an operator's wss://…). Default: Hush's configured relays. */
  relay?: string;
  /** Relay-only calls (Hush's privacy mode, set on its options page). Default false. */
  privacyMode?: boolean;
  /** Browser UI language, e.g. 'fr' (Hush follows it). Default: the browser's (en-US). */
  lang?: string;
  /** Firefox instead of Chromium: not in the kit yet (throws ERR_UNSUPPORTED). */
  firefox?: boolean;
  /** 'granted' (default): Allow clicked on Hush's welcome page. 'ungranted': left as a fresh install leaves it. */
  microphone?: 'granted' | 'ungranted';
  /** The tone this browser's fake microphone plays, in Hz; default a distinct one per launch (440, 660, 880, …). */
  toneHz?: number;
  /** Extra Chromium flags. */
  args?: string[];
  /**
   * Reuse this profile folder (a restart: the identity persists) instead of a fresh one; kept on close.
   * A first launch into an empty folder is an install (welcome page); later ones are restarts.
   */
  profileDir?: string;
}

/** What a side hears: dominant frequency (Hz, 0 when silent) and level (dBFS, -Infinity when silent). */
export interface Heard {
  frequency: number;
  levelDb: number;
}

const CHROMIUM_CANDIDATES = ['/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
let nextTone = 0;
const TONES = [440, 660, 880, 550, 770, 990];

/**
 * Launch a browser with a fresh profile and Hush loaded; grant the microphone
 * the way a person's Allow does (unless `microphone: 'ungranted'`); point Hush
 * at `relay` and wait until it is connected. Close it with `hush.close()`.
 */
export async function launchHush(opts: LaunchHushOptions = {}): Promise<Hush> {
  if (opts.firefox) {
    throw new KitError('ERR_UNSUPPORTED', 'The kit drives Chromium only for now: leave out `firefox: true` (Firefox needs a network-namespace host for calls; see docs/testing.md).');
  }
  const extensionDir = resolve(opts.extensionDir ?? process.env.HUSH_EXTENSION_DIR ?? '.output/chrome-mv3');
  if (!existsSync(resolve(extensionDir, 'manifest.json'))) throw extensionNotBuilt(extensionDir);
  // A CHROMIUM_PATH that names nothing is a mistake to report, not a reason to pick another browser.
  const tried = process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : CHROMIUM_CANDIDATES;
  const binary = tried.find((p) => existsSync(p));
  if (!binary) throw noChromium(tried);
  if (opts.relay) await checkRelayReachable(opts.relay);

  const toneHz = opts.toneHz ?? TONES[nextTone++ % TONES.length]!;
  const args = ['--allow-loopback-in-peer-connection', `--use-file-for-fake-audio-capture=${makeTone(toneHz)}`, ...(opts.args ?? [])];
  if (opts.lang) args.push(`--lang=${opts.lang}`, `--accept-lang=${opts.lang}`);
  const prevPath = process.env.CHROMIUM_PATH;
  process.env.CHROMIUM_PATH = binary;
  const install = !opts.profileDir || !existsSync(opts.profileDir) || readdirSync(opts.profileDir).length === 0;
  let hb: HushBrowser;
  try {
    hb = await launchWithExtension({ extensionDir, args, realPermissionUi: true, keepWelcome: true, userDataDir: opts.profileDir });
  } finally {
    if (prevPath === undefined) delete process.env.CHROMIUM_PATH;
    else process.env.CHROMIUM_PATH = prevPath;
  }
  const hush = new Hush(hb, toneHz, new LogRecorder(hb.browser, hb.extensionId));
  try {
    await hush._setUp(opts, install);
    return hush;
  } catch (e) {
    await hush.close();
    throw e;
  }
}

/** A browser with Hush, launched by launchHush(). */
export class Hush {
  /** The popup (as a tab): where the kit dials, accepts and reads the call. */
  popup!: Page;
  private addr = '';

  /** @internal use launchHush() */
  constructor(
    private readonly hb: HushBrowser,
    /** The tone this browser's fake microphone plays (Hz): what the other side should hear. */
    readonly toneHz: number,
    private readonly logs: LogRecorder,
  ) {}

  /** The puppeteer Browser, for anything the kit does not cover. */
  get browser(): Browser {
    return this.hb.browser;
  }

  /** The extension's id (its chrome-extension:// host). */
  get extensionId(): string {
    return this.hb.extensionId;
  }

  /** @internal */
  async _setUp(opts: LaunchHushOptions, install: boolean): Promise<void> {
    if (install) {
      // Hush opens its welcome page on install: the person's first stop, where they allow the microphone.
      const welcomeUrl = `chrome-extension://${this.hb.extensionId}/welcome.html`;
      const target = await this.browser.waitForTarget((t) => t.type() === 'page' && t.url() === welcomeUrl, { timeout: 20_000 });
      const welcome = (await target.page())!;
      if (opts.microphone !== 'ungranted') await this.grantOn(welcome);
      await welcome.close();
    }
    this.popup = await this.hb.openPopup();
    if (!install && opts.microphone !== 'ungranted') await this.grantMicrophone();
    await this.popup.waitForSelector('[data-testid="my-address"]', { timeout: 20_000 });
    if (opts.relay || opts.privacyMode) await this.configure(opts.relay, !!opts.privacyMode);
    if (opts.relay) await this.waitForRelay(opts.relay);
    this.addr = (await this.popup.$eval('[data-testid="my-address"]', (e) => e.textContent ?? '')).trim();
  }

  private async grantOn(page: Page): Promise<void> {
    await page.bringToFront();
    await page.waitForSelector('[data-testid="mic-step"]', { timeout: 15_000 }).catch(() => {});
    const state = await page.$eval('[data-testid="mic-step"]', (e) => e.getAttribute('data-state')).catch(() => null);
    if (state === 'granted') return; // allowed before (a restart): nothing to click
    await grantMicrophoneLikeAPerson(this.hb, page).catch((e: Error) => {
      throw noMicrophone(`the Allow on Hush's welcome page did not take: ${e.message}`);
    });
  }

  /**
   * Grant the microphone as a person does: open Hush's welcome page, click
   * "Allow microphone" (the browser records the Allow), close the page. For a
   * browser launched with `microphone: 'ungranted'`.
   */
  async grantMicrophone(): Promise<void> {
    const page = await this.browser.newPage();
    await page.goto(`chrome-extension://${this.hb.extensionId}/welcome.html`);
    await this.grantOn(page);
    await page.close();
    await this.popup.bringToFront();
  }

  /** On Hush's options page: the relay first in the list (the others removed), and privacy mode. */
  private async configure(relay: string | undefined, privacyMode: boolean): Promise<void> {
    const o = await this.browser.newPage();
    await o.goto(`chrome-extension://${this.hb.extensionId}/options.html`);
    await o.waitForSelector('[data-testid="relay"]', { timeout: 15_000 });
    if (relay) {
      const row = `[data-testid="relay"][data-url="${relay}"]`;
      if (!(await o.$(row))) {
        await o.type('[data-testid="relay-url"]', relay);
        await o.click('[data-testid="relay-add"]');
        await o.waitForSelector(row, { timeout: 10_000 });
      }
      const urls = () => o.$$eval('[data-testid="relay"]', (es) => es.map((e) => e.getAttribute('data-url') ?? ''));
      if ((await urls())[0] !== relay) {
        await o.click(`${row} [data-testid="relay-use"]`);
        await waitFor(async () => (await urls())[0] === relay, { timeout: 10_000, what: `${relay} to be first in Hush's relay list` });
      }
      for (const other of (await urls()).filter((u) => u !== relay)) {
        await o.click(`[data-testid="relay"][data-url="${other}"] [data-testid="relay-remove"]`);
        await o.waitForSelector(`[data-testid="relay"][data-url="${other}"]`, { hidden: true, timeout: 10_000 });
      }
    }
    if (privacyMode && !(await o.$eval('[data-testid="privacy-mode"]', (e) => (e as HTMLInputElement).checked))) {
      await o.click('[data-testid="privacy-mode"]');
      await o.waitForSelector('[data-testid="privacy-mode"]:checked', { timeout: 10_000 });
    }
    await o.close();
    await this.popup.bringToFront();
  }

  private async waitForRelay(relay: string): Promise<void> {
    try {
      await this.popup.waitForSelector('[data-testid="relay-status"][data-state="online"]', { timeout: 20_000 });
    } catch {
      throw new KitError(
        'ERR_RELAY_UNREACHABLE',
        `Hush did not connect to the relay at ${relay} within 20 s (it accepts TCP, but is it a Hush relay's signalling URL, ending in /signal?). ` +
          'Start one with `await startRelay()` and pass `relay: relay.url`.',
      );
    }
  }

  /** This browser's Hush address (hush1…), as the popup shows it. */
  address(): string {
    return this.addr;
  }

  private async front(): Promise<Page> {
    await this.popup.bringToFront();
    return this.popup;
  }

  private async click(testid: string, timeoutMs = 20_000): Promise<void> {
    const p = await this.front();
    await p.waitForSelector(`[data-testid="${testid}"]`, { visible: true, timeout: timeoutMs });
    await p.click(`[data-testid="${testid}"]`);
  }

  /** Close a finished call's card, so the popup shows the dial box again. */
  async dismiss(): Promise<void> {
    const p = await this.front();
    if (await p.$('[data-testid="close-call"]')) await p.click('[data-testid="close-call"]');
    await p.waitForSelector('[data-testid="call"]', { hidden: true, timeout: 5000 }).catch(() => {});
  }

  /** Call `address` from the popup: type it in the dial box and press Call. Resolves once the call card shows. */
  async dial(address: string): Promise<void> {
    if ((await this.state()) === 'ended') await this.dismiss();
    const p = await this.front();
    await p.waitForSelector('[data-testid="dial-address"]', { visible: true, timeout: 10_000 });
    await p.click('[data-testid="dial-address"]', { count: 3 });
    await p.type('[data-testid="dial-address"]', address);
    await p.click('[data-testid="dial-button"]');
    await this.waitForAnyState(['dial-waiting-mic', 'dialing', 'ringing', 'connecting', 'connected', 'ended'], 10_000, 'the call card to show after Call');
    const s = await this.state();
    if (s === 'ended') await this.checkNotMicrophone();
    if (s === 'dial-waiting-mic') {
      // Hush waits for the person to allow the microphone (its permission window is open): nothing rings
      // until then. A test that did not grant it would wait forever: cancel the call and say what to do.
      await this.click('hangup');
      await this.waitForState('ended').catch(() => {});
      throw noMicrophone('Hush is waiting for the microphone permission (its permission window opened when you dialled)');
    }
  }

  /** Answer the incoming call with the popup's Accept button (waits for it to ring first). */
  async accept(): Promise<void> {
    // Not waitForState: the card of an earlier call may still show "ended" until the new call rings.
    await this.waitForAnyState(['incoming'], 30_000, 'an incoming call to ring');
    await this.click('accept');
  }

  /** Decline the incoming call with the popup's Decline button. */
  async decline(): Promise<void> {
    await this.waitForAnyState(['incoming'], 30_000, 'an incoming call to ring');
    await this.click('decline');
  }

  /** Hang up the live call with the popup's Hang up button, and wait until it shows the call ended. */
  async hangUp(): Promise<void> {
    await this.click('hangup');
    await this.waitForState('ended');
  }

  /** The call state the popup shows now, or '' when it shows no call. */
  async state(): Promise<CallStateName | ''> {
    return (await this.popup.$eval('[data-testid="call"]', (e) => e.getAttribute('data-state') ?? '').catch(() => '')) as CallStateName | '';
  }

  /** Why the shown call ended (the end message's data-reason), or '' while it has not. */
  async endReason(): Promise<EndReason> {
    return (await this.popup.$eval('[data-testid="end-message"]', (e) => e.getAttribute('data-reason') ?? '').catch(() => '')) as string;
  }

  private async waitForAnyState(states: string[], timeoutMs: number, what: string): Promise<void> {
    let s = '';
    await waitFor(async () => states.includes((s = await this.state())), { timeout: timeoutMs, interval: 100, what: () => `${what} (state now: "${s}")` });
  }

  private async checkNotMicrophone(): Promise<void> {
    const reason = await this.endReason();
    if (reason === 'mic-denied' || reason === 'no-microphone') throw noMicrophone(`the call ended with "${reason}"`);
  }

  /**
   * Wait until the popup shows `state`; for 'ended', optionally with `reason`.
   * A call that ends while waiting for another state fails at once, naming the reason.
   */
  async waitForState(state: CallStateName, opts: { reason?: EndReason; timeoutMs?: number } = {}): Promise<void> {
    const timeout = opts.timeoutMs ?? 30_000;
    let s = '';
    await waitFor(
      async () => {
        s = await this.state();
        if (s === state) return true;
        if (s === 'ended' && state !== 'ended') {
          await this.checkNotMicrophone();
          throw new KitError('ERR_TIMEOUT', `The call ended ("${await this.endReason()}") while waiting for "${state}".`);
        }
        return false;
      },
      { timeout, interval: 100, what: async () => `the call to reach "${state}" (state now: "${s}", end reason: "${await this.endReason()}")` },
    );
    if (opts.reason !== undefined) {
      const reason = await waitFor(() => this.endReason(), { timeout: 5000, what: 'the end message' });
      if (reason !== opts.reason) throw new KitError('ERR_TIMEOUT', `The call ended with reason "${reason}", not "${opts.reason}".`);
    }
  }

  /** The call's path as the popup shows it: 'p2p', 'relay', or 'unknown' before it is known. */
  async path(): Promise<'p2p' | 'relay' | 'unknown'> {
    return (await this.popup.$eval('[data-testid="call-path"]', (e) => e.getAttribute('data-path') ?? 'unknown').catch(() => 'unknown')) as 'p2p' | 'relay' | 'unknown';
  }

  /** Wait until the path is known (not 'unknown') and return it. */
  async waitForPath(timeoutMs = 10_000): Promise<'p2p' | 'relay'> {
    return (await waitFor(async () => {
      const p = await this.path();
      return p !== 'unknown' && p;
    }, { timeout: timeoutMs, interval: 100, what: 'the call screen to show the path' })) as 'p2p' | 'relay';
  }

  /** The security code (SAS) both people compare, as the popup shows it once connected (waits for it). */
  async sas(timeoutMs = 10_000): Promise<string> {
    return waitFor(
      async () => ((await this.popup.$eval('[data-testid="sas"]', (e) => e.textContent ?? '').catch(() => '')) as string).trim(),
      { timeout: timeoutMs, interval: 100, what: 'the call screen to show the security code' },
    );
  }

  /** What this side hears now, from the call screen's "Hearing" line (one reading; the screen updates each second). */
  async hears(): Promise<Heard> {
    const r = await this.popup
      .$eval('[data-testid="call-heard"]', (e) => ({ f: e.getAttribute('data-frequency'), db: e.getAttribute('data-level-db') }))
      .catch(() => null);
    if (!r) return { frequency: 0, levelDb: -Infinity };
    return { frequency: Number(r.f) || 0, levelDb: r.db === 'silent' || r.db === null ? -Infinity : Number(r.db) };
  }

  /**
   * Wait until this side hears `frequencyHz` (within `toleranceHz`, default 15) at
   * `minLevelDb` or louder (default -40 dBFS); returns the median of the last readings.
   */
  async waitToHear(frequencyHz: number, opts: { toleranceHz?: number; minLevelDb?: number; timeoutMs?: number } = {}): Promise<Heard> {
    const tol = opts.toleranceHz ?? 15;
    const min = opts.minLevelDb ?? -40;
    const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
    const read = async () => {
      const h = await this.hears();
      return { frequency: h.frequency, rmsDb: h.levelDb };
    };
    for (;;) {
      const m = await medianReading(read, { samples: 3, intervalMs: 1000 });
      const heard = { frequency: m.frequency, levelDb: m.rmsDb };
      if (Math.abs(heard.frequency - frequencyHz) <= tol && heard.levelDb >= min) return heard;
      if (Date.now() > deadline) {
        throw new KitError('ERR_TIMEOUT', `This side did not hear ${frequencyHz} Hz at ${min} dBFS or louder; it hears ${heard.frequency} Hz at ${heard.levelDb} dBFS.`);
      }
    }
  }

  /** Open `url` in a new tab, in front, once Hush's content script had time to attach. */
  async openPage(url: string): Promise<HushPage> {
    return HushPage.open(await this.browser.newPage(), url);
  }

  /**
   * Write the extension's console (service worker, offscreen media host, its
   * pages) and a screenshot of every tab to `dir`, file names prefixed with
   * `prefix`. Returns the files written.
   */
  async collectArtifacts(dir: string, prefix = 'hush'): Promise<string[]> {
    return writeArtifacts(this.browser, this.logs, dir, prefix);
  }

  /** Close the browser and remove its profile. */
  async close(): Promise<void> {
    await this.hb.close();
  }
}
