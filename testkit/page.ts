/**
 * An ordinary web page in a Hush browser: click a Hush link (`web+hush:…`) or
 * call the page API (`window.postMessage({ type: 'hush:call', address, id })`)
 * and answer the in-page call bar Hush shows, as a person does.
 *
 * The bar lives in a closed shadow root; the kit finds its buttons through
 * DevTools and clicks them with the real mouse (tests/harness/ui.ts).
 */
import type { Page } from 'puppeteer-core';
import { barClick, gotoWithHush, pageClick, waitBar } from '../tests/harness/ui';
import { waitFor } from '../tests/harness/wait';

/** A `hush:call-status` message the page API posts back to the page. */
export interface CallStatus {
  type: 'hush:call-status';
  id: string;
  status: 'started' | 'declined' | 'ended';
}

export class HushPage {
  private constructor(
    /** The puppeteer Page, for anything the kit does not cover. */
    readonly page: Page,
  ) {}

  /** @internal use hush.openPage(url) */
  static async open(page: Page, url: string): Promise<HushPage> {
    await gotoWithHush(page, url);
    await page.evaluate(() => {
      const w = window as unknown as { __hushStatuses?: unknown[] };
      w.__hushStatuses = [];
      window.addEventListener('message', (e) => {
        if (e.data && e.data.type === 'hush:call-status') w.__hushStatuses!.push(e.data);
      });
    });
    return new HushPage(page);
  }

  /** Click the Hush link at `selector`, then press Call in the bar Hush shows (it asks first). */
  async clickHushLink(selector: string): Promise<void> {
    await pageClick(this.page, selector);
    await barClick(this.page, 'bar-call');
  }

  /**
   * Ask for a call through the page API (what a site's "Call me" button does) and
   * answer Hush's question in the bar: 'allow-once' (default) or 'deny'.
   */
  async requestCall(address: string, answer: 'allow-once' | 'deny' = 'allow-once', id = 'kit'): Promise<void> {
    await this.page.bringToFront();
    await this.page.evaluate((a, i) => window.postMessage({ type: 'hush:call', address: a, id: i }, '*'), address, id);
    await barClick(this.page, answer === 'deny' ? 'bar-deny' : 'bar-allow-once');
  }

  /** The page API's status messages received so far. */
  async statuses(): Promise<CallStatus[]> {
    return this.page.evaluate(() => (window as unknown as { __hushStatuses?: CallStatus[] }).__hushStatuses ?? []);
  }

  /** Wait for the page API to report `status` (e.g. 'started', 'ended'). */
  async waitForStatus(status: CallStatus['status'], timeoutMs = 20_000): Promise<void> {
    await waitFor(async () => (await this.statuses()).some((s) => s.status === status), {
      timeout: timeoutMs,
      interval: 100,
      what: async () => `the page API to report "${status}" (so far: ${JSON.stringify(await this.statuses())})`,
    });
  }

  /** The text of an element of Hush's in-page bar (its data-testid, e.g. 'bar-state'), once shown. */
  async barText(testid: string, timeoutMs = 15_000): Promise<string> {
    return waitBar(this.page, testid, () => true, timeoutMs);
  }

  /** Click a button of Hush's in-page bar (its data-testid, e.g. 'bar-hangup', 'bar-accept'). */
  async barClick(testid: string): Promise<void> {
    await barClick(this.page, testid);
  }
}
