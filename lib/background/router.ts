/**
 * The background's one entry for runtime messages: routes each PopupRequest
 * to its handler and ignores messages addressed to other contexts.
 */
import { browser, type Browser } from 'wxt/browser';
import { ensureOffscreen } from '../platform/offscreen';
import {
  isFor,
  unreachable,
  type OffscreenPong,
  type OffscreenRequest,
  type PopupRequest,
  type StatusResponse,
} from '../messaging/protocol';
import { mediaCapabilities } from '../media/capabilities';

export function handleBackgroundMessage(
  msg: unknown,
  _sender: Browser.runtime.MessageSender,
): Promise<unknown> | undefined {
  if (!isFor<PopupRequest>(msg, 'background')) return undefined;
  switch (msg.kind) {
    case 'status':
      return status();
    default:
      return unreachable(msg.kind);
  }
}

async function status(): Promise<StatusResponse> {
  return {
    ok: true,
    version: browser.runtime.getManifest().version,
    offscreen: await pingMediaHost().catch((e: unknown) => ({ error: String(e) })),
  };
}

/** Round trip to the media host: the offscreen document on Chrome, this page on Firefox. */
async function pingMediaHost(): Promise<OffscreenPong> {
  const nonce = crypto.randomUUID();
  if (!browser.offscreen) {
    // Firefox: the background page is the media host (no offscreen API).
    return { kind: 'pong', nonce, capabilities: mediaCapabilities() };
  }
  await ensureOffscreen();
  const req: OffscreenRequest = { target: 'offscreen', kind: 'ping', nonce };
  const pong = (await browser.runtime.sendMessage(req)) as OffscreenPong | undefined;
  if (!pong || pong.nonce !== nonce) throw new Error('offscreen document did not answer');
  return pong;
}
