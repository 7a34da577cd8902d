/**
 * Where a page's call request is decided (issue 13): the extension's own
 * window, opened by the background with `windows.create({ type: 'popup' })`
 * on popup.html#consent=<token> (components/page/PageConsent.tsx).
 *
 * Why a window and not the toolbar popup: `action.openPopup()` needs a user
 * gesture in the extension's own UI in Chrome (a page's gesture does not
 * carry over the port) and in Firefox, so the background cannot open the
 * popup when a page asks. `windows.create` works from the background in
 * both browsers (Chrome MV3 service worker, Firefox MV2 background page)
 * without a gesture. The window is the browser's own top-level window: no
 * page can draw over it, read it, or deliver a click or key to it.
 *
 * "Always" grants are per (https origin, address): Settings.pageOrigins
 * entries "<origin> <address>" (in the extension's database, listed and
 * revoked on the options page); http origins can only allow once.
 */
import { browser } from 'wxt/browser';

/** Fixed size: the window never grows with a contact name vs a raw address. */
export const CONSENT_WINDOW = { width: 400, height: 360 } as const;

/** "Always" is offered and honoured only for https pages. */
export function isHttpsOrigin(origin: string): boolean {
  return origin.startsWith('https://');
}

let windowId: number | undefined;
let onClosed: (() => void) | undefined;
let watching = false;

/** Open (or focus and point) the extension's window at `popup.html#<hash>`; `closed` runs when it closes or is pointed elsewhere. */
export async function openHushWindow(hash: string, closed: () => void): Promise<void> {
  if (!watching) {
    watching = true;
    browser.windows.onRemoved.addListener((id) => {
      if (id !== windowId) return;
      windowId = undefined;
      const f = onClosed;
      onClosed = undefined;
      f?.();
    });
  }
  const previous = onClosed;
  onClosed = closed;
  previous?.();
  const url = browser.runtime.getURL(`/popup.html${hash ? `#${hash}` : ''}` as '/popup.html');
  if (windowId !== undefined) {
    try {
      const [tab] = await browser.tabs.query({ windowId });
      if (tab?.id !== undefined) {
        await browser.tabs.update(tab.id, { url });
        await browser.windows.update(windowId, { focused: true });
        return;
      }
    } catch {
      windowId = undefined;
    }
  }
  const w = await browser.windows.create({ url, type: 'popup', focused: true, ...CONSENT_WINDOW });
  windowId = w?.id;
}
