// Firefox's call window: the media host (getUserMedia, RTCPeerConnection, playback) and the
// call's UI. Wiring only: lib/platform/media-server.ts, lib/platform/call-window.ts, components/.
import { render } from 'preact';
import { browser } from 'wxt/browser';
import { CallWindow } from '@/components/call-window/CallWindow';
import '@/components/popup.css';
import { isFor, type OffscreenEvent, type OffscreenRequest } from '@/lib/messaging/protocol';
import { isFromBackground } from '@/lib/messaging/sender';
import { MediaServer } from '@/lib/platform/media-server';
import { exposeMediaServer } from '@/lib/testing/hooks';
import { closeWhenCallDismissed, isCallWindow } from '@/lib/platform/call-window-page';

const server = new MediaServer((callId, event) => {
  const msg: OffscreenEvent = { target: 'background', kind: 'media-event', callId, event };
  browser.runtime.sendMessage(msg).catch(() => {});
});
exposeMediaServer(server); // test builds only (lib/testing/hooks.ts)

render(<CallWindow />, document.getElementById('app')!);
void isCallWindow().then((mine) => {
  if (!mine) return; // call.html opened in a tab by hand: the UI only, no second media host
  browser.runtime.onMessage.addListener((msg: unknown, sender) => {
    if (!isFromBackground(sender) || !isFor<OffscreenRequest>(msg, 'offscreen')) return undefined;
    return server.handle(msg);
  });
  closeWhenCallDismissed(server);
});
