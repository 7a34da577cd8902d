/**
 * Hush in Firefox, driven as a person drives it, plus the Chromium side of a
 * cross-browser call inside the lab. Both kinds of side share one shape
 * (`CallSide`), so a test can call from either browser to either browser with
 * the same steps (hush.ts's `dialByUi`, `click`, `waitCallState` take any
 * puppeteer Page, Firefox's included).
 *
 * Firefox specifics (docs/firefox.md):
 * - the popup page is opened in a tab through the browser's chrome scope
 *   (firefox.ts: BiDi refuses to navigate to moz-extension://); everything in
 *   it is then clicked and typed through puppeteer as in Chromium;
 * - the media host is the call window (call.html) the background opens for
 *   each call, so what a side hears is read there;
 * - the fake microphone plays a tone set by `media.navigator.audio.fake_frequency`,
 *   prompts are off (`media.navigator.permission.disabled`: the twin of
 *   Chromium's fake-UI permission flag), and the mock audio backend
 *   runs Web Audio without a sound server (`media.cubeb.force_mock_context`).
 */
import { randomUUID } from 'node:crypto';
import type { Page } from 'puppeteer-core';
import { normaliseReading, makeTone, type AudioReading } from './audio';
import { EXTENSION_DIR } from './chromium';
import { hears as chromiumHears, request, waitText, type StatsView } from './hush';
import { FIREFOX_EXTENSION_DIR, geckoIdOf, launchFirefox, type FirefoxBrowser, type Prefs } from './firefox';
import { launchExtensionInNamespace } from '../lab/chromium-in-ns';
import type { Lab, NsRole } from '../lab/netns';

export interface CallSide {
  browserName: 'firefox' | 'chromium';
  /** The popup page (a tab), where the test clicks. */
  popup: Page;
  address: string;
  /** What this side hears now: the analyser on the remote track in its media host. */
  hears(): Promise<AudioReading>;
  /** The call's stats (path, RTP counters, frame counters) through the popup's `call-stats` request. */
  stats(): Promise<StatsView>;
  close(): Promise<void>;
}

export interface FirefoxSide extends CallSide {
  browserName: 'firefox';
  fb: FirefoxBrowser;
  /** The fixed moz-extension UUID of this install. */
  uuid: string;
  url(path: string): string;
  /** The call window (media host) of the current call. */
  mediaHost(timeoutMs?: number): Promise<Page>;
  /** Open the popup page again (after the test closed it) and make it the side's popup. */
  reopenPopup(): Promise<Page>;
}

/** The prefs a Hush test Firefox runs with. */
export function hushFirefoxPrefs(geckoId: string, uuid: string, toneHz?: number): Prefs {
  return {
    'extensions.webextensions.uuids': JSON.stringify({ [geckoId]: uuid }),
    'media.navigator.streams.fake': true,
    'media.navigator.permission.disabled': true,
    ...(toneHz ? { 'media.navigator.audio.fake_frequency': toneHz } : {}),
    'media.cubeb.force_mock_context': true,
    'media.autoplay.default': 0,
    // Host candidates as addresses, not mDNS names (nothing resolves .local in the lab).
    'media.peerconnection.ice.obfuscate_host_addresses': false,
  };
}

export interface FirefoxSideOptions {
  toneHz?: number;
  signalUrl: string;
  netns?: { lab: Lab; role: NsRole };
  extensionDir?: string;
  prefs?: Prefs;
  /** More environment for Firefox (firefox.ts). */
  env?: Record<string, string>;
  /** Leave the relay setting alone and do not wait for the connection. */
  noRelay?: boolean;
}

