/**
 * Helpers for the ui-* browser tests (issue 7; was tests/e2e/ui-harness.ts):
 * a local web server for test pages, and a way to drive the in-page call
 * bar. The bar lives in a CLOSED shadow root, which page scripts (and
 * puppeteer's selectors) cannot enter; DevTools can: we find nodes with the
 * DOM domain (`pierce: true`) and then click them with real mouse events at
 * their coordinates, as a person would, or press keys.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { CDPSession, Page } from 'puppeteer-core';
import { waitFor } from './wait';
import { isolatedWorld } from './isolated-world';
import { PAGE_HOOK } from '../../lib/page-api/loader';

export interface PageServer {
  url: string;
  /** Same server, another origin (localhost instead of 127.0.0.1). */
  altUrl: string;
  set(path: string, html: string): void;
  close(): Promise<void>;
}

/** `tls`: PEM files (tests/harness/tls-cert.ts) to serve https instead of http. */
export async function startPageServer(opts: { tls?: { cert: string; key: string } } = {}): Promise<PageServer> {
  const pages = new Map<string, string>();
  const serve: Parameters<typeof createServer>[1] = (req, res) => {
    const html = pages.get((req.url ?? '/').split('?')[0]!);
    res.writeHead(html ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html ?? 'not found');
  };
  const server: Server = opts.tls ? createTlsServer({ cert: readFileSync(opts.tls.cert), key: readFileSync(opts.tls.key) }, serve) : createServer(serve);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const scheme = opts.tls ? 'https' : 'http';
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    altUrl: `${scheme}://localhost:${port}`,
    set: (path, html) => pages.set(path, html),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

interface DomNode {
  nodeId: number;
  nodeName: string;
  children?: DomNode[];
  shadowRoots?: (DomNode & { shadowRootType?: string })[];
  contentDocument?: DomNode;
}

/** A CDP or page call that must not hang a test: a hidden tab may never answer some of them. */
export function withTimeout<T>(p: Promise<T>, ms = 5000, what = 'browser call'): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, fail) => (timer = setTimeout(() => fail(new Error(`${what} did not answer in ${ms} ms`)), ms))),
  ]);
}

/** Click a page element with the real mouse, the tab brought to front first (hidden tabs do not render). */
export async function pageClick(page: Page, selector: string): Promise<void> {
  await withTimeout(page.bringToFront(), 5000, 'bringToFront');
  await withTimeout(page.click(selector), 10_000, `click ${selector}`);
}

const sessions = new WeakMap<Page, CDPSession>();
async function cdp(page: Page): Promise<CDPSession> {
  let s = sessions.get(page);
  if (!s) {
    s = await page.createCDPSession();
    sessions.set(page, s);
  }
  return s;
}

function findHost(n: DomNode): DomNode | undefined {
  if (n.nodeName === 'HUSH-CALL-BAR') return n;
  for (const c of [...(n.children ?? []), ...(n.contentDocument ? [n.contentDocument] : [])]) {
    const f = findHost(c);
    if (f) return f;
  }
  return undefined;
}

/** The bar's shadow root as DevTools sees it (null when the bar is not on the page). */
export async function barRoot(page: Page): Promise<{ nodeId: number; mode?: string } | null> {
  const s = await cdp(page);
  const { root } = (await withTimeout(s.send('DOM.getDocument', { depth: -1, pierce: true }), 5000, 'DOM.getDocument')) as { root: DomNode };
  const host = findHost(root);
  const sr = host?.shadowRoots?.[0];
  return sr ? { nodeId: sr.nodeId, mode: sr.shadowRootType } : null;
}

async function barNode(page: Page, selector: string): Promise<number | null> {
  const r = await barRoot(page);
  if (!r) return null;
  const { nodeId } = (await withTimeout((await cdp(page)).send('DOM.querySelector', { nodeId: r.nodeId, selector }), 5000, 'DOM.querySelector')) as {
    nodeId: number;
  };
  return nodeId || null;
}

async function onNode<T>(page: Page, nodeId: number, fn: string): Promise<T> {
  const s = await cdp(page);
  const { object } = (await withTimeout(s.send('DOM.resolveNode', { nodeId }), 5000, 'DOM.resolveNode')) as { object: { objectId: string } };
  const r = (await withTimeout(
    s.send('Runtime.callFunctionOn', { objectId: object.objectId, functionDeclaration: fn, returnByValue: true }),
    5000,
    'Runtime.callFunctionOn',
  )) as { result: { value: T } };
  return r.result.value;
}

const sel = (testid: string) => `[data-testid="${testid}"]`;

/** The words of a bar element: its text nodes and the generated content of its Tx spans (data-tx). */
const BAR_TEXT = `function () {
  let s = '';
  const walk = (n) => {
    if (n.nodeType === 3) { s += n.nodeValue; return; }
    if (n.nodeType === 1 && n.hasAttribute('data-tx')) s += n.getAttribute('data-tx');
    for (const c of n.childNodes) walk(c);
  };
  walk(this);
  return s;
}`;

