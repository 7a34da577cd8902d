/**
 * Firefox ESR for browser tests: Debian's firefox-esr driven by puppeteer-core
 * over WebDriver BiDi, with a built extension installed as a temporary add-on.
 * The Chromium twin is chromium.ts; the Hush-specific layer is firefox-hush.ts.
 *
 * Two ways to run it:
 * - on this host (puppeteer.launch): enough for anything but calls, because
 *   Firefox gathers no ICE candidates on a loopback-only host (lab-notes.md);
 * - inside a lab namespace (`netns`): Firefox is started by the lab
 *   (`ip netns exec`), its BiDi server listens on 127.0.0.1 *inside* the
 *   namespace, and tests/lab/ns-bridge.mjs carries the WebSocket out through a
 *   unix socket file (which both namespaces can open) to a TCP port here:
 *
 *     puppeteer ─ws─▶ 127.0.0.1:P (here) ─▶ /tmp/…/bidi.sock ─▶ ns-bridge.mjs (in ns) ─▶ 127.0.0.1:BIDI (Firefox)
 *
 * What BiDi cannot do, and how this gets around it (all test-only):
 * - It refuses to navigate a tab to `moz-extension://` ("not allowed in this
 *   context"). Firefox is started with `--remote-allow-system-access`, which
 *   lets BiDi evaluate in the browser window's chrome scope (`moz:scope`), and
 *   `openExtensionPage` opens the page there with gBrowser.addTab, as the
 *   browser itself opens an extension's page. puppeteer then sees the tab as
 *   a Page (its `url()` stays "about:blank": its navigation tracking misses
 *   the moz-extension load; `location.href` inside is right).
 * - No permission for the microphone (BiDi's permissions.setPermission says
 *   "microphone is currently unsupported"): `chrome()` can read and click the
 *   browser's own permission prompt (firefox-mic-permission test).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { Browser as BrowserKind, createProfile } from '@puppeteer/browsers';
import type { Lab, NsRole } from '../lab/netns';
import { waitFor } from './wait';

export const FIREFOX_EXTENSION_DIR = resolve(import.meta.dirname, '../../.output/firefox-mv2');
const BRIDGE = resolve(import.meta.dirname, '../lab/ns-bridge.mjs');
const BIDI_LINE = /WebDriver BiDi listening on (ws:\/\/127\.0\.0\.1:(\d+))/;

export type Prefs = Record<string, string | number | boolean>;

/** The Firefox binary: $FIREFOX_PATH, else Debian's firefox-esr. */
export function firefoxPath(): string {
  const candidates = [process.env.FIREFOX_PATH, '/usr/lib/firefox-esr/firefox-esr', '/usr/bin/firefox-esr'];
  const found = candidates.find((p): p is string => !!p && existsSync(p));
  if (!found) throw new Error('Firefox not found: apt-get install -y firefox-esr, or set FIREFOX_PATH');
  return found;
}

/** Whether Firefox can run here (tests skip with a message otherwise). */
export function firefoxAvailable(): boolean {
  try {
    firefoxPath();
    return true;
  } catch {
    return false;
  }
}

/** Prefs every test Firefox gets: automation defaults come from puppeteer's profile writer. */
const BASE_PREFS: Prefs = {
  // puppeteer's own launcher adds this: input events dispatch from the main frame.
  'fission.webContentIsolationStrategy': 0,
  // A closed network: nothing to phone home to, and nothing should try.
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'extensions.getAddons.cache.enabled': false,
};

export interface FirefoxLaunchOptions {
  prefs?: Prefs;
  /** Run inside this lab namespace (its BiDi port reached through ns-bridge.mjs). */
  netns?: { lab: Lab; role: NsRole };
  /** More environment for Firefox (e.g. MOZ_DISABLE_NONLOCAL_CONNECTIONS). */
  env?: Record<string, string>;
}

