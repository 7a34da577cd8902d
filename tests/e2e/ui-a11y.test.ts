/**
 * Issue 7, accessibility: the popup, the options page and the in-page bar
 * with the keyboard only (Tab, Enter): every control is reached, has a
 * name, and shows a visible focus ring; dialling works by Enter. And at
 * 200% zoom nothing is cut off: no horizontal overflow, every control
 * inside the viewport (CSS viewport halved, as zoom does: an 800 px popup is
 * 400 CSS px wide, a 1280 px window 640; the bar also at 320).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'puppeteer-core';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { launchSide, request, waitCallState, type HushSide } from '../harness/hush';
import { barRoot, gotoWithHush, startPageServer, waitBar, type PageServer } from '../harness/ui';
import { addressFromBundle } from '../../lib/crypto/address';
import { identityFromSeed } from '../../lib/crypto/identity';
import { sleep, waitFor } from '../harness/wait';

let relay: RelayProcess;
let web: PageServer;
let side: HushSide;
const offline = addressFromBundle(identityFromSeed(new Uint8Array(32).fill(42)).bundleBytes);

beforeAll(async () => {
  relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
  web = await startPageServer();
  side = await launchSide({ signalUrl: relay.signalUrl });
});

afterAll(async () => {
  await side?.close();
  await relay?.stop();
  await web?.close();
});

interface Focused {
  tag: string;
  testid: string | null;
  name: string;
  outline: string;
}

/** Press Tab and describe what has focus: its accessible name (label, aria-label, text) and its focus ring. */
async function tab(p: Page, shift = false): Promise<Focused> {
  if (shift) await p.keyboard.down('Shift');
  await p.keyboard.press('Tab');
  if (shift) await p.keyboard.up('Shift');
  return p.evaluate(() => {
    const e = document.activeElement as HTMLElement;
    const labelled = e.getAttribute('aria-labelledby');
    const name =
      e.getAttribute('aria-label') ||
      (labelled ? document.getElementById(labelled)?.textContent : '') ||
      ((e as HTMLInputElement).labels?.[0]?.textContent ?? '') ||
      e.textContent ||
      '';
    const cs = getComputedStyle(e);
    return { tag: e.tagName, testid: e.getAttribute('data-testid'), name: name.trim(), outline: `${cs.outlineStyle} ${cs.outlineWidth}` };
  });
}

/** Tab through the whole page once; every stop must be named and visibly focused. */
async function tabThrough(p: Page, max = 80): Promise<Focused[]> {
  await p.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const seen: Focused[] = [];
  for (let i = 0; i < max; i++) {
    const f = await tab(p);
    if (f.tag === 'BODY' || (seen.length > 0 && f.testid && f.testid === seen[0]!.testid && f.name === seen[0]!.name)) break;
    seen.push(f);
  }
  for (const f of seen) {
    expect(f.name, `${f.tag} ${f.testid} has no name`).not.toBe('');
    expect(f.outline, `${f.tag} ${f.testid} shows no focus ring`).toMatch(/^solid [1-9]/);
  }
  return seen;
}

async function noHorizontalOverflow(p: Page): Promise<void> {
  const r = await p.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const out = [...document.querySelectorAll('button, input, select, summary, a, code, p, h1, h2')]
      .filter((e) => (e as HTMLElement).offsetParent !== null)
      .map((e) => ({ e: `${e.tagName}.${e.getAttribute('data-testid') ?? ''}`, right: e.getBoundingClientRect().right }))
      .filter((x) => x.right > w + 1);
    return { scroll: document.documentElement.scrollWidth, width: w, out };
  });
  expect(r.out).toEqual([]);
  expect(r.scroll).toBeLessThanOrEqual(r.width);
}

