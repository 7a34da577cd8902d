/**
 * What a failing test leaves behind: the extension's console (service worker,
 * offscreen media host, every extension page) recorded from launch, and
 * screenshots of every open tab, written to a folder by collectArtifacts().
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, ConsoleMessage, Page, Target, WebWorker } from 'puppeteer-core';

/** One console line, stamped with where it came from. */
export interface LogLine {
  at: string;
  source: 'service-worker' | 'offscreen' | 'page';
  url: string;
  type: string;
  text: string;
}

/** Records console output from the extension's contexts as they appear. */
export class LogRecorder {
  readonly lines: LogLine[] = [];
  private readonly seen = new WeakSet<object>();

  constructor(
    private readonly browser: Browser,
    private readonly extensionId: string,
  ) {
    const attach = (t: Target) => void this.attach(t).catch(() => {});
    browser.on('targetcreated', attach);
    browser.on('targetchanged', attach);
    for (const t of browser.targets()) attach(t);
  }

  private push(source: LogLine['source'], url: string, type: string, text: string): void {
    this.lines.push({ at: new Date().toISOString(), source, url, type, text });
  }

  private async attach(t: Target): Promise<void> {
    const origin = `chrome-extension://${this.extensionId}/`;
    if (t.type() === 'service_worker' && t.url().startsWith(origin)) {
      const w: WebWorker | null = await t.worker();
      if (!w || this.seen.has(w)) return;
      this.seen.add(w);
      w.on('console', (m: ConsoleMessage) => this.push('service-worker', t.url(), m.type(), m.text()));
      w.on('error', (e: Error) => this.push('service-worker', t.url(), 'error', String(e?.message ?? e)));
      return;
    }
    const isOffscreen = t.url() === `${origin}offscreen.html`;
    if (t.type() !== 'page' && !isOffscreen) return;
    const p: Page | null = isOffscreen ? await t.asPage() : await t.page();
    if (!p || this.seen.has(p)) return;
    this.seen.add(p);
    const source = isOffscreen ? 'offscreen' : 'page';
    p.on('console', (m) => this.push(source, p.url(), m.type(), m.text()));
    p.on('pageerror', (e) => this.push(source, p.url(), 'error', String((e as Error)?.message ?? e)));
  }

  /** The recorded lines as text, one per line. */
  text(): string {
    return this.lines.map((l) => `${l.at} [${l.source}] ${l.type}: ${l.text}  (${l.url})`).join('\n') + '\n';
  }
}

/** Write the logs and a screenshot of every open tab to `dir`; returns the files written. */
export async function writeArtifacts(browser: Browser, logs: LogRecorder, dir: string, prefix: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  const logFile = join(dir, `${prefix}-extension.log`);
  await writeFile(logFile, logs.text());
  files.push(logFile);
  const pages = await browser.pages().catch(() => [] as Page[]);
  let i = 0;
  for (const p of pages) {
    i++;
    const name = p.url().replace(/^[a-z-]+:\/\/[^/]*\/?/, '').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40) || 'blank';
    const file = join(dir, `${prefix}-tab${i}-${name}.png`);
    const shot = await Promise.race([
      p.bringToFront().then(() => p.screenshot({ path: file })).then(() => true, () => false),
      new Promise<boolean>((r) => setTimeout(() => r(false), 5000)),
    ]);
    if (shot) files.push(file);
  }
  return files;
}
