/**
 * Smoke: the built extension loads in Debian's Chromium, its service worker
 * starts, the popup renders, and the popup → background → offscreen round trip
 * works (the offscreen document answers with its media capabilities).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { launchWithExtension, type HushBrowser } from '../harness/chromium';

let hb: HushBrowser;
beforeAll(async () => {
  hb = await launchWithExtension();
});
afterAll(async () => {
  await hb?.close();
});

test('service worker starts with a stable extension id', async () => {
  expect(hb.extensionId).toMatch(/^[a-p]{32}$/);
  const w = await hb.worker();
  expect(await w.evaluate(() => typeof (globalThis as unknown as { chrome: { runtime: { id: string } } }).chrome.runtime.id)).toBe('string');
});

test('popup renders and reaches the offscreen document through the background', async () => {
  const popup = await hb.openPopup();
  await popup.waitForSelector('h1');
  expect(await popup.$eval('h1', (e) => e.textContent)).toBe('Hush');
  await popup.waitForFunction(
    () => document.querySelector('[data-testid="media-status"]')?.textContent !== 'Connecting…',
    { timeout: 20_000 },
  );
  expect(await popup.$eval('[data-testid="media-status"]', (e) => e.textContent)).toBe('Media ready');

  // The offscreen document exists and has the APIs the call needs.
  const off = await hb.offscreen();
  const caps = await off.evaluate(() => ({
    pc: typeof RTCPeerConnection,
    st: typeof (globalThis as { RTCRtpScriptTransform?: unknown }).RTCRtpScriptTransform,
  }));
  expect(caps).toEqual({ pc: 'function', st: 'function' });
});
