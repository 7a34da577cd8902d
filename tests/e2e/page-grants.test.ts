/**
 * Issue 13, in a real Chromium with real clicks: "Always allow" is per
 * (https origin, address), and the in-page call bar follows its setting.
 *
 * The https page is served by a local TLS server with a certificate made in
 * the test (tests/harness/tls-cert.ts); Chromium trusts exactly that key with
 * `--ignore-certificate-errors-spki-list` (a TLS switch: it grants no
 * permission). The http page is the same page on a plain server.
 *
 * - Always on https → the next request from that origin to the same address
 *   rings with no consent window; to another address, or from another
 *   origin (localhost vs 127.0.0.1) or the http page, the window asks again;
 *   an http page is never offered "Always".
 * - "Show a call bar on the page that started the call": on, the bar shows on
 *   the starting tab only (not on another tab of the same browser where
 *   Hush's page script is loaded too); off, no bar anywhere, and the call
 *   still connects and is hung up from the popup.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'puppeteer-core';
import { identityFromSeed } from '../../lib/crypto/identity';
import { addressFromBundle } from '../../lib/crypto/address';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { callState, click, hangUpAll, launchSide, request, waitCallState, type HushSide } from '../harness/hush';
import { answerConsent, consentTargets, consentWindow } from '../harness/consent';
import { barClick, barRoot, gotoWithHush, pageClick, startPageServer, waitBar, type PageServer } from '../harness/ui';
import { selfSignedCert, spkiSha256 } from '../harness/tls-cert';
import { sleep, waitFor } from '../harness/wait';

let relay: RelayProcess;
let https: PageServer;
let http: PageServer;
let a: HushSide;
let b: HushSide;
/** A third, valid address nobody answers: "another address" (its consent is always denied). */
const carol = addressFromBundle(identityFromSeed().bundleBytes);

const shop = (bob: string, other: string) => `<!doctype html><html lang="en"><head><title>Bob's shop</title></head><body>
<h1>Bob's shop</h1>
<button id="callme" type="button">Call Bob</button>
<button id="other" type="button">Call someone else</button>
<script>
  window.statuses = [];
  addEventListener('message', (e) => { if (e.data && e.data.type === 'hush:call-status') statuses.push(e.data.id + ':' + e.data.status); });
  document.getElementById('callme').onclick = () => postMessage({ type: 'hush:call', address: '${bob}', id: 'bob' }, '*');
  document.getElementById('other').onclick = () => postMessage({ type: 'hush:call', address: '${other}', id: 'other' }, '*');
</script></body></html>`;

const statuses = (p: Page) => p.evaluate(() => (window as unknown as { statuses: string[] }).statuses);
async function waitStatus(p: Page, s: string): Promise<void> {
  await waitFor(async () => (await statuses(p)).includes(s), { timeout: 20_000, what: async () => `"${s}" on the page (got ${JSON.stringify(await statuses(p))})` });
}
async function clearStatuses(p: Page): Promise<void> {
  await p.evaluate(() => ((window as unknown as { statuses: string[] }).statuses = []));
}

async function endAll(): Promise<void> {
  await hangUpAll(a, b);
  await Promise.all([request(a.popup, 'dismiss-call'), request(b.popup, 'dismiss-call')]);
}

/** A's options page, as a person opens it. */
async function options(): Promise<Page> {
  const p = await a.hb.browser.newPage();
  await p.goto(`chrome-extension://${a.hb.extensionId}/options.html`);
  await p.waitForSelector('[data-testid="page-indicator"]', { timeout: 15_000 });
  return p;
}

/** No bar on any of `pages`, checked again and again over `ms`. */
async function noBarAnywhere(pages: Page[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    for (const p of pages) expect(await barRoot(p)).toBeNull();
    await sleep(250); // intent: checked again and again over a window in which no bar may appear
  }
}

beforeAll(async () => {
  const tls = selfSignedCert();
  relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
  https = await startPageServer({ tls });
  http = await startPageServer();
  const args = [`--ignore-certificate-errors-spki-list=${spkiSha256(tls.cert)}`];
  [a, b] = await Promise.all([
    launchSide({ toneHz: 440, signalUrl: relay.signalUrl, args }),
    launchSide({ toneHz: 880, signalUrl: relay.signalUrl, args }),
  ]);
  for (const s of [https, http]) s.set('/shop', shop(b.address, carol));
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([a?.close(), b?.close()]);
  await relay?.stop();
  await Promise.allSettled([https?.close(), http?.close()]);
});

