/** Round trip to the media host (diagnostics and the smoke test): the offscreen document on Chrome, this page on Firefox. */
import { browser } from 'wxt/browser';
import { mediaCapabilities } from '../media/capabilities';
import type { OffscreenPong, OffscreenRequest, OffscreenResponse } from '../messaging/protocol';
import { ensureOffscreen } from '../platform/offscreen';

export async function pingMediaHost(): Promise<OffscreenPong | { error: string }> {
  const nonce = crypto.randomUUID();
  if (!browser.offscreen) return { kind: 'pong', nonce, capabilities: mediaCapabilities() };
  try {
    await ensureOffscreen();
    const req: OffscreenRequest = { target: 'offscreen', kind: 'ping', nonce };
    const r = (await browser.runtime.sendMessage(req)) as OffscreenResponse<OffscreenPong> | undefined;
    if (!r?.ok || r.value.nonce !== nonce) return { error: 'the offscreen document did not answer' };
    return r.value;
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}
