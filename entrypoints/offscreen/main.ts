// Offscreen document (Chrome): the media host. Wiring only (lib/platform/media-server.ts).
import { browser } from 'wxt/browser';
import { isFor, type OffscreenEvent, type OffscreenRequest } from '@/lib/messaging/protocol';
import { isFromBackground } from '@/lib/messaging/sender';
import { MediaServer } from '@/lib/platform/media-server';
import { exposeMediaServer } from '@/lib/testing/hooks';

const server = new MediaServer((callId, event) => {
  const msg: OffscreenEvent = { target: 'background', kind: 'media-event', callId, event };
  browser.runtime.sendMessage(msg).catch(() => {});
});
exposeMediaServer(server); // test builds only (lib/testing/hooks.ts)

browser.runtime.onMessage.addListener((msg: unknown, sender) => {
  // Chrome delivers every extension context's messages here: only the background's are served.
  if (!isFromBackground(sender) || !isFor<OffscreenRequest>(msg, 'offscreen')) return undefined;
  return server.handle(msg);
});
