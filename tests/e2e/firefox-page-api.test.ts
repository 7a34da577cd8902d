/**
 * The page API in Firefox (issues 12 and 13): a web page's `hush:call`, posted
 * from a real click, wakes the tiny content script (page-loader.js), which
 * imports the on-demand chunk (page-bar.js, web-accessible); the background
 * opens Hush's consent window with `windows.create` (popup.html#consent=…);
 * Allow once there dials; the in-page bar shows the call on the tab that
 * started it and on no other; its Hang up ends the call. Every step is a real
 * click: puppeteer's mouse over WebDriver BiDi in the page and in Hush's
 * window, the bar read through BiDi's closed-shadow-root serialisation
 * (tests/harness/firefox-bar.ts).
 *
 * No network namespace: nothing here needs ICE (Firefox gathers no candidates
 * on this loopback-only host): the call is ended from the bar while it rings.
 * The callee is a Chromium with Hush on the same relay.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'puppeteer-core';
import { EXTENSION_DIR } from '../harness/chromium';
import { FIREFOX_EXTENSION_DIR, firefoxAvailable } from '../harness/firefox';
import { launchFirefoxSide, type FirefoxSide } from '../harness/firefox-hush';
import { ffBarClick, ffBarHas, ffBarRoot, ffEvaluateWithoutGesture, ffWaitBar } from '../harness/firefox-bar';
import { callState, launchSide, LIVE_STATES, request, waitCallState, type HushSide } from '../harness/hush';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { startPageServer, withTimeout, type PageServer } from '../harness/ui';
import { sleep, waitFor } from '../harness/wait';

const built = existsSync(join(FIREFOX_EXTENSION_DIR, 'manifest.json')) && existsSync(join(EXTENSION_DIR, 'manifest.json'));
const haveFirefox = firefoxAvailable();
if (!built) console.warn('Firefox page-API tests skipped: build both (`npx wxt build && npx wxt build -b firefox`)');
if (!haveFirefox) console.warn('Firefox page-API tests skipped: firefox-esr is not installed');

const shopPage = (bob: string) => `<!doctype html><html lang="en"><head><title>Bob's shop</title></head><body>
<h1>Bob's shop</h1>
<button id="callme" type="button" style="font-size: 20px; padding: 10px">Call me securely</button>
<script>
  window.statuses = [];
  window.addEventListener('message', (e) => { if (e.source === window && e.data && e.data.type === 'hush:call-status') window.statuses.push(e.data); });
  document.getElementById('callme').onclick = () => window.postMessage({ type: 'hush:call', address: '${bob}', id: 'ff1' }, window.location.origin);
</script></body></html>`;

const statuses = (p: Page) => p.evaluate(() => (window as unknown as { statuses: unknown[] }).statuses);

async function waitStatuses(p: Page, n: number): Promise<unknown[]> {
  return waitFor(
    async () => {
      const s = await statuses(p);
      return s.length >= n && s;
    },
    { timeout: 15_000, interval: 150, what: async () => `${n} call-status messages on the page (got ${JSON.stringify(await statuses(p))})` },
  );
}

describe.skipIf(!built || !haveFirefox)('the page API in Firefox', () => {
  let relay: RelayProcess;
  let web: PageServer;
  let a: FirefoxSide;
  let b: HushSide;

  beforeAll(async () => {
    relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
    web = await startPageServer();
    [a, b] = await Promise.all([launchFirefoxSide({ signalUrl: relay.signalUrl }), launchSide({ toneHz: 880, signalUrl: relay.signalUrl })]);
    web.set('/shop', shopPage(b.address));
    web.set('/news', '<!doctype html><html><head><title>News</title></head><body><h1>Today</h1><p>Nothing happened.</p></body></html>');
  });

  // Whatever a failed attempt left (vitest retries once): no call, nothing to dismiss.
  afterEach(async () => {
    for (const p of [a.popup, b.popup]) {
      if (LIVE_STATES.includes(await callState(p))) await request(p, 'hangup').catch(() => {});
      await request(p, 'dismiss-call').catch(() => {});
    }
    for (const p of await a.fb.browser.pages()) if (/\/(shop|news)$/.test(p.url())) await p.close().catch(() => {});
  });

  afterAll(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    await relay?.stop();
    await web?.close();
  });

  test("hush:call with a click opens Hush's consent window; Allow once dials; the bar shows on that tab only; its Hang up ends the call", async () => {
    const news = await a.fb.browser.newPage();
    await news.goto(`${web.url}/news`, { waitUntil: 'load' });
    const shop = await a.fb.browser.newPage();
    await shop.goto(`${web.url}/shop`, { waitUntil: 'load' });
    expect(await ffBarRoot(shop)).toBeNull(); // nothing on the page until it asks

    // Without a user gesture: no answer of any kind, no window, nothing loaded (docs/page-api.md).
    expect(await ffEvaluateWithoutGesture(shop, 'navigator.userActivation.isActive')).toBe(false);
    await ffEvaluateWithoutGesture(shop, `window.postMessage({ type: 'hush:call', address: ${JSON.stringify(b.address)}, id: 'silent' }, location.origin)`);
    await sleep(2000); // intent: a window in which no answer and no consent window may appear
    expect(await statuses(shop)).toEqual([]);
    expect(await ffBarRoot(shop)).toBeNull();
    await expect(a.fb.findPage((href) => href.startsWith(a.url('popup.html#consent=')), 500)).rejects.toThrow();
    expect(await callState(b.popup)).toBe('');

    // The page asks, from a real click on its own button.
    await withTimeout(shop.bringToFront(), 5000, 'bringToFront');
    await withTimeout(shop.click('#callme'), 10_000, 'click #callme');
    const consent = await a.fb.findPage((href) => href.startsWith(a.url('popup.html#consent=')), 15_000);
    await consent.waitForSelector('[data-testid="consent"]', { visible: true, timeout: 10_000 });
    expect(await consent.$eval('[data-testid="consent-question"]', (e) => e.textContent)).toContain(web.url);
    expect(await consent.$('[data-testid="consent-always"]')).toBeNull(); // an http page: once only
    // It is a window of its own (windows.create type "popup": no toolbars), not a tab of the page's window.
    const windows = await a.fb.chrome<{ url: string; popup: boolean }[]>(`
      const out = [];
      for (const win of Services.wm.getEnumerator('navigator:browser')) {
        for (const tab of win.gBrowser.tabs) out.push({ url: tab.linkedBrowser.currentURI.spec, popup: !win.toolbar.visible });
      }
      return out;`);
    const consentWindows = windows.filter((w) => w.url.startsWith(a.url('popup.html#consent=')));
    expect(consentWindows).toEqual([expect.objectContaining({ popup: true })]);
    expect(await statuses(shop)).toEqual([]); // nothing answered before the person decides
    expect(await callState(b.popup)).toBe('');

    await consent.bringToFront();
    await consent.click('[data-testid="consent-once"]');
    await waitFor(() => consent.isClosed() || consent.evaluate(() => false).catch(() => true), { timeout: 10_000, what: 'the consent window to close' });

    await waitCallState(b.popup, 'incoming');
    expect(await waitStatuses(shop, 1)).toEqual([{ type: 'hush:call-status', id: 'ff1', status: 'started' }]);
    expect(await b.popup.$eval('[data-testid="call-peer"]', (e) => e.getAttribute('data-address'))).toBe(a.address);

    // The bar: on the tab that started the call, in a closed shadow root, naming the callee's state.
    await withTimeout(shop.bringToFront(), 5000, 'bringToFront');
    const state = await ffWaitBar(shop, 'bar-state', (t) => /Ringing|Calling/.test(t));
    const root = await ffBarRoot(shop);
    expect(root?.mode).toBe('closed');
    // The page itself sees the host element, never inside it.
    expect(await shop.evaluate(() => {
      const host = document.querySelector('hush-call-bar');
      return host ? String(host.shadowRoot) : 'no host';
    })).toBe('null');
    // …and on no other tab.
    expect(await ffBarRoot(news)).toBeNull();
    expect(await ffBarHas(news, 'bar-hangup')).toBe(false);
    console.info(`firefox page API: bar shows "${state}" on the shop tab, nothing on the news tab`);

    // Hang up from the bar, with the mouse.
    await ffBarClick(shop, 'bar-hangup');
    await waitCallState(b.popup, 'ended');
    await waitCallState(a.popup, 'ended');
    expect((await waitStatuses(shop, 2))[1]).toEqual({ type: 'hush:call-status', id: 'ff1', status: 'ended' });
    // The caller ended it before anyone answered: "cancelled", as in the popup.
    expect(await ffWaitBar(shop, 'bar-end-message')).toBe('Call cancelled.');
    await ffBarClick(shop, 'bar-close');
    await waitFor(async () => (await ffBarRoot(shop)) === null, { timeout: 10_000, what: 'the bar to leave the page once closed' });
    expect(await statuses(shop)).toHaveLength(2);
  }, 120_000);
});
