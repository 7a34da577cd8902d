/**
 * Issue 18, the UI side: the details a person notices, in real browsers.
 * One browser first (themes, the relay badge, the duplicate-address message,
 * the import order, the ended screen of an unreachable call), then a call
 * between two browsers (no security code before Connected, verifying an
 * unknown caller asks a name, the aria-live region without the timer, the
 * M / H shortcuts, call back and add an unknown caller from the ended screen).
 *
 * With HUSH_SCREENSHOTS=1 it also regenerates docs/screenshots/ for the
 * states it passes through, in light and dark (and the idle popup and the
 * options page in French, from a browser started in French):
 *   npx wxt build && HUSH_SCREENSHOTS=1 npx vitest run --project e2e tests/e2e/ui-details.test.ts
 */
import { writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'puppeteer-core';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { launchWithExtension } from '../harness/chromium';
import { callState, click, dialByUi, dismiss, launchSide, typeInto, request, waitCallState, waitText, type HushSide } from '../harness/hush';
import { screenshotPath, uploadFile } from '../harness/ui';
import { addressFromBundle } from '../../lib/crypto/address';
import { identityFromSeed } from '../../lib/crypto/identity';
import { exportIdentityFile } from '../../lib/crypto/identity-file';

let relay: RelayProcess;
let a: HushSide;
let b: HushSide;
const offline = addressFromBundle(identityFromSeed(new Uint8Array(32).fill(77)).bundleBytes);
const short = (addr: string) => `${addr.slice(0, 9)}…${addr.slice(-4)}`;
const PASS = 'correct horse battery';
const identityFile = join(tmpdir(), `hush-ui18-${process.pid}.json`);
const SHOTS = process.env.HUSH_SCREENSHOTS === '1';

beforeAll(async () => {
  relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
  [a, b] = await Promise.all([launchSide({ toneHz: 440, signalUrl: relay.signalUrl }), launchSide({ toneHz: 880, signalUrl: relay.signalUrl })]);
  const seed = crypto.getRandomValues(new Uint8Array(32));
  await writeFile(identityFile, JSON.stringify(await exportIdentityFile(seed, PASS, { kdf: { m: 8192, t: 1 } })));
});

afterAll(async () => {
  await Promise.allSettled([a?.close(), b?.close()]);
  await relay?.stop();
  await rm(identityFile, { force: true });
});

const contactRow = (address: string) => `[data-testid="contact"][data-address="${address}"]`;

async function openAdd(p: Page): Promise<void> {
  const open = await p.$eval('details.add-contact', (d) => (d as HTMLDetailsElement).open);
  if (!open) await p.click('details.add-contact > summary');
}

async function theme(p: Page, value: 'light' | 'dark'): Promise<void> {
  await p.emulateMediaFeatures([{ name: 'prefers-color-scheme', value }]);
}

/** The popup (or options page) in light and dark, as docs/screenshots/<name>-<theme>.png. */
async function shots(p: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  for (const v of ['light', 'dark'] as const) {
    await theme(p, v);
    await new Promise((r) => setTimeout(r, 150));
    await p.screenshot({ path: screenshotPath(`${name}-${v}.png`), fullPage: true });
  }
  await theme(p, 'light');
}

async function endCalls(): Promise<void> {
  for (const s of [a, b]) {
    if (['dialing', 'ringing', 'incoming', 'connecting', 'connected', 'reconnecting'].includes(await callState(s.popup))) {
      await request(s.popup, 'hangup').catch(() => {});
    }
  }
  await new Promise((r) => setTimeout(r, 300));
  await Promise.all([dismiss(a.popup), dismiss(b.popup)]);
}

/** The text of every aria-live region of the page, and whether one holds the timer. */
async function liveRegions(p: Page): Promise<{ texts: string[]; holdsTimer: boolean }> {
  return p.evaluate(() => {
    const regions = [...document.querySelectorAll('[aria-live]')].filter((e) => e.getAttribute('aria-live') !== 'off');
    return {
      texts: regions.map((e) => e.textContent ?? ''),
      holdsTimer: regions.some((e) => e.querySelector('[data-testid="call-timer"]') !== null || /\d\d:\d\d/.test(e.textContent ?? '')),
    };
  });
}

describe('one browser', () => {
  test('the theme follows prefers-color-scheme: dark and light backgrounds, text, cards and inputs', async () => {
    const p = a.popup;
    await p.setViewport({ width: 400, height: 700 });
    const colours = () =>
      p.evaluate(() => {
        const cs = (s: string) => getComputedStyle(document.querySelector(s)!);
        return { bg: getComputedStyle(document.body).backgroundColor || cs('html').backgroundColor, html: cs('html').backgroundColor, fg: cs('main').color, card: cs('.card').backgroundColor, input: cs('input').backgroundColor };
      });
    await theme(p, 'dark');
    const dark = await colours();
    await theme(p, 'light');
    const light = await colours();
    expect(dark.html).toBe('rgb(18, 18, 32)');
    expect(light.html).toBe('rgb(247, 247, 251)');
    expect(dark.fg).toBe('rgb(236, 236, 244)');
    expect(dark.card).not.toBe(light.card);
    expect(dark.input).not.toBe(light.input);
    await shots(p, 'popup-idle');

    const options = await a.hb.browser.newPage();
    await options.setViewport({ width: 800, height: 900 });
    await options.goto(`chrome-extension://${a.hb.extensionId}/options.html`);
    await options.waitForSelector('[data-testid="relay"]', { timeout: 15_000 });
    await theme(options, 'dark');
    expect(await options.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)).toBe('rgb(18, 18, 32)');
    // One button style: no button stretched to the width of its section.
    const wide = await options.evaluate(() =>
      [...document.querySelectorAll('.options .sub > button')]
        .filter((b) => b.getBoundingClientRect().width > (b.parentElement as HTMLElement).getBoundingClientRect().width * 0.9)
        .map((b) => b.getAttribute('data-testid')),
    );
    expect(wide).toEqual([]);
    // One text size for labels, help and checkboxes; buttons at the body's size.
    const sizes = await options.evaluate(() => {
      const px = (s: string) => [...new Set([...document.querySelectorAll(s)].map((e) => getComputedStyle(e).fontSize))];
      return { labels: px('.options .sub label, .options label.check'), help: px('.options .muted.small'), buttons: px('.options .card button'), body: getComputedStyle(document.body).fontSize };
    });
    console.log('options font sizes', JSON.stringify(sizes));
    expect(sizes.labels).toEqual(['13px']);
    expect(sizes.help).toEqual(['13px']);
    expect(sizes.buttons).toEqual([sizes.body]);
    await shots(options, 'options');
    await options.close();
  });

  test('the header: Settings at the end of the bar; the relay badge at 12 px with a tooltip in the UI language', async () => {
    const p = a.popup;
    const r = await p.evaluate(() => {
      const badge = document.querySelector('[data-testid="relay-status"]') as HTMLElement;
      const settings = document.querySelector('[data-testid="open-options"]') as HTMLElement;
      const bar = settings.parentElement!.getBoundingClientRect();
      return { size: parseFloat(getComputedStyle(badge).fontSize), title: badge.title, settingsRight: settings.getBoundingClientRect().right, barRight: bar.right };
    });
    expect(r.size).toBeGreaterThanOrEqual(12);
    expect(r.title).toContain('Relay server: ws');
    expect(Math.abs(r.barRight - r.settingsRight)).toBeLessThan(2);
  });

  test('contacts: the address is shown short and copyable; a name-less contact has an empty Edit name; a saved address says so', async () => {
    const p = a.popup;
    await openAdd(p);
    expect(await p.$eval('details.add-contact > summary', (e) => e.textContent)).toBe('Add a contact');
    expect(await p.$eval('[data-testid="contact-add"]', (e) => e.textContent)).toBe('Save');
    // Labels above their inputs, inputs the same width.
    const form = await p.evaluate(() => {
      const n = document.querySelector('[data-testid="contact-name"]')!.getBoundingClientRect();
      const ad = document.querySelector('[data-testid="contact-address"]')!.getBoundingClientRect();
      const ln = document.querySelector('label[for="add-name"]')!.getBoundingClientRect();
      return { nameW: n.width, addrW: ad.width, labelAbove: ln.bottom <= n.top + 1, sameLeft: Math.abs(n.left - ln.left) < 2 };
    });
    expect(form.nameW).toBe(form.addrW);
    expect(form.labelAbove).toBe(true);
    expect(form.sameLeft).toBe(true);

    await typeInto(p, '[data-testid="contact-name"]', '');
    await typeInto(p, '[data-testid="contact-address"]', offline);
    await p.click('[data-testid="contact-add"]');
    await p.waitForSelector(contactRow(offline), { timeout: 5000 });
    expect(await p.$eval(`${contactRow(offline)} [data-testid="contact-label"]`, (e) => e.textContent)).toBe(short(offline));
    expect(await p.$eval(`${contactRow(offline)} [data-testid="contact-address-short"]`, (e) => e.getAttribute('title'))).toBe(offline);
    expect(await p.$(`${contactRow(offline)} [data-testid="contact-copy"]`)).not.toBeNull();
    await p.click(`${contactRow(offline)} [data-testid="contact-edit"]`);
    expect(await p.$eval(`${contactRow(offline)} [data-testid="edit-name"]`, (e) => (e as HTMLInputElement).value)).toBe('');
    expect(await p.$eval(`${contactRow(offline)} [data-testid="edit-current-address"]`, (e) => e.textContent)).toBe(offline);
    await typeInto(p, `${contactRow(offline)} [data-testid="edit-name"]`, 'Zed');
    await p.click(`${contactRow(offline)} [data-testid="edit-save"]`);
    await waitText(p, `${contactRow(offline)} [data-testid="contact-label"]`, (t) => t === 'Zed');

    // The same address again (as a link this time): said, not silently ignored.
    await openAdd(p);
    await typeInto(p, '[data-testid="contact-name"]', 'Someone else');
    await typeInto(p, '[data-testid="contact-address"]', `web+hush:${offline}`);
    await p.click('[data-testid="contact-add"]');
    expect(await waitText(p, '[data-testid="contact-exists"]', (t) => t.length > 0)).toBe('Already in your contacts as Zed.');
    expect((await p.$$('[data-testid="contact"]')).length).toBe(1);
  });

  test('import: file → passphrase → checked → only then "Replace your identity?"', async () => {
    const options = await a.hb.browser.newPage();
    await options.goto(`chrome-extension://${a.hb.extensionId}/options.html`);
    await uploadFile(options, 'import-file', identityFile);
    await waitText(options, '[data-testid="import-holds"]', (t) => t.includes('hush1'));
    expect(await options.$('[data-testid="import-confirm"]')).toBeNull();
    await typeInto(options, '[data-testid="import-passphrase"]', PASS);
    expect(await options.$('[data-testid="import-confirm"]')).toBeNull();
    await options.click('[data-testid="import-button"]');
    await options.waitForSelector('[data-testid="import-confirm"]', { timeout: 30_000 });
    await options.click('[data-testid="import-cancel"]');
    expect(await options.$eval('[data-testid="my-address"]', (e) => e.textContent)).toBe(a.address);
    await options.close();
  });

  test('import: a wrong passphrase is refused before "Replace your identity?" is asked', async () => {
    const options = await a.hb.browser.newPage();
    await options.goto(`chrome-extension://${a.hb.extensionId}/options.html`);
    await uploadFile(options, 'import-file', identityFile);
    await waitText(options, '[data-testid="import-holds"]', (t) => t.includes('hush1'));
    await typeInto(options, '[data-testid="import-passphrase"]', 'not the passphrase');
    await options.click('[data-testid="import-button"]');
    expect(await waitText(options, '[data-testid="import-error"]', (t) => t.length > 0, 30_000)).toMatch(/passphrase is wrong/);
    expect(await options.$('[data-testid="import-confirm"]')).toBeNull();
    await typeInto(options, '[data-testid="import-passphrase"]', PASS);
    await options.click('[data-testid="import-button"]');
    await options.waitForSelector('[data-testid="import-verified"]', { timeout: 30_000 });
    await options.waitForSelector('[data-testid="import-confirm"]', { timeout: 5000 });
    await options.click('[data-testid="import-cancel"]');
    await options.close();
  });

  test('an unreachable call ends with Call back (and Add to contacts for a stranger); history names it "Unreachable" with a date', async () => {
    const p = a.popup;
    const stranger = addressFromBundle(identityFromSeed(new Uint8Array(32).fill(78)).bundleBytes);
    await dialByUi(p, stranger);
    await waitCallState(p, 'ended', 30_000);
    expect(await p.$eval('[data-testid="call-peer"]', (e) => e.textContent)).toBe('Unknown caller');
    expect(await p.$eval('[data-testid="call-peer-address"]', (e) => e.textContent)).toBe(short(stranger));
    expect(await p.$('[data-testid="call-back"]')).not.toBeNull();
    expect(await p.$('[data-testid="call-add-contact"]')).not.toBeNull();
    expect(await p.$('[data-testid="sas"]')).toBeNull();
    await shots(p, 'popup-ended');
    await dismiss(p);
    const row = await p.waitForSelector('[data-testid="history-entry"]', { timeout: 5000 });
    expect(await row!.evaluate((e) => e.getAttribute('data-kind'))).toBe('unreachable');
    expect(await p.$eval('[data-testid="history-kind"]', (e) => e.textContent)).toBe('Unreachable');
    expect(await p.$eval('[data-testid="history-when"]', (e) => e.textContent)).toMatch(/\d\d:\d\d/);
    // The row is a button that calls back.
    await p.click('[data-testid="history-call"]');
    await p.waitForSelector('[data-testid="call"]', { timeout: 10_000 });
    await waitCallState(p, 'ended', 30_000);
    await dismiss(p);
  });
});

