/**
 * A person's first run in Chrome, without the permission-granting flag
 * (issue 12): the bug (the offscreen document cannot ask for the microphone),
 * the welcome page that opens on install, its microphone step with the real
 * permission flow (Hush's button, then the grant recorded as Chrome records a
 * click on Allow), the level meter, the offscreen document's microphone
 * working afterwards, and the blocked state's sentence and settings button;
 * then the same page in a French browser, and the store description from
 * _locales/fr.
 *
 * Needs the Chrome build (`npx wxt build`). One browser, tests in order.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Page } from 'puppeteer-core';
import { launchWithExtension, type HushBrowser } from '../harness/chromium';
import { request } from '../harness/hush';
import {
  PROMPT_IN_HEADLESS,
  grantMicrophoneLikeAPerson,
  micPermissionState,
  micReports,
  micStepState,
  recordMicReports,
  setMicPermission,
} from '../harness/permission';
import { screenshotPath } from '../harness/ui';

let hb: HushBrowser;
let welcome: Page;
beforeAll(async () => {
  hb = await launchWithExtension({ realPermissionUi: true, keepWelcome: true, args: ['--lang=en-US'] });
  await recordMicReports(hb);
});
afterAll(async () => {
  await hb?.close();
});

/** getUserMedia in the offscreen document: 'ok' or the error's name and message. */
async function offscreenGetUserMedia(): Promise<{ result: string; state: string }> {
  const popup = await hb.openPopup();
  await popup.waitForSelector('[data-testid="my-address"]', { timeout: 20_000 });
  // `status` pings the media host, which creates the offscreen document.
  await request(popup, 'status');
  const off = await hb.offscreen();
  const out = await off.evaluate(async () => {
    const state = (await navigator.permissions.query({ name: 'microphone' as PermissionName })).state;
    try {
      const s = await navigator.mediaDevices.getUserMedia({ audio: true });
      s.getTracks().forEach((t) => t.stop());
      return { result: 'ok', state };
    } catch (e) {
      return { result: `${(e as Error).name}: ${(e as Error).message}`, state };
    }
  });
  await popup.close();
  return out;
}

test('(b) the welcome page opens by itself on install', async () => {
  const target = await hb.browser.waitForTarget((t) => t.type() === 'page' && t.url() === `chrome-extension://${hb.extensionId}/welcome.html`, {
    timeout: 20_000,
  });
  welcome = (await target.page())!;
  await welcome.waitForSelector('[data-testid="welcome-address"]');
  await welcome.waitForFunction(() => document.querySelector('[data-testid="welcome-address"]')?.textContent?.startsWith('hush1'), { timeout: 20_000 });
  expect(await welcome.$eval('h1', (e) => e.textContent)).toBe('Welcome to Hush');
  expect(await welcome.$eval('[data-testid="welcome-backup"]', (e) => (e as HTMLAnchorElement).href)).toBe(
    `chrome-extension://${hb.extensionId}/options.html#identity`,
  );
  // No relay configured in this profile: the page says so (offline or still trying), never nothing.
  expect(await welcome.$eval('[data-testid="welcome-relay"]', (e) => e.textContent)).toMatch(/relay/i);
});

test('(a) before any grant, the offscreen document cannot open the microphone: NotAllowedError, state prompt', async () => {
  const r = await offscreenGetUserMedia();
  console.log(`offscreen getUserMedia without a grant: ${r.result} (state ${r.state})`);
  expect(r.result).toMatch(/^NotAllowedError/);
  expect(r.state).toBe('prompt');
  expect(await micPermissionState(welcome)).toBe('prompt');
  expect(await micStepState(welcome)).toBe('prompt');
});

test('headless Chromium answers a real prompt by itself as a Block (measured), and Hush reports it', async () => {
  await welcome.bringToFront();
  const t0 = Date.now();
  await welcome.click('[data-testid="mic-allow"]');
  await welcome.waitForSelector('[data-testid="mic-step"][data-state="denied"]', { timeout: 10_000 });
  console.log(`headless prompt, no grant: ${await micPermissionState(welcome)} after ${Date.now() - t0} ms`);
  expect(await micPermissionState(welcome)).toBe(PROMPT_IN_HEADLESS);
  expect(await micReports(hb)).toEqual(['denied']);
  // Back to a profile that never answered, for the person's Allow below.
  await setMicPermission(hb, 'prompt');
  await welcome.waitForSelector('[data-testid="mic-step"][data-state="prompt"]', { timeout: 10_000 });
});

