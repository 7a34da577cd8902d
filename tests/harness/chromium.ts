/**
 * The browser harness every Hush browser test reuses: launches Debian's
 * Chromium through puppeteer-core with the built extension loaded, waits for
 * its service worker, and opens the popup and the offscreen document.
 *
 * Flags follow ../shared/lab-notes.md: headless, no sandbox (root), and no
 * background networking (the lab network is closed and Chromium would hammer
 * it). Each launch gets a fresh profile in a temp dir, removed on close.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type Page, type Target, type WebWorker } from 'puppeteer-core';
import { waitFor } from './wait';
import { grantMicrophoneLikeAPerson } from './permission';

/** The Chrome build under test: $HUSH_EXTENSION_DIR, else .output/chrome-mv3 (what `npm run build` writes). */
export const EXTENSION_DIR = process.env.HUSH_EXTENSION_DIR ?? resolve(import.meta.dirname, '../../.output/chrome-mv3');

/** The Chromium binary: $CHROMIUM_PATH, else Debian's, binary over wrapper. */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/lib/chromium/chromium', '/usr/bin/chromium'];
  const found = candidates.find((p): p is string => !!p && existsSync(p));
  if (!found) {
    throw new Error(
      'Chromium not found: install Debian\'s package (apt-get install -y chromium) or set CHROMIUM_PATH',
    );
  }
  return found;
}

export const BASE_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--use-fake-device-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
];
// No fake-UI permission flag anywhere: it grants every permission silently. Hush gets its
// microphone as a person gives it (tests/harness/permission.ts); plain WebRTC test pages through
// CDP's Browser.grantPermissions (tests/lab/webrtc-peer.ts, tests/integration/relay-chromium.test.ts).

export interface LaunchOptions {
  /** Unpacked extension to load; defaults to the Chrome build in .output/. */
  extensionDir?: string;
  /** Extra Chromium flags (fake audio file, loopback ICE, …). */
  args?: string[];
  /** Reuse a profile (to test persistence across restarts); else a fresh temp dir. */
  userDataDir?: string;
  /** No fake capture device: the browser has no microphone at all (error-path tests). */
  noFakeMedia?: boolean;
  /**
   * The microphone permission at launch. No launch flag grants it (no
   * the fake-UI permission flag; the fake capture device stays): by default
   * ('granted') the harness grants it as a person does, through the welcome page
   * Hush opens on install (its "Allow microphone" button, the grant recorded as
   * Chrome records a click on Allow: tests/harness/permission.ts), then closes
   * that tab. 'prompt' leaves it as in a fresh profile (the permission tests).
   */
  micPermission?: 'granted' | 'prompt';
  /** Same as micPermission: 'prompt' (the first-run test's name for it). */
  realPermissionUi?: boolean;
  /** Keep the welcome tab Hush opens on install (else it is closed as soon as it appears: see closeWelcomeTab). */
  keepWelcome?: boolean;
}

export interface HushBrowser {
  browser: Browser;
  extensionId: string;
  profileDir: string;
  /** The extension's service worker. */
  worker(): Promise<WebWorker>;
  /** Open the popup as a tab (same document the toolbar shows). */
  openPopup(): Promise<Page>;
  /** The offscreen document, once the background created it. */
  offscreen(timeoutMs?: number): Promise<Page>;
  close(): Promise<void>;
}

