/**
 * Cost per page (issue 13): a plain test page loaded 25 times in a browser
 * without the extension and in one with it, two browsers of each kind, in
 * the same run; JS heap after a forced GC (the renderer's isolate: the page's
 * world and the content script's isolated world together, CDP
 * Runtime.getHeapUsage) and load time (navigation start to loadEventEnd),
 * medians and ranges printed side by side. Nothing asserted: a shared,
 * noisy machine; the side-by-side difference is the figure.
 */
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE_FLAGS, chromiumPath, launchWithExtension } from '../tests/harness/chromium';
import { startPageServer } from '../tests/harness/ui';
import { median } from '../tests/harness/median';

const LOADS = Number(process.env.HUSH_BENCH_PAGE_LOADS ?? 25);
const BROWSERS = 2;
/**
 * Other builds to show beside, comma-separated (e.g. the commit before a change, or a copy of
 * .output/chrome-mv3 whose manifest has no content_scripts, to tell the content script's cost from
 * the extension's): HUSH_BENCH_PAGE_BEFORE=<dir>[,<dir>…].
 */
const BEFORE = (process.env.HUSH_BENCH_PAGE_BEFORE ?? '').split(',').filter(Boolean);
const PLAIN = `<!doctype html><html lang="en"><head><title>Plain</title></head><body><h1>A plain page</h1>
<p>${'Some text. '.repeat(200)}</p><ul>${'<li><a href="#x">a link</a></li>'.repeat(50)}</ul></body></html>`;

interface Sample {
  heapMB: number;
  loadMs: number;
}

async function measure(page: Page, url: string): Promise<Sample> {
  await page.goto(url, { waitUntil: 'load' });
  // document_idle content scripts run right after load: give them their moment.
  await new Promise((r) => setTimeout(r, 300));
  const cdp = await page.createCDPSession();
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
  await cdp.detach();
  const loadMs = await page.evaluate(() => {
    const n = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    return n.loadEventEnd - n.startTime;
  });
  return { heapMB: usedSize / 1048576, loadMs };
}

async function series(browser: Browser, url: string): Promise<Sample[]> {
  const out: Sample[] = [];
  for (let i = 0; i < LOADS; i++) {
    const page = await browser.newPage();
    out.push(await measure(page, `${url}?n=${i}`));
    await page.close();
  }
  return out;
}

const fmt = (xs: number[], d = 1) => `${median(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)})`;

export async function run(): Promise<void> {
  const web = await startPageServer();
  web.set('/plain', PLAIN);
  const url = web.url + '/plain';
  const without: Sample[] = [];
  const withExt: Sample[] = [];
  const before: Sample[][] = BEFORE.map(() => []);
  try {
    for (let b = 0; b < BROWSERS; b++) {
      const dir = await mkdtemp(join(tmpdir(), 'hush-bench-page-'));
      const plain = await puppeteer.launch({ executablePath: chromiumPath(), headless: true, pipe: true, userDataDir: dir, args: BASE_FLAGS });
      try {
        without.push(...(await series(plain, url)));
      } finally {
        await plain.close();
        await rm(dir, { recursive: true, force: true });
      }
      const hb = await launchWithExtension();
      try {
        withExt.push(...(await series(hb.browser, url)));
      } finally {
        await hb.close();
      }
      for (const [i, extensionDir] of BEFORE.entries()) {
        const old = await launchWithExtension({ extensionDir });
        try {
          before[i]!.push(...(await series(old.browser, url)));
        } finally {
          await old.close();
        }
      }
    }
  } finally {
    await web.close();
  }
  console.log(`plain page, ${LOADS} loads × ${BROWSERS} browsers each, median (min–max)`);
  const columns: [string, Sample[]][] = [['without Hush', without], ['with Hush', withExt], ...BEFORE.map((d, i) => [`with ${d}`, before[i]!] as [string, Sample[]])];
  const row = (label: string, f: (s: Sample) => number, d: number) => `${label.padEnd(22)}${columns.map(([, xs]) => fmt(xs.map(f), d).padEnd(24)).join('')}`;
  console.log(`${''.padEnd(22)}${columns.map(([name]) => name.padEnd(24)).join('')}`);
  console.log(row('JS heap (MB)', (s) => s.heapMB, 3));
  console.log(row('load time (ms)', (s) => s.loadMs, 1));
  for (const [name, xs] of columns.slice(1)) {
    const dh = median(xs.map((s) => s.heapMB)) - median(without.map((s) => s.heapMB));
    const dt = median(xs.map((s) => s.loadMs)) - median(without.map((s) => s.loadMs));
    console.log(`difference (${name}): heap ${dh >= 0 ? "+" : ""}${dh.toFixed(3)} MB, load ${dt >= 0 ? '+' : ''}${dt.toFixed(1)} ms`);
  }
}
