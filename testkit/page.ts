/**
 * An ordinary web page in a Hush browser: click a Hush link (`web+hush:…`) or
 * call the page API (`window.postMessage({ type: 'hush:call', address, id })`)
 * and answer Hush's question as a person does: in Hush's own consent window
 * (a small extension window the page cannot draw over, read or click into;
 * docs/page-api.md), never in the page.
 *
 * The in-page bar (a status display on the tab that started the call) lives in
 * a closed shadow root; the kit finds its buttons through DevTools and clicks
 * them with the real mouse (tests/harness/ui.ts).
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

  /** Click the Hush link at `selector` (a real click: a gesture), then answer Allow once in Hush's consent window. */
  async clickHushLink(selector: string): Promise<void> {
    await pageClick(this.page, selector);
    await this.answerConsent('allow-once');
  }

  /**
   * Ask for a call through the page API (what a site's "Call me" button does: it must run
   * during a click, so the kit clicks a button it adds to the page) and answer Hush's question
   * in its consent window: 'allow-once' (default) or 'deny'.
   */
  async requestCall(address: string, answer: 'allow-once' | 'deny' = 'allow-once', id = 'kit'): Promise<void> {
    await this.page.bringToFront();
    await this.page.evaluate(
      (a, i) => {
        const b = document.createElement('button');
        b.id = '__hush_kit_call';
        b.textContent = 'Call';
        b.style.cssText = 'position:fixed;left:8px;top:8px;z-index:1';
        b.onclick = () => window.postMessage({ type: 'hush:call', address: a, id: i }, '*');
        document.body.append(b);
      },
      address,
      id,
    );
    await pageClick(this.page, '#__hush_kit_call');
    await this.page.evaluate(() => document.getElementById('__hush_kit_call')?.remove());
    await this.answerConsent(answer);
  }

  /** Hush's consent window (popup.html#consent=…), answered with a real click; it closes after. */
  private async answerConsent(answer: 'allow-once' | 'deny'): Promise<void> {
    const target = await this.page.browser().waitForTarget((t) => t.url().includes('/popup.html#consent='), { timeout: 15_000 });
    const w = (await target.asPage())!;
    await w.waitForSelector('[data-testid="consent"]', { visible: true, timeout: 10_000 });
    await w.bringToFront();
    await w.click(`[data-testid="${answer === 'deny' ? 'consent-deny' : 'consent-once'}"]`);
    await waitFor(() => w.isClosed(), { timeout: 5000, what: "Hush's consent window to close" });
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