describe('a call between two browsers', () => {
  test('no security code before Connected; the caller is "Unknown caller" with a short address; aria-live holds the state, never the timer', async () => {
    await a.popup.bringToFront();
    await dialByUi(a.popup, b.address);
    await waitCallState(b.popup, 'incoming');
    await waitCallState(a.popup, 'ringing');
    for (const s of [a, b]) {
      expect(await s.popup.$('[data-testid="sas"]')).toBeNull();
      expect(await s.popup.$('[data-testid="mark-verified"]')).toBeNull();
    }
    expect(await b.popup.$eval('[data-testid="call-peer"]', (e) => e.textContent)).toBe('Unknown caller');
    expect(await b.popup.$eval('[data-testid="call-peer"]', (e) => e.getAttribute('data-address'))).toBe(a.address);
    expect(await b.popup.$eval('[data-testid="call-peer-address"]', (e) => e.textContent)).toBe(short(a.address));
    await shots(a.popup, 'popup-calling');
    await shots(b.popup, 'popup-incoming');

    await click(b.popup, 'accept');
    await waitCallState(a.popup, 'connected');
    await waitCallState(b.popup, 'connected');
    await a.popup.waitForSelector('[data-testid="sas"]', { timeout: 5000 });
    await b.popup.waitForSelector('[data-testid="sas"]', { timeout: 5000 });
    await a.popup.waitForSelector('[data-testid="call-timer"]', { timeout: 5000 });
    const first = await liveRegions(a.popup);
    expect(first.holdsTimer).toBe(false);
    expect(first.texts.join(' ')).toContain('Connected');
    await new Promise((r) => setTimeout(r, 2200));
    const later = await liveRegions(a.popup);
    expect(later.texts).toEqual(first.texts);
    expect(later.holdsTimer).toBe(false);
    expect(await a.popup.$eval('[data-testid="call-shortcuts"]', (e) => e.textContent)).toMatch(/M .*Esc or H/);
    await shots(a.popup, 'popup-in-call');
  });

  test('"The codes match" for a stranger asks a name first, then saves a verified contact', async () => {
    await a.popup.bringToFront();
    await click(a.popup, 'mark-verified');
    await a.popup.waitForSelector('[data-testid="call-contact-name"]', { timeout: 5000 });
    expect(await a.popup.$('[data-testid="peer-verified"]')).toBeNull();
    await a.popup.type('[data-testid="call-contact-name"]', 'Bob');
    await a.popup.click('[data-testid="call-contact-save"]');
    await a.popup.waitForSelector('[data-testid="peer-verified"]', { timeout: 5000 });
    expect(await waitText(a.popup, '[data-testid="call-peer"]', (t) => t === 'Bob')).toBe('Bob');
    const view = (await request(a.popup, 'get-view')) as { contacts: { address: string; name: string; verified: boolean }[] };
    expect(view.contacts.find((c) => c.address === b.address)).toMatchObject({ name: 'Bob', verified: true });
  });

  test('keys in the call view: M mutes (aria-pressed, a visible muted state) and unmutes; H hangs up', async () => {
    const p = a.popup;
    await p.bringToFront();
    await p.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    expect(await p.$eval('[data-testid="mute"]', (e) => e.getAttribute('aria-pressed'))).toBe('false');
    await p.keyboard.press('m');
    await p.waitForSelector('[data-testid="mute"][aria-pressed="true"]', { timeout: 5000 });
    await p.waitForSelector('[data-testid="muted-indicator"]', { visible: true, timeout: 5000 });
    const pressed = await p.$eval('[data-testid="mute"]', (e) => getComputedStyle(e).backgroundColor);
    await shots(p, 'popup-muted');
    await p.keyboard.press('m');
    await p.waitForSelector('[data-testid="mute"][aria-pressed="false"]', { timeout: 5000 });
    expect(await p.$('[data-testid="muted-indicator"]')).toBeNull();
    expect(await p.$eval('[data-testid="mute"]', (e) => getComputedStyle(e).backgroundColor)).not.toBe(pressed);
    await p.keyboard.press('h');
    await waitCallState(a.popup, 'ended');
    await waitCallState(b.popup, 'ended');
  });

  test('the ended screen: add the unknown caller with a name; Call back rings them again', async () => {
    const p = b.popup;
    await p.bringToFront();
    await click(p, 'call-add-contact');
    await p.type('[data-testid="call-contact-name"]', 'Alice');
    await p.click('[data-testid="call-contact-save"]');
    expect(await waitText(p, '[data-testid="call-peer"]', (t) => t === 'Alice')).toBe('Alice');
    expect(await p.$('[data-testid="call-add-contact"]')).toBeNull();
    await click(p, 'call-back');
    await waitCallState(a.popup, 'incoming');
    expect(await a.popup.$eval('[data-testid="call-peer"]', (e) => e.textContent)).toBe('Bob');
    // B gives up before A answers: A has a missed call, with Call back.
    await waitCallState(p, 'ringing');
    await click(p, 'hangup');
    await waitCallState(a.popup, 'ended');
    expect(await a.popup.$eval('[data-testid="end-message"]', (e) => e.getAttribute('data-reason'))).toBe('missed');
    expect(await a.popup.$('[data-testid="call-back"]')).not.toBeNull();
    await shots(a.popup, 'popup-missed');
    await endCalls();
    await a.popup.waitForSelector('[data-testid="history-entry"][data-kind="missed"]', { timeout: 5000 });
    // A history row of a contact opens that contact: its row scrolled to, its Call button focused.
    await a.popup.click('[data-testid="history-entry"][data-kind="missed"] [data-testid="history-open-contact"]');
    await a.popup.waitForSelector(`${contactRow(b.address)}.focused`, { timeout: 5000 });
    // The focus moves in an effect after the render that marks the row: wait for it, not for the class.
    await a.popup.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'contact-call', { timeout: 5000 });
  });
});

