/**
 * Smoke: the built extension loads in Debian's Chromium, its service worker
 * starts, the popup renders the identity, the popup → background → offscreen
 * round trip works, and the identity survives a browser restart.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchWithExtension, type HushBrowser } from '../harness/chromium';

let hb: HushBrowser;
let profile: string;
beforeAll(async () => {
  profile = await mkdtemp(join(tmpdir(), 'hush-smoke-'));
  hb = await launchWithExtension({ userDataDir: profile });
});
afterAll(async () => {
  await hb?.close();
  await rm(profile, { recursive: true, force: true });
});

test('service worker starts with a stable extension id', async () => {
  expect(hb.extensionId).toMatch(/^[a-p]{32}$/);
  await hb.worker();
});

let address = '';
test('popup renders the identity and reaches the offscreen document through the background', async () => {
  const popup = await hb.openPopup();
  await popup.waitForSelector('[data-testid="my-address"]', { timeout: 20_000 });
  address = await popup.$eval('[data-testid="my-address"]', (e) => e.textContent ?? '');
  expect(address).toMatch(/^hush1[02-9ac-hj-np-z]{38}$/);

  const status = await popup.evaluate(() =>
    (globalThis as unknown as { chrome: { runtime: { sendMessage(m: unknown): Promise<unknown> } } }).chrome.runtime.sendMessage({
      target: 'background',
      kind: 'status',
    }),
  );
  expect(status).toMatchObject({ ok: true, value: { offscreen: { kind: 'pong', capabilities: { peerConnection: true, scriptTransform: true } } } });

  const off = await hb.offscreen();
  expect(await off.evaluate(() => typeof RTCPeerConnection)).toBe('function');
});

test('the identity survives a browser restart', async () => {
  await hb.browser.close();
  hb = await launchWithExtension({ userDataDir: profile });
  const popup = await hb.openPopup();
  await popup.waitForSelector('[data-testid="my-address"]', { timeout: 20_000 });
  expect(await popup.$eval('[data-testid="my-address"]', (e) => e.textContent)).toBe(address);
});
