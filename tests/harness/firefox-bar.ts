/**
 * The in-page call bar in Firefox, driven as a person does: read through
 * WebDriver BiDi, clicked with the real mouse at its coordinates. The Chromium
 * twin is ui.ts (CDP's DOM domain with `pierce: true`); Firefox has no CDP, but
 * BiDi serialises a CLOSED shadow root when asked (`includeShadowTree: 'all'`)
 * and hands back a reference to it, which `script.callFunction` can then take
 * as an argument: the test reads inside the root the page cannot open.
 *
 * Test-only power, like ui.ts's: the page's own scripts still get `null` for
 * the host's `shadowRoot`.
 */
import type { Page } from 'puppeteer-core';
import { waitFor } from './wait';
import { withTimeout } from './ui';

interface BidiConnection {
  send(method: string, params: object): Promise<{ result: Record<string, unknown> }>;
}

interface RemoteValue {
  type: string;
  sharedId?: string;
  value?: unknown;
}

function connectionOf(page: Page): BidiConnection {
  const browser = page.browser() as unknown as { connection?: BidiConnection };
  if (!browser.connection) throw new Error('not a WebDriver BiDi page');
  return browser.connection;
}

/** The page's top-level browsing context id (puppeteer's BiDi frame id). */
function contextOf(page: Page): string {
  return (page.mainFrame() as unknown as { _id: string })._id;
}

/** A reference to the bar's (closed) shadow root, or null when the bar is not on the page. */
export async function ffBarRoot(page: Page): Promise<{ sharedId: string; mode: string } | null> {
  const r = await withTimeout(
    connectionOf(page).send('script.evaluate', {
      expression: "document.querySelector('hush-call-bar')",
      target: { context: contextOf(page) },
      awaitPromise: false,
      serializationOptions: { maxDomDepth: 0, includeShadowTree: 'all' },
    }),
    5000,
    'script.evaluate (bar host)',
  );
  const v = r.result.result as RemoteValue | undefined;
  if (!v || v.type !== 'node') return null;
  const sr = (v.value as { shadowRoot?: RemoteValue | null } | undefined)?.shadowRoot;
  if (!sr?.sharedId) return null;
  return { sharedId: sr.sharedId, mode: String((sr.value as { mode?: string } | undefined)?.mode) };
}

/** Run `fn(root, ...args)` in the page with the bar's shadow root; its JSON result (undefined when no bar). */
async function onBar<T>(page: Page, fn: string, ...args: (string | number)[]): Promise<T | undefined> {
  const root = await ffBarRoot(page);
  if (!root) return undefined;
  const r = await withTimeout(
    connectionOf(page).send('script.callFunction', {
      functionDeclaration: `(root, ...args) => JSON.stringify((${fn})(root, ...args) ?? null)`,
      target: { context: contextOf(page) },
      arguments: [{ sharedId: root.sharedId }, ...args.map((a) => (typeof a === 'string' ? { type: 'string', value: a } : { type: 'number', value: a }))],
      awaitPromise: false,
    }),
    5000,
    'script.callFunction (bar)',
  );
  if (r.result.type === 'exception') throw new Error(`bar: ${JSON.stringify(r.result.exceptionDetails)}`);
  return JSON.parse(String((r.result.result as RemoteValue).value)) as T;
}

/** What ui.ts's BAR_TEXT reads: the text nodes and the Tx spans' generated content (data-tx). */
const READ = `(root, sel, attr) => {
  const el = root.querySelector(sel);
  if (!el) return null;
  let s = '';
  const walk = (n) => {
    if (n.nodeType === 3) { s += n.nodeValue; return; }
    if (n.nodeType === 1 && n.hasAttribute('data-tx')) s += n.getAttribute('data-tx');
    for (const c of n.childNodes) walk(c);
  };
  walk(el);
  const r = el.getBoundingClientRect();
  return { text: s, attr: attr ? el.getAttribute(attr) : null, x: r.x + r.width / 2, y: r.y + r.height / 2, disabled: !!el.disabled };
}`;

interface BarElement {
  text: string;
  attr: string | null;
  x: number;
  y: number;
  disabled: boolean;
}

const sel = (testid: string) => `[data-testid="${testid}"]`;

async function read(page: Page, testid: string, attr = ''): Promise<BarElement | null> {
  return (await onBar<BarElement | null>(page, READ, sel(testid), attr)) ?? null;
}

export async function ffBarHas(page: Page, testid: string): Promise<boolean> {
  return (await read(page, testid).catch(() => null)) !== null;
}

export async function ffBarAttr(page: Page, testid: string, attr: string): Promise<string | null> {
  return (await read(page, testid, attr))?.attr ?? null;
}

/** Wait until the bar shows `testid` (optionally matching `ok` on its text). Returns its text. */
export async function ffWaitBar(page: Page, testid: string, ok: (text: string) => boolean = () => true, timeoutMs = 15_000): Promise<string> {
  let last = '';
  const shown = await waitFor(
    async () => {
      const el = await read(page, testid).catch(() => null);
      if (!el) return null;
      last = el.text;
      return ok(last) && { text: last };
    },
    { timeout: timeoutMs, interval: 150, what: () => `the bar to show ${testid} as expected (last text "${last}")` },
  );
  return shown.text;
}

/** Click a bar button with the real mouse at its centre, once it is enabled. */
export async function ffBarClick(page: Page, testid: string, timeoutMs = 15_000): Promise<void> {
  const el = await waitFor(
    async () => {
      const e = await read(page, testid).catch(() => null);
      return e && !e.disabled && e;
    },
    { timeout: timeoutMs, interval: 150, what: `the bar button ${testid} to become clickable` },
  );
  await withTimeout(page.bringToFront(), 5000, 'bringToFront');
  await withTimeout(page.mouse.click(el.x, el.y), 5000, 'mouse click');
}

/**
 * Evaluate `expression` in the page WITHOUT a user activation (BiDi's `userActivation: false`).
 * puppeteer's own evaluate passes `userActivation: true`, i.e. acts as a click would.
 */
export async function ffEvaluateWithoutGesture(page: Page, expression: string): Promise<unknown> {
  const r = await withTimeout(
    connectionOf(page).send('script.evaluate', { expression, target: { context: contextOf(page) }, awaitPromise: true, userActivation: false }),
    5000,
    'script.evaluate (no gesture)',
  );
  if (r.result.type === 'exception') throw new Error(`page: ${JSON.stringify(r.result.exceptionDetails)}`);
  return (r.result.result as RemoteValue).value;
}
