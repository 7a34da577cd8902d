/**
 * The call window's own side of its lifetime (Firefox; call-window.ts is the
 * background's side). The background closes the window when the call's media
 * stops. A window opened only to show an incoming call (notification click)
 * never starts media if the call is declined or missed: it closes itself once
 * the person dismissed the ended call, so it never lingers as an empty Hush.
 */
import { browser } from 'wxt/browser';
import { VIEW_PORT, type ViewPush } from '../messaging/protocol';
import type { MediaServer } from './media-server';

/**
 * Whether this page is the call window the background opened (a popup-type
 * window) rather than call.html opened in a tab by hand, e.g. from history:
 * only the former may serve media, or two pages would both answer the
 * background and both open the microphone.
 */
export async function isCallWindow(): Promise<boolean> {
  const w = await browser.windows.getCurrent().catch(() => undefined);
  return w?.type === 'popup';
}

export function closeWhenCallDismissed(server: MediaServer): void {
  let sawCall = false;
  const port = browser.runtime.connect({ name: VIEW_PORT });
  port.onMessage.addListener((m: unknown) => {
    const push = m as ViewPush;
    if (push?.kind !== 'view') return;
    if (push.view.call) sawCall = true;
    else if (sawCall && !server.current()) window.close();
  });
}
