/**
 * Issue 13: a hostile page, driven with real mouse clicks at real
 * coordinates, and a content-script-level attacker (CDP evaluate in the
 * extension's isolated world). The page lays a decoy over where Hush's UI
 * used to appear, opens a top-layer popover, stops every click and logs
 * every key in capture listeners on window, and sends `hush:call` without a
 * gesture. Shown: no call starts or is accepted without a click in the
 * extension's own window; hang up works from the extension's UI; the page
 * gets no answer without a gesture and no key events from Hush's controls;
 * the isolated world cannot make the media host answer nor the background
 * dial, accept or hand out the view.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Page } from 'puppeteer-core';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { callState, click, hangUpAll, launchSide, request, waitCallState, type HushSide } from '../harness/hush';
import { isolatedWorld, type IsolatedWorld } from '../harness/isolated-world';
import { startPageServer, type PageServer } from '../harness/ui';
import { consentTargets, consentWindow } from '../harness/consent';
import { sleep, waitFor } from '../harness/wait';

let relay: RelayProcess;
let web: PageServer;
let a: HushSide;
let b: HushSide;

const hostile = (bob: string) => `<!doctype html><html><head><title>Free videos</title><style>
  body { margin: 0; font: 16px sans-serif; height: 100vh; }
  #play { position: fixed; left: 40px; top: 40px; width: 200px; height: 60px; }
  #decoy { position: fixed; inset: 0; pointer-events: none; z-index: 2147483647; background: rgba(255,255,255,.01); }
  #decoy b { position: fixed; right: 16px; bottom: 16px; width: 360px; height: 200px; background: #c00; color: #fff; }
</style></head><body>
<button id="play">Play video</button>
<div id="decoy"><b>Play video ▶</b></div>
<div id="pop" popover="manual" style="inset: auto 0 0 auto; width: 400px; height: 240px">Top layer</div>
<script>
  window.log = { statuses: [], keys: [], clicks: 0 };
  document.getElementById('pop').showPopover();
  addEventListener('message', (e) => { if (e.data && e.data.type === 'hush:call-status') log.statuses.push({ ...e.data, t: performance.now() }); });
  for (const k of ['keydown', 'keyup', 'keypress']) addEventListener(k, (e) => log.keys.push(e.key), true);
  addEventListener('click', (e) => { log.clicks++; e.stopImmediatePropagation(); e.preventDefault(); }, true);
  // No gesture: a probe for "is Hush installed".
  log.probeAt = performance.now();
  postMessage({ type: 'hush:call', address: '${bob}', id: 'probe' }, '*');
  // With a gesture (pointerdown: the page's own capture listener stops clicks).
  document.getElementById('play').addEventListener('pointerdown', () => postMessage({ type: 'hush:call', address: '${bob}', id: 'play' }, '*'));
</script></body></html>`;

type Log = { statuses: { id: string; status: string }[]; keys: string[]; clicks: number };
const log = (p: Page) => p.evaluate(() => (window as unknown as { log: Log }).log);

async function realClick(p: Page, selector: string): Promise<void> {
  await p.bringToFront();
  const box = await (await p.waitForSelector(selector, { visible: true }))!.boundingBox();
  await p.mouse.click(box!.x + box!.width / 2, box!.y + box!.height / 2);
}
/** Whatever the isolated world gets back from a runtime message: the answer, or that none came. */
const probe = (msg: object) =>
  `chrome.runtime.sendMessage(${JSON.stringify(msg)}).then((r) => ({ answered: r !== undefined, r }), (e) => ({ answered: false, err: String(e) }))`;

beforeAll(async () => {
  relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
  web = await startPageServer();
  [a, b] = await Promise.all([launchSide({ toneHz: 440, signalUrl: relay.signalUrl }), launchSide({ toneHz: 880, signalUrl: relay.signalUrl })]);
  web.set('/hostile', hostile(b.address));
}, 90_000);
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await web?.close();
  await relay?.stop();
});

