/**
 * The media host: where getUserMedia, RTCPeerConnection and playback live.
 *
 * Chrome MV3's service worker has no DOM and no WebRTC, so media runs in an
 * offscreen document (reasons USER_MEDIA + WEB_RTC, and AUDIO_PLAYBACK for
 * the ringtone of an incoming call). Only one offscreen
 * document may exist per extension. Creating and closing it run one at a
 * time, in call order (`lifecycle`): a close requested by the end of one call
 * and the creation for the next never interleave (a creation that checked
 * "exists" just before the close landed sent the next call's requests to a
 * document being closed: issue 17, "no audio on the next call"). Whether a
 * close is still wanted when its turn comes is the caller's `stillWanted`.
 */
import { browser } from 'wxt/browser';

const OFFSCREEN_PATH = '/offscreen.html';

let lifecycle: Promise<unknown> = Promise.resolve();
/** Counts the uses of the document (every `ensureOffscreen` that is not a clean-up's): a close wants none since it was asked. */
let uses = 0;

/** How many uses so far: read when a clean-up begins, handed to `closeOffscreen`. */
export function offscreenUses(): number {
  return uses;
}

function inTurn<T>(job: () => Promise<T>): Promise<T> {
  const r = lifecycle.then(job);
  lifecycle = r.catch(() => undefined);
  return r;
}

export async function hasOffscreen(): Promise<boolean> {
  const url = browser.runtime.getURL(OFFSCREEN_PATH);
  const contexts = await browser.runtime.getContexts({
    contextTypes: ['OFFSCREEN_DOCUMENT' as Browser.runtime.ContextType],
    documentUrls: [url],
  });
  return contexts.length > 0;
}

export function ensureOffscreen(use = true): Promise<void> {
  if (use) uses++;
  return inTurn(async () => {
    if (await hasOffscreen()) return;
    await browser.offscreen.createDocument({
      url: OFFSCREEN_PATH,
      reasons: ['USER_MEDIA', 'WEB_RTC', 'AUDIO_PLAYBACK'] as Browser.offscreen.Reason[],
      justification: 'Hush runs the encrypted voice call (microphone, WebRTC, playback) here.',
    });
  });
}

/**
 * Close the offscreen document after a call: releases the microphone. `since` (offscreenUses()
 * read when the clean-up began): if the document was used since (a next call began meanwhile:
 * its ringtone, its microphone check, its media), it stays.
 */
export function closeOffscreen(since = uses): Promise<void> {
  return inTurn(async () => {
    if (uses === since && (await hasOffscreen())) await browser.offscreen.closeDocument().catch(() => {});
  });
}
