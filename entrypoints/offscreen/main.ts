// Offscreen document (Chrome): hosts media for the call. Wiring only.
import { browser } from 'wxt/browser';
import { isFor, unreachable, type OffscreenPong, type OffscreenRequest } from '@/lib/messaging/protocol';
import { mediaCapabilities } from '@/lib/media/capabilities';

browser.runtime.onMessage.addListener((msg: unknown) => {
  if (!isFor<OffscreenRequest>(msg, 'offscreen')) return undefined;
  switch (msg.kind) {
    case 'ping': {
      const pong: OffscreenPong = { kind: 'pong', nonce: msg.nonce, capabilities: mediaCapabilities() };
      return Promise.resolve(pong);
    }
    default:
      return unreachable(msg.kind);
  }
});