describe('keyboard', () => {
  test('popup: every control reached by Tab, named, with a visible focus ring; dial by Enter', async () => {
    const p = side.popup;
    await p.bringToFront();
    const stops = await tabThrough(p);
    const ids = stops.map((s) => s.testid ?? s.tag);
    console.log('popup tab order:', ids.join(' → '));
    for (const id of ['open-options', 'backup-action', 'copy-address', 'copy-link', 'show-qr', 'dial-address', 'SUMMARY']) expect(ids).toContain(id);
    expect(ids.indexOf('dial-address')).toBeLessThan(ids.indexOf('SUMMARY'));

    // Tab to the dial box, type, Enter.
    await p.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    for (let i = 0; i < 20 && (await tab(p)).testid !== 'dial-address'; i++);
    await p.keyboard.type(offline);
    await p.keyboard.press('Enter');
    await p.waitForSelector('[data-testid="call"]', { timeout: 10_000 });
    await waitCallState(p, 'ended', 20_000);
    // The finished call's Close button, by keyboard too.
    for (let i = 0; i < 10 && (await tab(p)).testid !== 'close-call'; i++);
    await p.keyboard.press('Enter');
    await p.waitForSelector('[data-testid="dial-address"]', { timeout: 5000 });
  });

  test('options page: every control reached by Tab, named, visibly focused', async () => {
    const p = await side.hb.browser.newPage();
    await p.goto(`chrome-extension://${side.hb.extensionId}/options.html`);
    await p.waitForSelector('[data-testid="relay"]', { timeout: 15_000 });
    // The audio section settles first (device list if the microphone is already allowed).
    await p.waitForSelector('[data-testid="audio-allow"], [data-testid="audio-input"]', { timeout: 10_000 });
    // Kept as a sleep: the section re-renders once more when the device list arrives, with no mark to wait for.
    await sleep(500);
    const stops = await tabThrough(p, 120);
    const ids = stops.map((s) => s.testid ?? s.tag);
    console.log('options tab order:', ids.join(' → '));
    const focusable = await p.$$eval('button:not([disabled]), input:not([disabled]), select:not([disabled]), summary, a[href]', (es) =>
      es.filter((e) => (e as HTMLElement).offsetParent !== null).length,
    );
    expect(stops.length, `reached: ${ids.join(', ')}`).toBe(focusable);
    for (const id of ['export-passphrase', 'export-repeat', 'import-file', 'relay-test', 'relay-url', 'privacy-mode', 'ringtone']) expect(ids).toContain(id);
    // Nothing in the accessibility tree is an unnamed control.
    const tree = await p.accessibility.snapshot({ interestingOnly: true });
    const unnamed: string[] = [];
    const walk = (n: { role?: string; name?: string; children?: unknown[] } | null | undefined) => {
      if (!n) return;
      if (['button', 'textbox', 'checkbox', 'combobox', 'link'].includes(n.role ?? '') && !n.name?.trim()) unnamed.push(n.role!);
      for (const c of (n.children ?? []) as (typeof n)[]) walk(c);
    };
    walk(tree as never);
    expect(unnamed).toEqual([]);
    await p.close();
  });

  test("Hush links: Enter on a link opens Hush's consent window; Tab reaches its buttons; Enter on Deny closes it", async () => {
    web.set('/kb', `<!doctype html><html><body><p><a id="l" href="web+hush:${offline}">Call</a></p><p><a id="bad" href="web+hush:hush1broken">Broken</a></p></body></html>`);
    const page = await side.hb.browser.newPage();
    await gotoWithHush(page, `${web.url}/kb`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('l');
    await page.keyboard.press('Enter');
    const t = await side.hb.browser.waitForTarget((t) => t.url().includes('/popup.html#consent='), { timeout: 15_000 });
    const w = (await t.asPage())!;
    await w.waitForSelector('[data-testid="consent"]', { visible: true });
    await w.bringToFront();
    const focused = async () => w.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? '');
    await w.keyboard.press('Tab');
    expect(await focused()).toBe('consent-once');
    await w.keyboard.press('Tab');
    expect(await focused()).toBe('consent-deny'); // http page: no "always"
    // Enter activates Deny on keydown and the window closes: the key-up has no target left.
    await w.keyboard.press('Enter').catch((e: Error) => expect(e.message).toMatch(/Target closed/));
    await waitFor(() => w.isClosed(), { timeout: 5000, what: 'the consent window to close after Enter on Deny' });
    expect(await barRoot(page)).toBeNull();
    await page.close();
  });

  test('popup at 400 CSS px (an 800 px popup at 200%): home and call view, nothing cut off', async () => {
    const p = side.popup;
    await p.bringToFront();
    await p.setViewport({ width: 400, height: 700, deviceScaleFactor: 2 });
    await p.click('[data-testid="show-qr"]');
    await p.click('details.add-contact > summary');
    await noHorizontalOverflow(p);
    await p.click('[data-testid="dial-address"]');
    await p.type('[data-testid="dial-address"]', offline);
    await p.click('[data-testid="dial-button"]');
    await waitCallState(p, 'ended', 20_000);
    await noHorizontalOverflow(p);
    await request(p, 'dismiss-call');
  });

  test('options page at 640 and 320 CSS px: reflows, nothing cut off', async () => {
    const p = await side.hb.browser.newPage();
    await p.goto(`chrome-extension://${side.hb.extensionId}/options.html`);
    await p.waitForSelector('[data-testid="relay"]', { timeout: 15_000 });
    for (const width of [640, 320]) {
      await p.setViewport({ width, height: 800, deviceScaleFactor: 2 });
      await noHorizontalOverflow(p);
    }
    await p.close();
  });

  test('in-page bar at 320 CSS px: inside the viewport', async () => {
    const page = await side.hb.browser.newPage();
    await page.setViewport({ width: 320, height: 640, deviceScaleFactor: 2 });
    await gotoWithHush(page, `${web.url}/kb`);
    await page.click('#bad'); // a broken link: the bar says so (consent is in Hush's window)
    await waitBar(page, 'bar-prompt');
    const box = await page.evaluate(() => {
      // The host is 0×0; the bar is fixed inside the closed root. Find its extent by hit-testing the viewport edge.
      const hits: number[] = [];
      for (let x = 0; x < innerWidth; x += 4) if (document.elementFromPoint(x, innerHeight - 30)?.tagName === 'HUSH-CALL-BAR') hits.push(x);
      return { min: Math.min(...hits), max: Math.max(...hits), width: innerWidth, scroll: document.documentElement.scrollWidth };
    });
    expect(box.min).toBeGreaterThanOrEqual(0);
    expect(box.max).toBeLessThan(box.width);
    expect(box.scroll).toBeLessThanOrEqual(box.width);
    await page.close();
  });
});
