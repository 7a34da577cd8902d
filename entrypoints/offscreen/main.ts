// Offscreen document (Chrome): the media host. Wiring only (lib/platform/media-server.ts).
import { browser } from 'wxt/browser';
import { isFor, type OffscreenEvent, type OffscreenRequest } from '@/lib/messaging/protocol';
import { MediaServer } from '@/lib/platform/media-server';

const server = new MediaServer((callId, event) => {
  const msg: OffscreenEvent = { target: 'background', kind: 'media-event', callId, event };
  browser.runtime.sendMessage(msg).catch(() => {});
});
// For tests and diagnostics from DevTools: the running call's engine.
(globalThis as { hushMediaServer?: MediaServer }).hushMediaServer = server;

browser.runtime.onMessage.addListener((msg: unknown) => {
  if (!isFor<OffscreenRequest>(msg, 'offscreen')) return undefined;
  return server.handle(msg);
});
