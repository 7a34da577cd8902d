/**
 * Hush's consent window (issue 13: popup.html#consent=<token>, a window of
 * the extension's own, opened by the background when a page or a Hush link
 * asks for a call): find it, and answer it with a real mouse click as a
 * person does.
 */
import type { Page, Target } from 'puppeteer-core';
import type { HushSide } from './hush';
import { waitFor } from './wait';
import { closedUnderClick } from './permission';

const isConsent = (t: Target) => t.url().includes('/popup.html#consent=');

/** The consent windows open right now. */
export function consentTargets(side: HushSide): Target[] {
  return side.hb.browser.targets().filter(isConsent);
}

/** Wait for the consent window and for its question to show. */
export async function consentWindow(side: HushSide, timeoutMs = 15_000): Promise<Page> {
  const t = await side.hb.browser.waitForTarget(isConsent, { timeout: timeoutMs });
  const p = (await t.asPage())!;
  await p.waitForSelector('[data-testid="consent"]', { visible: true, timeout: 10_000 });
  return p;
}

/** Click one of the window's buttons with the real mouse at its coordinates; the window closes. */
export async function answerConsent(side: HushSide, testid: 'consent-once' | 'consent-always' | 'consent-deny'): Promise<void> {
  const w = await consentWindow(side);
  await w.bringToFront();
  const box = await (await w.waitForSelector(`[data-testid="${testid}"]`, { visible: true }))!.boundingBox();
  try {
    await w.mouse.click(box!.x + box!.width / 2, box!.y + box!.height / 2);
  } catch (e) {
    // The click's handler closes the window; on a busy machine the window can
    // be gone before Chromium acknowledges the mouse-up (CI, stop 28:
    // "Input.dispatchMouseEvent: Target closed"). Only that error is the answer
    // landing; whether it did is what the wait below and the caller's checks say.
    if (!closedUnderClick(e)) throw e;
  }
  await waitFor(() => w.isClosed(), { timeout: 5000, what: 'the consent window to close' });
}