describe('"Always allow" is per (https origin, address)', () => {
  test('always on https: the same address rings with no window; another address, another origin and http ask again', async () => {
    const page = await a.hb.browser.newPage();
    await gotoWithHush(page, `${https.url}/shop`);
    expect(await page.evaluate(() => window.isSecureContext && location.protocol)).toBe('https:');

    // First request: Hush's window offers "Always" on this https page; the person clicks it.
    await pageClick(page, '#callme');
    const w = await consentWindow(a);
    expect(await w.$eval('[data-testid="consent-question"]', (e) => e.textContent)).toContain(https.url);
    expect(await w.$('[data-testid="consent-always"]')).not.toBeNull();
    await answerConsent(a, 'consent-always');
    await waitCallState(b.popup, 'incoming');
    await waitStatus(page, 'bob:started');
    await request(b.popup, 'hangup');
    await waitStatus(page, 'bob:ended');
    await endAll();

    // The grant is listed on the options page as (origin → address).
    const opts = await options();
    await opts.waitForSelector(`[data-testid="site"][data-origin="${https.url} ${b.address}"]`, { timeout: 10_000 });
    expect(await opts.$$eval('[data-testid="site"]', (ls) => ls.map((l) => l.getAttribute('data-origin')))).toEqual([`${https.url} ${b.address}`]);
    await opts.close();

    // Second request from that origin to that address: B rings, and no window ever opened.
    await clearStatuses(page);
    await pageClick(page, '#callme');
    await waitCallState(b.popup, 'incoming');
    await waitStatus(page, 'bob:started');
    expect(consentTargets(a)).toEqual([]);
    await request(b.popup, 'hangup');
    await waitStatus(page, 'bob:ended');
    await endAll();

    // Same origin, another address: the window asks (and offers "Always" for that one).
    await clearStatuses(page);
    await pageClick(page, '#other');
    const w2 = await consentWindow(a);
    expect(await w2.$eval('[data-testid="consent-question"]', (e) => e.textContent)).toContain(carol);
    expect(await w2.$('[data-testid="consent-always"]')).not.toBeNull();
    await answerConsent(a, 'consent-deny');
    await waitStatus(page, 'other:declined');
    expect(await callState(b.popup)).toBe('');

    // Same address, another https origin (localhost instead of 127.0.0.1): the window asks.
    const other = await a.hb.browser.newPage();
    await gotoWithHush(other, `${https.altUrl}/shop`);
    await pageClick(other, '#callme');
    const w3 = await consentWindow(a);
    expect(await w3.$eval('[data-testid="consent-question"]', (e) => e.textContent)).toContain(https.altUrl);
    await answerConsent(a, 'consent-deny');
    await waitStatus(other, 'bob:declined');
    await other.close();

    // The http page of the same host, same address: asked, and never offered "Always".
    const plain = await a.hb.browser.newPage();
    await gotoWithHush(plain, `${http.url}/shop`);
    await pageClick(plain, '#callme');
    const w4 = await consentWindow(a);
    expect(await w4.$eval('[data-testid="consent-question"]', (e) => e.textContent)).toContain(http.url);
    expect(await w4.$('[data-testid="consent-once"]')).not.toBeNull();
    expect(await w4.$('[data-testid="consent-always"]')).toBeNull();
    await answerConsent(a, 'consent-deny');
    await waitStatus(plain, 'bob:declined');
    await plain.close();
    expect(await callState(b.popup)).toBe('');
    await page.close();
  }, 180_000);
});

describe('"Show a call bar on the page that started the call"', () => {
  let starter: Page;
  let otherTab: Page;
  let bPage: Page;

  beforeAll(async () => {
    // Another tab where Hush's page script is loaded too (a request there, denied), so a bar could show.
    otherTab = await a.hb.browser.newPage();
    await gotoWithHush(otherTab, `${http.url}/shop`);
    await pageClick(otherTab, '#callme');
    await answerConsent(a, 'consent-deny');
    await waitStatus(otherTab, 'bob:declined');
    bPage = await b.hb.browser.newPage();
    await gotoWithHush(bPage, `${http.url}/shop`);
    starter = await a.hb.browser.newPage();
    await gotoWithHush(starter, `${http.url}/shop`);
  }, 60_000);

  /** The starting tab asks, the person allows once in Hush's window, B accepts in its popup. */
  async function callFromStarter(): Promise<void> {
    await pageClick(starter, '#callme');
    await answerConsent(a, 'consent-once');
    await waitCallState(b.popup, 'incoming');
    await b.popup.bringToFront();
    await click(b.popup, 'accept');
    await waitCallState(a.popup, 'connected');
  }

  test('on (the default): the bar shows on the starting tab only', async () => {
    await callFromStarter();
    await starter.bringToFront();
    await waitBar(starter, 'bar-state', (t) => t === 'Connected');
    expect(await barRoot(otherTab)).toBeNull();
    expect(await barRoot(bPage)).toBeNull();
    // The bar's hang-up is a shortcut that works.
    await barClick(starter, 'bar-hangup');
    await waitCallState(b.popup, 'ended');
    await waitBar(starter, 'bar-end-message');
    await barClick(starter, 'bar-close');
    await waitFor(async () => (await barRoot(starter)) === null, { timeout: 10_000, what: 'the bar to close' });
    await endAll();
  }, 120_000);

  test('off: no bar anywhere; the call still connects and is hung up from the popup', async () => {
    const opts = await options();
    await opts.bringToFront();
    expect(await opts.$eval('[data-testid="page-indicator"]', (e) => (e as HTMLInputElement).checked)).toBe(true);
    await opts.click('[data-testid="page-indicator"]');
    await waitFor(async () => ((await request(a.popup, 'get-view')) as { settings: { pageIndicator?: boolean } }).settings.pageIndicator === false, {
      timeout: 10_000,
      what: 'the setting to be saved off',
    });
    await opts.close();

    await clearStatuses(starter);
    await callFromStarter();
    await waitStatus(starter, 'bob:started');
    await starter.bringToFront();
    await noBarAnywhere([starter, otherTab], 2500);
    expect(await barRoot(bPage)).toBeNull();

    await a.popup.bringToFront();
    await click(a.popup, 'hangup');
    await waitCallState(b.popup, 'ended');
    await waitStatus(starter, 'bob:ended');
    expect(await barRoot(starter)).toBeNull();
    await endAll();
  }, 120_000);
});
