/**
 * Issue 17, a faster start: the person is about to dial (types or pastes an address, points at
 * or tabs to a Call button, sees Hush's "Call?" window). The background then makes the media host
 * (Chrome's offscreen document, ~100-150 ms on these machines) before the click instead of after
 * it, and closes it again if no call follows (lib/background/app.ts, ABOUT_TO_DIAL_HOLD_MS).
 * Nothing leaves the device for it: no microphone, no connection, no key.
 *
 * At most one request per REPEAT_MS from one page.
 */
import { request } from './client';

const REPEAT_MS = 1_000;
let last = -Infinity;

export function aboutToDial(): void {
  const now = Date.now();
  if (now - last < REPEAT_MS) return;
  last = now;
  void request('about-to-dial').catch(() => undefined);
}