// Only registered when screenshots are asked for: a test that is there but skipped would fail CI.
if (SHOTS) describe('French', () => {
  test('screenshots of the idle popup and the options page in French', async () => {
    const before = process.env.LANGUAGE;
    process.env.LANGUAGE = 'fr';
    const hb = await launchWithExtension({ args: ['--lang=fr', '--accept-lang=fr-FR,fr'] }).finally(() => {
      if (before === undefined) delete process.env.LANGUAGE;
      else process.env.LANGUAGE = before;
    });
    try {
      const popup = await hb.openPopup();
      await popup.setViewport({ width: 400, height: 700 });
      await popup.waitForSelector('[data-testid="my-address"]', { timeout: 20_000 });
      await request(popup, 'update-settings', { settings: { relays: [relay.signalUrl] } });
      await waitText(popup, '[data-testid="relay-status"]', (t) => t === 'Connecté au relais', 20_000);
      await shots(popup, 'popup-idle-fr');
      const options = await hb.browser.newPage();
      await options.setViewport({ width: 800, height: 900 });
      await options.goto(`chrome-extension://${hb.extensionId}/options.html`);
      await options.waitForSelector('[data-testid="relay"]', { timeout: 15_000 });
      await shots(options, 'options-fr');
    } finally {
      await hb.close();
    }
  });
});