test('no answer without a gesture; no call without a click in the extension window; no keys reach the page; hang up works', async () => {
  const page = await a.hb.browser.newPage();
  await page.goto(web.url + '/hostile', { waitUntil: 'load' });
  await page.bringToFront();
  await sleep(1500); // intent: a window in which an answer to the gesture-less probe would arrive
  expect((await log(page)).statuses).toEqual([]);
  expect(consentTargets(a)).toEqual([]);
  expect(await callState(a.popup)).toBe('');

  // A real click on the page's button: Hush opens its own window, and nothing starts before the person clicks there.
  await realClick(page, '#play');
  const consent = await consentWindow(a);
  // The same clicks where the bar and prompt used to be: the decoy and the popover take them, nothing happens.
  const vp = page.viewport() ?? { width: 800, height: 600 };
  await page.bringToFront();
  for (const [dx, dy] of [[60, 40], [150, 60], [250, 90]] as const) await page.mouse.click(vp.width - dx, vp.height - dy);
  await sleep(1000); // intent: a call that a page click could start would show by now
  expect(await callState(a.popup)).toBe('');
  expect((await log(page)).statuses).toEqual([]);
  // Keys typed in Hush's window never reach the page.
  const keysBefore = (await log(page)).keys.length;
  await consent.bringToFront();
  await consent.keyboard.press('Tab');
  await consent.keyboard.type('secret');
  expect((await log(page)).keys.length).toBe(keysBefore);
  // Fixed size, and no "always" for an http origin.
  expect(await consent.$('[data-testid="consent-always"]')).toBeNull();

  await realClick(consent, '[data-testid="consent-once"]');
  await waitFor(async () => (await log(page)).statuses.some((s) => s.id === 'play' && s.status === 'started'), { timeout: 15_000, what: 'started' });
  expect((await log(page)).statuses.filter((s) => s.id === 'probe')).toEqual([]);
  await waitCallState(b.popup, 'incoming');

  // During the call both offscreen documents exist: neither answers a content script.
  for (const side of [a, b]) {
    await side.hb.offscreen();
    const p = await side.hb.browser.newPage();
    await p.goto(web.url + '/hostile', { waitUntil: 'load' });
    const w = await isolatedWorld(p, side.hb.extensionId);
    expect(await w.run(probe({ target: 'offscreen', kind: 'ping', nonce: 'x' }))).toMatchObject({ answered: false });
    expect(await w.run(probe({ target: 'offscreen', kind: 'ring', on: true }))).toMatchObject({ answered: false });
    expect(await w.run(probe({ target: 'offscreen', kind: 'media-start', opts: {} }))).toMatchObject({ answered: false });
    await p.close();
  }

  // B's page is as hostile, and B's isolated world tries to accept: it stays incoming.
  const bPage = await b.hb.browser.newPage();
  await bPage.goto(web.url + '/hostile', { waitUntil: 'load' });
  const iso = await isolatedWorld(bPage, b.hb.extensionId);
  expect(await iso.run(probe({ target: 'background', kind: 'accept' }))).toMatchObject({ answered: false });
  await iso.run(`new Promise((res) => { const p = chrome.runtime.connect({ name: 'page' }); p.postMessage({ kind: 'accept' }); setTimeout(res, 500); })`);
  await sleep(1000); // intent: an accept that got through would have moved B on by now
  expect(await callState(b.popup)).toBe('incoming');
  // No in-page indicator on a tab that did not start the call (the callee's page learns nothing of it).
  expect(await bPage.evaluate(() => document.querySelector('hush-call-bar'))).toBeNull();

  // Hang up from the extension's UI: the page's click-swallowing cannot reach it.
  await a.popup.bringToFront();
  await click(a.popup, 'hangup');
  await waitFor(async () => !['incoming', 'calling', 'ringing', 'connecting', 'connected'].includes(await callState(a.popup)), { timeout: 10_000, what: 'A hung up' });
  await waitFor(async () => (await log(page)).statuses.some((s) => s.id === 'play' && s.status === 'ended'), { timeout: 10_000, what: 'ended' });
  await hangUpAll(a, b);
  await Promise.all([request(a.popup, 'dismiss-call'), request(b.popup, 'dismiss-call')]);
  await bPage.close();
  await page.close();
}, 120_000);

test('the isolated world cannot make the media host answer, nor the background dial, accept or give out the view', async () => {
  const page = await a.hb.browser.newPage();
  await page.goto(web.url + '/hostile', { waitUntil: 'load' });
  const iso: IsolatedWorld = await isolatedWorld(page, a.hb.extensionId);
  for (const kind of ['get-view', 'dial', 'accept', 'status']) {
    expect(await iso.run(probe({ target: 'background', kind, address: b.address })), kind).toMatchObject({ answered: false });
  }
  expect(await iso.run(probe({ target: 'background', kind: 'page-consent-answer', token: '0'.repeat(32), answer: 'always' }))).toMatchObject({ answered: false });
  // The page port's dial with a forged "always": it only opens Hush's window, no call starts.
  const before = consentTargets(a).length;
  await iso.run(`new Promise((res) => { const p = chrome.runtime.connect({ name: 'page' }); p.postMessage({ kind: 'dial', reqId: 1, address: ${JSON.stringify(b.address)}, via: 'page', always: true }); setTimeout(res, 1000); })`);
  await sleep(1000); // intent: a dial that got through would show in the popup by now
  expect(await callState(a.popup)).not.toMatch(/calling|ringing|connect/);
  expect(await callState(b.popup)).toBe('');
  expect(consentTargets(a).length).toBeGreaterThanOrEqual(before);
  await page.close();
}, 60_000);