export async function launchWithExtension(opts: LaunchOptions = {}): Promise<HushBrowser> {
  const extensionDir = opts.extensionDir ?? EXTENSION_DIR;
  if (!existsSync(join(extensionDir, 'manifest.json'))) {
    throw new Error(`no built extension at ${extensionDir}: run \`npm run build\` first`);
  }
  const ownProfile = !opts.userDataDir;
  const profileDir = opts.userDataDir ?? (await mkdtemp(join(tmpdir(), 'hush-profile-')));
  const browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    pipe: true,
    enableExtensions: [extensionDir],
    userDataDir: profileDir,
    args: [
      ...BASE_FLAGS.filter((f) => !(opts.noFakeMedia && f === '--use-fake-device-for-media-stream')),
      ...(opts.args ?? []),
    ],
  });

  try {
    return await attachExtension(
      browser,
      profileDir,
      async () => {
        await browser.close().catch(() => browser.process()?.kill('SIGKILL'));
        if (ownProfile) await rm(profileDir, { recursive: true, force: true });
      },
      { keepWelcome: opts.keepWelcome, micPermission: opts.realPermissionUi ? 'prompt' : opts.micPermission },
    );
  } catch (e) {
    await browser.close().catch(() => browser.process()?.kill('SIGKILL'));
    if (ownProfile) await rm(profileDir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Hush opens its welcome tab on install (entrypoints/background.ts), a moment
 * after the service worker starts: it would take the focus from the page a
 * test opened meanwhile, and puppeteer's clicks in a hidden tab wait forever.
 * Tests that do not look at it close it as soon as it appears
 * (tests/e2e/first-run.test.ts keeps it).
 */
function closeWelcomeTab(browser: Browser, extensionId: string): void {
  const url = `chrome-extension://${extensionId}/welcome.html`;
  const close = (t: Target) => {
    if (t.type() === 'page' && t.url() === url) void t.page().then((p) => p?.close()).catch(() => {});
  };
  browser.on('targetcreated', close);
  browser.on('targetchanged', close);
  for (const t of browser.targets()) close(t);
}

/**
 * The HushBrowser handle of a launched browser that loaded the extension:
 * waits for its service worker and knows its id. Shared by the host harness
 * and the lab's namespaced launcher (tests/lab/chromium-in-ns.ts).
 */
export async function attachExtension(
  browser: Browser,
  profileDir: string,
  close: () => Promise<void>,
  opts: { keepWelcome?: boolean; micPermission?: 'granted' | 'prompt' } = {},
): Promise<HushBrowser> {
  const swTarget = await browser.waitForTarget(
    (t) => t.type() === 'service_worker' && t.url().endsWith('/background.js'),
    { timeout: 30_000 },
  );
  const extensionId = new URL(swTarget.url()).host;
  const grant = (opts.micPermission ?? 'granted') === 'granted';
  if (!opts.keepWelcome && !grant) closeWelcomeTab(browser, extensionId);
  const hush: HushBrowser = {
    browser,
    extensionId,
    profileDir,
    async worker() {
      const w = await swTarget.worker();
      if (!w) throw new Error('service worker target has no worker');
      // The worker's context can attach before the extension APIs are bound into it.
      await waitFor(() => w.evaluate(() => !!(globalThis as { chrome?: { runtime?: { id?: string } } }).chrome?.runtime?.id), {
        timeout: 10_000,
        what: 'the extension APIs to appear in the service worker',
      });
      return w;
    },
    async openPopup() {
      const page = await browser.newPage();
      await page.goto(`chrome-extension://${extensionId}/popup.html`);
      return page;
    },
    async offscreen(timeoutMs = 15_000) {
      const t = await browser.waitForTarget((t) => t.url() === `chrome-extension://${extensionId}/offscreen.html`, { timeout: timeoutMs });
      return t.asPage();
    },
    close,
  };
  if (grant) {
    await grantAtLaunch(hush);
    if (!opts.keepWelcome) closeWelcomeTab(browser, extensionId);
  }
  return hush;
}

/**
 * The person's first gesture after install: on the welcome page Hush opened (or, in a
 * reused profile where no install happens, one the harness opens), click "Allow
 * microphone" like a person (grantMicrophoneLikeAPerson), then close the page.
 */
async function grantAtLaunch(hush: HushBrowser): Promise<void> {
  const url = `chrome-extension://${hush.extensionId}/welcome.html`;
  const target = await hush.browser.waitForTarget((t) => t.type() === 'page' && t.url() === url, { timeout: 10_000 }).catch(() => undefined);
  const page = (await target?.page()) ?? (await hush.browser.newPage());
  if (!target) await page.goto(url);
  await page.bringToFront();
  await grantMicrophoneLikeAPerson(hush, page, 20_000, { acceptAnyAnswer: true });
  await page.close().catch(() => {});
}
