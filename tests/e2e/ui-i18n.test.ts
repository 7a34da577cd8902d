/**
 * Issue 7, French: a browser started in French (`--lang=fr`, LANGUAGE=fr)
 * gets Hush in French everywhere: popup, options page, in-page bar, and the
 * sentences of errors. The other ui-* tests run in English, so both
 * languages are exercised through the real UI.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Page } from 'puppeteer-core';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { launchWithExtension, type HushBrowser } from '../harness/chromium';
import { request, waitText } from '../harness/hush';
import { gotoWithHush, startPageServer, waitBar, type PageServer } from '../harness/ui';
import { addressFromBundle } from '../../lib/crypto/address';
import { identityFromSeed } from '../../lib/crypto/identity';

let relay: RelayProcess;
let web: PageServer;
let hb: HushBrowser;
let popup: Page;
const bob = addressFromBundle(identityFromSeed(new Uint8Array(32).fill(7)).bundleBytes);

beforeAll(async () => {
  relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
  web = await startPageServer();
  const before = process.env.LANGUAGE;
  process.env.LANGUAGE = 'fr';
  try {
    hb = await launchWithExtension({ args: ['--lang=fr', '--accept-lang=fr-FR,fr'] });
  } finally {
    if (before === undefined) delete process.env.LANGUAGE;
    else process.env.LANGUAGE = before;
  }
  popup = await hb.openPopup();
  await popup.waitForSelector('[data-testid="my-address"]', { timeout: 20_000 });
  await request(popup, 'update-settings', { settings: { relays: [relay.signalUrl] } });
});

afterAll(async () => {
  await hb?.close();
  await relay?.stop();
  await web?.close();
});

test('the browser speaks French, and so does the popup', async () => {
  expect(await popup.evaluate(() => navigator.language)).toMatch(/^fr/);
  expect(await popup.evaluate(() => document.documentElement.lang)).toBe('fr');
  expect(await waitText(popup, '[data-testid="relay-status"]', (t) => t === 'Connecté au relais', 20_000)).toBe('Connecté au relais');
  expect(await popup.$eval('#your-address', (e) => e.textContent)).toBe('Votre adresse');
  expect(await popup.$eval('label[for="dial-address"]', (e) => e.textContent)).toBe('Appeler une adresse');
  expect(await popup.$eval('[data-testid="backup-banner"]', (e) => e.textContent)).toMatch(/Une nouvelle identité a été créée/);
  expect(await popup.$eval('[data-testid="open-options"]', (e) => e.textContent)).toBe('Réglages');
  // An error sentence, in French too.
  await popup.click('[data-testid="dial-address"]');
  await popup.type('[data-testid="dial-address"]', 'hush1abc');
  await popup.click('[data-testid="dial-button"]');
  expect(await waitText(popup, '[data-testid="dial-error"]', (t) => t.length > 0)).toMatch(/n’est pas une adresse Hush valide/);
});

test('the options page is in French', async () => {
  const p = await hb.browser.newPage();
  await p.goto(`chrome-extension://${hb.extensionId}/options.html`);
  await p.waitForSelector('[data-testid="relay"]', { timeout: 15_000 });
  expect(await p.title()).toBe('Réglages de Hush');
  expect(await p.$eval('h1', (e) => e.textContent)).toBe('Réglages de Hush');
  expect(await p.$eval('#relays-h', (e) => e.textContent)).toBe('Serveurs relais');
  expect(await p.$eval('[data-testid="export-button"]', (e) => e.textContent)).toBe('Exporter le fichier d’identité');
  expect(await p.$eval('#history-opt-h', (e) => e.textContent)).toBe('Historique des appels');
  await p.close();
});

test("Hush's consent window (never the page) asks in French", async () => {
  web.set('/fr', `<!doctype html><html lang="fr"><body><a id="l" href="web+hush:${bob}">Appeler Bob</a></body></html>`);
  const page = await hb.browser.newPage();
  await gotoWithHush(page, `${web.url}/fr`);
  await page.click('#l');
  const target = await hb.browser.waitForTarget((t) => t.url().includes('/popup.html#consent='), { timeout: 15_000 });
  const w = (await target.asPage())!;
  await w.waitForSelector('[data-testid="consent"]', { visible: true, timeout: 10_000 });
  const text = await w.$eval('[data-testid="consent-question"]', (e) => e.textContent ?? '');
  expect(text).toContain('Appeler');
  expect(text).toContain('avec Hush ?');
  expect(await w.$eval('[data-testid="consent-once"]', (e) => e.textContent?.trim())).toBe('Appeler');
  expect(await w.$eval('[data-testid="consent-deny"]', (e) => e.textContent?.trim())).toBe('Refuser');
  await w.click('[data-testid="consent-deny"]');
  await page.close();
});