test('(c) Allow microphone + the recorded grant: granted, the meter moves, the offscreen document opens the microphone', async () => {
  const ms = await grantMicrophoneLikeAPerson(hb, welcome);
  console.log(`click on Allow microphone → page shows granted: ${ms} ms`);
  expect(await micPermissionState(welcome)).toBe('granted');
  expect(await welcome.$eval('[data-testid="mic-granted"]', (e) => e.textContent)).toBe('Microphone allowed.');
  expect((await micReports(hb)).slice(1)).toEqual(['granted']);

  // The level meter (fake capture device: a beep) moves.
  let max = 0;
  const deadline = Date.now() + 8000;
  while (Date.now() < deadline && max < 0.01) {
    max = Math.max(max, Number(await welcome.$eval('[data-testid="mic-level"]', (e) => e.getAttribute('data-level'))));
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(max).toBeGreaterThan(0.01);

  const r = await offscreenGetUserMedia();
  expect(r).toEqual({ result: 'ok', state: 'granted' });
  if (process.env.HUSH_SCREENSHOTS === '1') {
    await welcome.setViewport({ width: 720, height: 900 });
    await welcome.screenshot({ path: screenshotPath('welcome.png'), fullPage: true });
  }
});

test('the permission window says the call goes on once allowed', async () => {
  const page = await hb.browser.newPage();
  await page.goto(`chrome-extension://${hb.extensionId}/permission.html`);
  expect(await page.$eval('h1', (e) => e.textContent)).toBe('Hush needs your microphone for this call.');
  expect(await page.title()).toBe('Hush: microphone');
  await page.waitForSelector('[data-testid="mic-granted"]');
  expect(await page.$eval('[data-testid="mic-granted"]', (e) => e.textContent)).toMatch(/your call goes on/);
  await page.close();
});

test('(d) denied: the sentence says where to lift it, and the button opens Chrome\'s settings for Hush', async () => {
  await setMicPermission(hb, 'denied');
  await welcome.waitForSelector('[data-testid="mic-step"][data-state="denied"]', { timeout: 10_000 });
  const text = await welcome.$eval('[data-testid="mic-denied"]', (e) => e.textContent ?? '');
  expect(text).toContain('Settings → Privacy and security → Site settings → Microphone');
  expect(text).toContain('site settings');

  await welcome.click('[data-testid="mic-settings"]');
  const settings = await hb.browser.waitForTarget((t) => t.url().startsWith('chrome://settings/'), { timeout: 10_000 });
  console.log(`settings button opened: ${settings.url()}`);
  expect(settings.url()).toBe(`chrome://settings/content/siteDetails?site=${encodeURIComponent(`chrome-extension://${hb.extensionId}`)}`);
});

test('a block lifted while the page is open is noticed at once (the permission\'s change event)', async () => {
  await setMicPermission(hb, 'granted');
  await welcome.waitForSelector('[data-testid="mic-step"][data-state="granted"]', { timeout: 5_000 });
  expect((await micReports(hb)).slice(-2)).toEqual(['denied', 'granted']);
});

test('in French: the welcome page, its microphone step, the blocked sentence, and the store description from _locales/fr', async () => {
  const before = process.env.LANGUAGE;
  process.env.LANGUAGE = 'fr';
  let fr: HushBrowser | undefined;
  try {
    fr = await launchWithExtension({ realPermissionUi: true, keepWelcome: true, args: ['--lang=fr', '--accept-lang=fr-FR,fr'] });
  } finally {
    if (before === undefined) delete process.env.LANGUAGE;
    else process.env.LANGUAGE = before;
  }
  try {
    const target = await fr.browser.waitForTarget((t) => t.type() === 'page' && t.url().endsWith('/welcome.html'), { timeout: 20_000 });
    const page = (await target.page())!;
    await page.waitForSelector('[data-testid="mic-allow"]');
    expect(await page.$eval('h1', (e) => e.textContent)).toBe('Bienvenue dans Hush');
    expect(await page.$eval('html', (e) => e.lang)).toBe('fr');
    expect(await page.$eval('[data-testid="mic-allow"]', (e) => e.textContent)).toBe('Autoriser le microphone');
    // Headless answers by itself as a Block (see above): the French sentence and button.
    await page.click('[data-testid="mic-allow"]');
    await page.waitForSelector('[data-testid="mic-denied"]', { timeout: 10_000 });
    expect(await page.$eval('[data-testid="mic-denied"]', (e) => e.textContent)).toContain('Paramètres de Chrome → Confidentialité et sécurité → Paramètres des sites → Micro');
    expect(await page.$eval('[data-testid="mic-settings"]', (e) => e.textContent)).toBe('Ouvrir les paramètres de Hush');
    const i18n = await page.evaluate(() => {
      const c = (globalThis as unknown as { chrome: { i18n: { getMessage(k: string): string; getUILanguage(): string } } }).chrome.i18n;
      return { name: c.getMessage('extName'), description: c.getMessage('extDescription'), ui: c.getUILanguage() };
    });
    console.log(`French browser (${i18n.ui}): extension "${i18n.name}": ${i18n.description}`);
    expect(i18n.name).toBe('Hush');
    expect(i18n.description).toMatch(/^Appels vocaux chiffrés de bout en bout/);
  } finally {
    await fr.close();
  }
});