export async function launchFirefoxSide(opts: FirefoxSideOptions): Promise<FirefoxSide> {
  const extensionDir = opts.extensionDir ?? FIREFOX_EXTENSION_DIR;
  const geckoId = geckoIdOf(extensionDir);
  const uuid = randomUUID();
  const fb = await launchFirefox({ netns: opts.netns, env: opts.env, prefs: { ...hushFirefoxPrefs(geckoId, uuid, opts.toneHz), ...(opts.prefs ?? {}) } });
  try {
    const installed = await fb.browser.installExtension(extensionDir);
    if (installed !== geckoId) throw new Error(`installed ${installed}, expected ${geckoId}`);
    const url = (path: string) => `moz-extension://${uuid}/${path.replace(/^\//, '')}`;
    const openPopup = async () => {
      const p = await fb.openTab(url('popup.html'));
      // The header is always there; the address only when no call is shown.
      await p.waitForSelector('[data-testid="relay-status"]', { timeout: 20_000 });
      return p;
    };
    const side: FirefoxSide = {
      browserName: 'firefox',
      fb,
      uuid,
      url,
      popup: await openPopup(),
      address: '',
      async mediaHost(timeoutMs = 20_000) {
        // Exactly the URL the background opens (a hand-opened call.html tab carries a query).
        return fb.findPage((href) => href === url('call.html'), timeoutMs);
      },
      async reopenPopup() {
        side.popup = await openPopup();
        return side.popup;
      },
      async hears() {
        const host = await side.mediaHost();
        return normaliseReading(await host.evaluate(readRemote));
      },
      async stats() {
        return (await request(side.popup, 'call-stats')) as StatsView;
      },
      close: () => fb.close(),
    };
    if (!opts.noRelay) {
      await request(side.popup, 'update-settings', { settings: { relays: [opts.signalUrl] } });
      await waitText(side.popup, '[data-testid="relay-status"]', (t) => t === 'Connected to relay', 30_000);
    }
    await side.popup.waitForSelector('[data-testid="my-address"]', { timeout: 20_000 });
    side.address = await side.popup.$eval('[data-testid="my-address"]', (e) => e.textContent ?? '');
    return side;
  } catch (e) {
    await fb.close();
    throw e;
  }
}

/** The Chromium side of a cross-browser call, inside a lab host (tests/lab/chromium-in-ns.ts). */
export async function launchChromiumSideInLab(
  lab: Lab,
  role: NsRole,
  opts: { toneHz: number; signalUrl: string; extensionDir?: string },
): Promise<CallSide> {
  const hb = await launchExtensionInNamespace(lab, role, opts.extensionDir ?? EXTENSION_DIR, {
    args: [`--use-file-for-fake-audio-capture=${makeTone(opts.toneHz)}`],
  });
  try {
    const popup = await hb.openPopup();
    await popup.waitForSelector('[data-testid="my-address"]', { timeout: 20_000 });
    await request(popup, 'update-settings', { settings: { relays: [opts.signalUrl] } });
    await waitText(popup, '[data-testid="relay-status"]', (t) => t === 'Connected to relay', 30_000);
    const address = await popup.$eval('[data-testid="my-address"]', (e) => e.textContent ?? '');
    const side: CallSide = {
      browserName: 'chromium',
      popup,
      address,
      hears: () => chromiumHears({ hb, popup, address, close: () => hb.close() }),
      stats: async () => (await request(popup, 'call-stats')) as StatsView,
      close: () => hb.close(),
    };
    return side;
  } catch (e) {
    await hb.close();
    throw e;
  }
}

/** In the media host: what the remote track sounds like (same reading as hush.ts's hears()). */
function readRemote(): { frequency: number; rmsDb: number | null } {
  const server = (globalThis as unknown as { hushMediaServer?: { current(): { analyseRemote(): { frequency: number; rmsDb: number } } | undefined } })
    .hushMediaServer;
  const m = server?.current();
  if (!m) return { frequency: 0, rmsDb: null };
  const a = m.analyseRemote();
  return { frequency: a.frequency, rmsDb: Number.isFinite(a.rmsDb) ? a.rmsDb : null };
}
