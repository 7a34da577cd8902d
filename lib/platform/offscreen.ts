/**
 * The media host: where getUserMedia, RTCPeerConnection and playback live.
 *
 * Chrome MV3's service worker has no DOM and no WebRTC, so media runs in an
 * offscreen document (reasons USER_MEDIA + WEB_RTC, and AUDIO_PLAYBACK for
 * the ringtone of an incoming call). Only one offscreen
 * document may exist per extension; `ensureOffscreen` creates it once and
 * serialises concurrent callers on the same promise.
 */
import { browser } from 'wxt/browser';

const OFFSCREEN_PATH = '/offscreen.html';

let creating: Promise<void> | undefined;

export async function hasOffscreen(): Promise<boolean> {
  const url = browser.runtime.getURL(OFFSCREEN_PATH);
  const contexts = await browser.runtime.getContexts({
    contextTypes: ['OFFSCREEN_DOCUMENT' as Browser.runtime.ContextType],
    documentUrls: [url],
  });
  return contexts.length > 0;
}

export async function ensureOffscreen(): Promise<void> {
  if (await hasOffscreen()) return;
  creating ??= browser.offscreen
    .createDocument({
      url: OFFSCREEN_PATH,
      reasons: ['USER_MEDIA', 'WEB_RTC', 'AUDIO_PLAYBACK'] as Browser.offscreen.Reason[],
      justification: 'Hush runs the encrypted voice call (microphone, WebRTC, playback) here.',
    })
    .finally(() => {
      creating = undefined;
    });
  await creating;
}

/** Close the offscreen document after a call: releases the microphone. */
export async function closeOffscreen(): Promise<void> {
  if (await hasOffscreen()) await browser.offscreen.closeDocument().catch(() => {});
}