/** Wait until the bar shows `testid` (optionally matching `ok` on its text). Returns its text. */
export async function waitBar(page: Page, testid: string, ok: (text: string) => boolean = () => true, timeoutMs = 15_000): Promise<string> {
  let last = '';
  const shown = await waitFor(
    async () => {
      const id = await barNode(page, sel(testid)).catch(() => null);
      if (!id) return null;
      last = (await onNode<string>(page, id, BAR_TEXT).catch(() => '')) ?? '';
      return ok(last) && { text: last };
    },
    { timeout: timeoutMs, interval: 100, what: () => `the bar to show ${testid} as expected (last text "${last}")` },
  );
  return shown.text;
}

/** Wait until a bar element's attribute satisfies `ok`. */
export async function waitBarAttr(page: Page, testid: string, attr: string, ok: (v: string | null) => boolean, timeoutMs = 15_000): Promise<string | null> {
  let v: string | null = null;
  const matched = await waitFor(
    async () => {
      v = await barAttr(page, testid, attr).catch(() => null);
      return ok(v) && { value: v };
    },
    { timeout: timeoutMs, interval: 100, what: () => `the bar's ${testid} ${attr} to match (last "${v}")` },
  );
  return matched.value;
}

export async function barAttr(page: Page, testid: string, attr: string): Promise<string | null> {
  const id = await barNode(page, sel(testid));
  if (!id) return null;
  return onNode<string | null>(page, id, `function(){ return this.getAttribute(${JSON.stringify(attr)}) }`);
}

export async function barHas(page: Page, testid: string): Promise<boolean> {
  return (await barNode(page, sel(testid)).catch(() => null)) !== null;
}

/** Click a bar button with the real mouse, once it is enabled. */
export async function barClick(page: Page, testid: string, timeoutMs = 15_000): Promise<void> {
  const id = await waitFor(() => barNode(page, `${sel(testid)}:not([disabled])`).catch(() => null), {
    timeout: timeoutMs,
    interval: 100,
    what: `the bar button ${testid} to become clickable`,
  });
  const { model } = (await (await cdp(page)).send('DOM.getBoxModel', { nodeId: id })) as { model: { content: number[] } };
  const q = model.content;
  const x = (q[0]! + q[2]! + q[4]! + q[6]!) / 4;
  const y = (q[1]! + q[3]! + q[5]! + q[7]!) / 4;
  await withTimeout(page.bringToFront(), 5000, 'bringToFront');
  await withTimeout(page.mouse.click(x, y), 5000, 'mouse click');
}

/** The focused element inside the bar (its data-testid), or null. */
export async function barFocused(page: Page): Promise<string | null> {
  const id = await barNode(page, ':focus');
  if (!id) return null;
  return onNode<string | null>(page, id, 'function(){ return this.getAttribute("data-testid") }');
}

/**
 * Open `url` and wait until Hush's loader runs in it (the content script at document_idle): its
 * isolated world exists and holds the loader's hand-over object (lib/page-api/loader.ts, PAGE_HOOK).
 * A click on a Hush link before that would go to the browser, not to Hush.
 */
export async function gotoWithHush(page: Page, url: string): Promise<void> {
  await page.goto(url, { waitUntil: 'load' });
  await page.bringToFront();
  const ext = page
    .browser()
    .targets()
    .map((t) => t.url())
    .find((u) => u.startsWith('chrome-extension://'));
  if (!ext) throw new Error('gotoWithHush: no Hush target (service worker or popup) in this browser');
  const world = await isolatedWorld(page, new URL(ext).host);
  try {
    await waitFor(() => world.run<boolean>(`!!globalThis[${JSON.stringify(PAGE_HOOK)}]`), { timeout: 10_000, what: "Hush's page loader" });
  } finally {
    await world.session.detach().catch(() => {});
  }
}

/** Add a contact through the popup's form, as a person does. */
export async function addContactByUi(popup: Page, name: string, addressOrLink: string): Promise<void> {
  const open = await popup.$eval('details.add-contact', (d) => (d as HTMLDetailsElement).open).catch(() => false);
  if (!open) await popup.click('details.add-contact > summary');
  await popup.click('[data-testid="contact-name"]', { count: 3 });
  await popup.type('[data-testid="contact-name"]', name);
  await popup.click('[data-testid="contact-address"]', { count: 3 });
  await popup.type('[data-testid="contact-address"]', addressOrLink);
  await popup.click('[data-testid="contact-add"]');
  await popup.waitForSelector(`[data-testid="contact"] ::-p-text(${JSON.stringify(name)})`, { timeout: 10_000 });
}

/** Choose a file in a file input, as the file picker would. */
export async function uploadFile(page: Page, testid: string, path: string): Promise<void> {
  const input = await page.waitForSelector(`input[type="file"][data-testid="${testid}"]`, { timeout: 10_000 });
  await input!.uploadFile(path);
}

/**
 * Where a documentation screenshot goes: docs/screenshots/ when HUSH_SCREENSHOTS=1
 * (`npm run build && HUSH_SCREENSHOTS=1 npx vitest run --project e2e tests/e2e/ui-`),
 * else a temp file, so an ordinary test run never dirties the work tree.
 */
export function screenshotPath(name: string): string {
  const dir = process.env.HUSH_SCREENSHOTS === '1' ? resolve(import.meta.dirname, '../../docs/screenshots') : tmpdir();
  mkdirSync(dir, { recursive: true });
  return join(dir, process.env.HUSH_SCREENSHOTS === '1' ? name : `hush-${process.pid}-${name}`);
}
