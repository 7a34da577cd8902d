/**
 * The microphone permission in a browser test, as a person gives it (issue 12).
 *
 * Launched with `realPermissionUi` (tests/harness/chromium.ts), Chromium has no
 * the fake-UI permission flag: nothing grants the microphone by itself, and
 * the offscreen document's getUserMedia fails (NotAllowedError, state
 * `prompt`) as in a real profile. Headless Chromium shows no prompt a test
 * could answer: it answers by itself, as a Block (`PROMPT_IN_HEADLESS`). So a
 * person's Allow is recorded the way Chrome records it, through CDP
 * `Browser.setPermission` for the extension's origin, and only while the test
 * clicks Hush's own "Allow microphone" button with the mouse: the button is
 * pressed, the grant recorded, the button released (the click, and Hush's
 * getUserMedia, happen on release). Hush's side then sees what it sees when a
 * person answers Allow in the prompt: getUserMedia resolves.
 */
import type { CDPSession, Page } from 'puppeteer-core';
import type { HushBrowser } from './chromium';
// (chromium.ts imports this file for the launch grant; a type-only import back keeps the cycle harmless.)

export type MicPermissionState = 'granted' | 'denied' | 'prompt' | 'unknown';

/**
 * What headless Chromium 156 does with a getUserMedia prompt and no
 * the fake-UI permission flag, measured by tests/e2e/first-run.test.ts:
 * from a visible extension page, it rejects within ~50-100 ms with
 * `NotAllowedError: Permission denied` and records `denied` for the origin
 * (it stays denied after a reload): a Block, not a hang and not a dismissal.
 * (The offscreen document, which can show no prompt, gets `Permission
 * dismissed` and the state stays `prompt`: the bug of issue 12.)
 */
export const PROMPT_IN_HEADLESS = 'denied';

/** The microphone permission as `page` (an extension page: its origin is the extension's) sees it. */
export async function micPermissionState(page: Page): Promise<MicPermissionState> {
  return (await page.evaluate(async () => {
    try {
      return (await navigator.permissions.query({ name: 'microphone' as PermissionName })).state;
    } catch {
      return 'unknown';
    }
  })) as MicPermissionState;
}

/**
 * One CDP session on the browser per HushBrowser, kept open: Chromium drops a
 * session's permission overrides when that session detaches (measured: a
 * grant set through a session that then detached fell back to `prompt` within
 * 300 ms), so the session that recorded the person's answer must outlive it.
 */
const sessions = new WeakMap<HushBrowser, Promise<CDPSession>>();
function browserSession(hush: HushBrowser): Promise<CDPSession> {
  let s = sessions.get(hush);
  if (!s) {
    s = hush.browser.target().createCDPSession();
    sessions.set(hush, s);
  }
  return s;
}

/** Record the person's answer for the extension's origin, as Chrome does when they click Allow or Block. */
export async function setMicPermission(hush: HushBrowser, setting: 'granted' | 'denied' | 'prompt'): Promise<void> {
  const cdp = await browserSession(hush);
  await cdp.send('Browser.setPermission', {
    permission: { name: 'microphone' },
    setting,
    origin: `chrome-extension://${hush.extensionId}`,
  });
}

/** The state Hush's microphone step shows (its data-state), '' when it is not on the page. */
export async function micStepState(page: Page): Promise<string> {
  return (await page.$eval('[data-testid="mic-step"]', (e) => e.getAttribute('data-state') ?? '').catch(() => '')) as string;
}

/**
 * Press the button in `box` with the mouse, record the person's `answer` while it
 * is down, release it. Returns Date.now() at the release.
 *
 * Hush follows the permission's `change` event too (a grant given in the site
 * settings counts), so the answer alone may end the step and close Hush's
 * permission window before the button comes up (seen on a fast CI machine:
 * `Input.dispatchMouseEvent: Target closed`). A release into a window that is
 * already gone is the person's click arriving late, not a failure.
 */
export async function pressAllowAndAnswer(
  hush: HushBrowser,
  page: Page,
  box: { x: number; y: number; width: number; height: number },
  answer: 'granted' | 'denied',
): Promise<number> {
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await setMicPermission(hush, answer);
  const at = Date.now();
  try {
    await page.mouse.up();
  } catch (e) {
    if (!page.isClosed() && !closedUnderClick(e)) throw e;
  }
  return at;
}

/** The error CDP gives for a mouse event whose window closed before Chromium acknowledged it. */
export function closedUnderClick(e: unknown): boolean {
  const m = e instanceof Error ? `${e.name} ${e.message}` : String(e);
  return /TargetCloseError|Target closed|Session closed|detached/i.test(m);
}

/**
 * On Hush's permission or welcome page: click "Allow microphone" with the
 * mouse as a person does, the person's Allow recorded while the button is
 * down (see the header), then wait until the page itself says `granted`.
 * Returns the ms from the click (release) to the page showing the grant.
 */
export async function grantMicrophoneLikeAPerson(
  hush: HushBrowser,
  page: Page,
  timeoutMs = 15_000,
  /** acceptAnyAnswer: the launch grant of a browser with no capture device (the step then says 'failed', the grant holds). */
  opts: { acceptAnyAnswer?: boolean } = {},
): Promise<number> {
  const button = await page.waitForSelector('[data-testid="mic-allow"]', { visible: true, timeout: timeoutMs });
  if (!button) throw new Error('no "Allow microphone" button on the page');
  await button.scrollIntoView();
  const box = await button.boundingBox();
  if (!box) throw new Error('the "Allow microphone" button has no box');
  const t0 = await pressAllowAndAnswer(hush, page, box, 'granted');
  if (opts.acceptAnyAnswer) {
    await page.waitForFunction(() => (navigator.permissions.query({ name: 'microphone' as PermissionName }) as Promise<PermissionStatus>).then((s) => s.state === 'granted'), {
      timeout: timeoutMs,
    });
  } else {
    await page.waitForSelector('[data-testid="mic-step"][data-state="granted"]', { timeout: timeoutMs });
  }
  return Date.now() - t0;
}

/**
 * Record what Hush's pages report to the background (`mic-permission`
 * messages), from inside the service worker; read them with `micReports`.
 */
export async function recordMicReports(hush: HushBrowser): Promise<void> {
  const w = await hush.worker();
  await w.evaluate(() => {
    const g = globalThis as unknown as { __micReports?: string[]; chrome: { runtime: { onMessage: { addListener(f: (m: unknown) => void): void } } } };
    if (g.__micReports) return;
    g.__micReports = [];
    g.chrome.runtime.onMessage.addListener((m) => {
      const msg = m as { target?: string; kind?: string; state?: string };
      if (msg?.target === 'background' && msg.kind === 'mic-permission' && msg.state) g.__micReports!.push(msg.state);
    });
  });
}

export async function micReports(hush: HushBrowser): Promise<string[]> {
  const w = await hush.worker();
  return w.evaluate(() => [...((globalThis as { __micReports?: string[] }).__micReports ?? [])]);
}

/** Hush's permission window (permission.html), once the background opened it for a call. */
export async function permissionWindow(hush: HushBrowser, timeoutMs = 15_000): Promise<Page> {
  const url = `chrome-extension://${hush.extensionId}/permission.html`;
  const t = await hush.browser.waitForTarget((t) => t.type() === 'page' && t.url() === url, { timeout: timeoutMs });
  const page = (await t.page())!;
  await page.waitForSelector('[data-testid="mic-step"]', { visible: true, timeout: timeoutMs });
  return page;
}