export interface FirefoxBrowser {
  browser: Browser;
  /** The namespace Firefox runs in, if any. */
  ns?: string;
  profileDir: string;
  /**
   * Run `body` (the body of an async function) in the first browser window's
   * chrome scope and return its JSON-serialisable result. Test-only power:
   * Firefox runs with --remote-allow-system-access.
   */
  chrome<T = unknown>(body: string): Promise<T>;
  /** Open an extension page (moz-extension://…) in a new selected tab, as the browser itself would. */
  openTab(url: string): Promise<Page>;
  /** The page whose `location.href` starts with `prefix`, or passes `match` (tabs and windows the extension opened). */
  findPage(match: string | ((href: string) => boolean), timeoutMs?: number): Promise<Page>;
  close(): Promise<void>;
}

interface BidiConnection {
  send(method: string, params: object): Promise<{ result: Record<string, unknown> }>;
}

export async function launchFirefox(opts: FirefoxLaunchOptions = {}): Promise<FirefoxBrowser> {
  const scratch = await mkdtemp(join(tmpdir(), 'hush-firefox-'));
  const profileDir = join(scratch, 'profile');
  opts.netns?.lab.onDestroy(() => rmSync(scratch, { recursive: true, force: true })); // if close() never runs
  const prefs = { ...BASE_PREFS, ...(opts.prefs ?? {}) };
  await createProfile(BrowserKind.FIREFOX, { path: profileDir, preferences: prefs });
  const args = ['--headless', '--no-remote', '--remote-debugging-port=0', '--remote-allow-system-access', '--profile', profileDir, 'about:blank'];

  let child: ChildProcess;
  let bridgeServer: Server | undefined;
  const cleanup = async () => {
    bridgeServer?.close();
    await rm(scratch, { recursive: true, force: true });
  };
  try {
    // MOZ_CRASHREPORTER_DISABLED: a crash should end the test, not wait on a dialog.
    const env = { ...process.env, MOZ_CRASHREPORTER_DISABLED: '1', ...(opts.env ?? {}) };
    child = opts.netns
      ? opts.netns.lab.spawnIn(opts.netns.role, firefoxPath(), args, { env })
      : spawn(firefoxPath(), args, { stdio: 'pipe', env, detached: true });
    const { port } = await waitForBidi(child, 45_000);
    let endpoint = `ws://127.0.0.1:${port}/session`;
    if (opts.netns) {
      const sock = join(scratch, 'bidi.sock');
      const bridge = opts.netns.lab.spawnIn(opts.netns.role, process.execPath, [BRIDGE, sock, String(port)]);
      await waitForLine(bridge, /^ready$/m, 15_000, 'ns-bridge.mjs');
      bridgeServer = createServer((c) => {
        const up = connect(sock);
        c.pipe(up).pipe(c);
        const end = () => {
          c.destroy();
          up.destroy();
        };
        c.on('error', end);
        up.on('error', end);
        c.on('close', end);
        up.on('close', end);
      });
      await new Promise<void>((r) => bridgeServer!.listen(0, '127.0.0.1', () => r()));
      endpoint = `ws://127.0.0.1:${(bridgeServer.address() as { port: number }).port}/session`;
    }
    // Firefox answers 400 to a Host header that does not name its own port; through
    // the bridge we connect to another port, so name Firefox's.
    const browser = await puppeteer.connect({
      browserWSEndpoint: endpoint,
      protocol: 'webDriverBiDi',
      protocolTimeout: 120_000,
      headers: { Host: `127.0.0.1:${port}` },
    });
    const conn = (browser as unknown as { connection: BidiConnection }).connection;

    const chrome = async <T>(body: string): Promise<T> => {
      const tree = await conn.send('browsingContext.getTree', { 'moz:scope': 'chrome' });
      const ctx = (tree.result.contexts as Array<{ context: string }>)[0]?.context;
      if (!ctx) throw new Error('no chrome window (is Firefox running with --remote-allow-system-access?)');
      const r = await conn.send('script.evaluate', {
        expression: `(async () => { ${body} })().then((v) => JSON.stringify(v === undefined ? null : v))`,
        target: { context: ctx },
        awaitPromise: true,
        'moz:scope': 'chrome',
      });
      if (r.result.type === 'exception') {
        throw new Error(`chrome scope: ${JSON.stringify((r.result.exceptionDetails as { text?: string })?.text ?? r.result)}`);
      }
      return JSON.parse((r.result.result as { value: string }).value) as T;
    };

    const hrefOf = (p: Page) =>
      Promise.race([
        p.evaluate(() => location.href).catch(() => ''),
        new Promise<string>((r) => setTimeout(() => r(''), 2_000)),
      ]);

    const findPage = async (match: string | ((href: string) => boolean), timeoutMs = 20_000): Promise<Page> => {
      const ok = typeof match === 'string' ? (href: string) => href.startsWith(match) : match;
      return waitFor(
        async () => {
          for (const p of await browser.pages()) {
            if (p.isClosed()) continue;
            if (ok(await hrefOf(p))) return p;
          }
          return null;
        },
        { timeout: timeoutMs, interval: 150, what: `a page at ${typeof match === 'string' ? match : 'the match'}` },
      );
    };

    const openTab = async (url: string): Promise<Page> => {
      if (!/^moz-extension:\/\/[0-9a-f-]+\/[\w./?=&-]*$/.test(url)) throw new Error(`not an extension page URL: ${url}`);
      // A unique query string tells this tab from others showing the same page.
      const tagged = `${url}${url.includes('?') ? '&' : '?'}tab=${randomUUID()}`;
      await chrome(`
        const tab = gBrowser.addTab(${JSON.stringify(tagged)}, { triggeringPrincipal: Services.scriptSecurityManager.getSystemPrincipal() });
        gBrowser.selectedTab = tab;
      `);
      const page = await findPage(tagged);
      await page.waitForFunction(() => document.readyState === 'complete', { timeout: 20_000 });
      return page;
    };

    return {
      browser,
      ns: opts.netns?.lab.ns[opts.netns.role],
      profileDir,
      chrome,
      openTab,
      findPage,
      async close() {
        await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 10_000))]);
        if (child.exitCode === null && child.signalCode === null && child.pid) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
        await cleanup();
      },
    };
  } catch (e) {
    // The lab kills what it spawned; a local Firefox is ours to kill.
    if (!opts.netns) {
      try {
        if (child!?.pid) process.kill(-child!.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await cleanup();
    throw e;
  }
}

function waitForBidi(child: ChildProcess, timeoutMs: number): Promise<{ url: string; port: number }> {
  return waitForLine(child, BIDI_LINE, timeoutMs, 'Firefox').then((m) => ({ url: m[1]!, port: Number(m[2]) }));
}

/** Resolve with the first match of `re` in the child's stdout+stderr; reject on exit or timeout. */
function waitForLine(child: ChildProcess, re: RegExp, timeoutMs: number, what: string): Promise<RegExpMatchArray> {
  return new Promise((resolvePromise, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = re.exec(out);
      if (m) {
        done();
        resolvePromise(m);
      }
    };
    const onExit = (code: number | null, sig: string | null) => {
      done();
      reject(new Error(`${what} exited (${sig ?? code}) before it was ready:\n${out.slice(-2000)}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${what} not ready after ${timeoutMs} ms:\n${out.slice(-2000)}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      // Keep draining: a full pipe would stall the child.
      child.stdout?.resume();
      child.stderr?.resume();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** The built Firefox package's gecko id (what `extensions.webextensions.uuids` is keyed by). */
export function geckoIdOf(extensionDir: string): string {
  const manifest = JSON.parse(readFileSync(join(extensionDir, 'manifest.json'), 'utf8')) as {
    browser_specific_settings?: { gecko?: { id?: string } };
  };
  const id = manifest.browser_specific_settings?.gecko?.id;
  if (!id) throw new Error(`${extensionDir}/manifest.json has no gecko id`);
  return id;
}
