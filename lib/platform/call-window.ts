/**
 * Firefox's media host: a small extension window (`call.html`) that the
 * background opens when a call needs the microphone and closes when the
 * call's media stops. It runs the same MediaServer as Chrome's offscreen
 * document and shows the call (the popup's UI).
 *
 * Why a window and not the background page (docs/firefox.md has the evidence):
 * Firefox refuses getUserMedia from an extension's background page, always,
 * even when the person granted the microphone to the extension
 * (browser/actors/WebRTCParent.sys.mjs: "Recording from background pages is
 * considered too sensitive and will always be denied"). A popup may only use
 * an earlier, remembered grant, and dies when it loses focus. A tab or window
 * gets the normal permission prompt, remembered grants apply to it, and it
 * lives until closed; a *background* tab would wait for the person to select
 * it before the grant applies, so the call window is created focused.
 *
 * Closing the window by hand hangs up: `onCallWindowClosedByUser`.
 */
import { browser } from 'wxt/browser';
import type { OffscreenRequest, OffscreenResponse } from '../messaging/protocol';

const CALL_PAGE = '/call.html';
/**
 * Firefox's microphone prompt is 436 px wide and drops down inside this window: the
 * window is wider than that (with its frame), and as tall as the call screen with
 * the security code, so nothing is cut and nothing is blank (components/call-window).
 */
export const CALL_WINDOW_SIZE = { width: 480, height: 560 };
const READY_TIMEOUT_MS = 15_000;

let windowId: number | undefined;
let opening: Promise<void> | undefined;
/** Windows we are closing ourselves: their onRemoved is not the person's hang-up. */
const closing = new Set<number>();
let closedByUser: (() => void) | undefined;

/** Whether the call window is open (as far as this background knows). */
export function hasCallWindow(): boolean {
  return windowId !== undefined;
}

/** Open the call window (or bring it to the front) and wait until its media server answers. */
export async function ensureCallWindow(): Promise<void> {
  lingering = false; // a new call: an earlier call's "stay to show why" no longer applies
  if (windowId !== undefined) {
    try {
      await browser.windows.update(windowId, { focused: true });
      await waitForMediaServer();
      return;
    } catch {
      windowId = undefined; // closed behind our back
    }
  }
  opening ??= (async () => {
    const w = await browser.windows.create({ url: browser.runtime.getURL(CALL_PAGE), type: 'popup', focused: true, ...CALL_WINDOW_SIZE });
    windowId = w?.id;
    await waitForMediaServer();
  })().finally(() => {
    opening = undefined;
  });
  await opening;
}

/** Set by lingerCallWindow: the next closeCallWindow leaves the window (and its end sentence) open. */
let lingering = false;

/**
 * The call ended by the other side (or the network): the window stays after the media stops,
 * showing why (the end sentence), until the person dismisses the call or closes it
 * (call-window-page.ts closes it then). Issue 21, point 5: it no longer vanishes without a word.
 */
export function lingerCallWindow(): void {
  if (windowId !== undefined) lingering = true;
}

/** Close the call window after a call: releases the microphone (like closing Chrome's offscreen document). */
export async function closeCallWindow(): Promise<void> {
  if (lingering) {
    lingering = false; // the media is stopped (the microphone released); the page closes itself once dismissed
    return;
  }
  const id = windowId;
  windowId = undefined;
  if (id === undefined) return;
  closing.add(id);
  await browser.windows.remove(id).catch(() => closing.delete(id));
}

/** Register once (background): `fn` runs when the person closes the call window themselves. */
export function onCallWindowClosedByUser(fn: () => void): void {
  closedByUser = fn;
  browser.windows.onRemoved.addListener((id) => {
    if (closing.delete(id)) return;
    if (id !== windowId) return;
    windowId = undefined;
    closedByUser?.();
  });
}

/** Ping the call window's media server until it answers (its page is still loading at first). */
async function waitForMediaServer(): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const ping: OffscreenRequest = { target: 'offscreen', kind: 'ping', nonce: crypto.randomUUID() };
  for (;;) {
    const r = (await browser.runtime.sendMessage(ping).catch(() => undefined)) as OffscreenResponse | undefined;
    if (r?.ok) return;
    if (Date.now() > deadline) throw Object.assign(new Error('the call window did not start'), { code: 'ERR_WEBRTC' });
    await new Promise((res) => setTimeout(res, 50));
  }
}
