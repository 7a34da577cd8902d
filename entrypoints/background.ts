// Background: wiring only (lib/background/: app.ts wires the stores, the call controls and the UI dispatch).
import { browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';
import { BackgroundApp } from '@/lib/background/app';
import { acceptsMessagesFrom } from '@/lib/messaging/sender';
import { callWindowMediaPort, offscreenMediaPort } from '@/lib/platform/media-port';
import { ensureCallWindow, onCallWindowClosedByUser } from '@/lib/platform/call-window';

export default defineBackground({
  type: 'module',
  // Firefox (MV2): a persistent background page. It holds the signalling connection
  // that lets a call ring at any time, and an event page would be unloaded after
  // 30 s idle (docs/firefox.md). Chrome's MV3 service worker ignores this key.
  persistent: true,
  main() {
    // Chrome: media runs in the offscreen document; Firefox: in the call window.
    const firefox = !browser.offscreen;
    const app = BackgroundApp.boot(async () => (firefox ? callWindowMediaPort() : offscreenMediaPort()));
    // Register listeners synchronously (MV3), and let them wait for boot.
    // Decided before any promise is returned: a returned promise is an answer (null), even to a denied sender.
    browser.runtime.onMessage.addListener((msg, sender) => (acceptsMessagesFrom(sender) ? app.then((a) => a.onMessage(msg, sender)) : undefined));
    browser.runtime.onConnect.addListener((port) => void app.then((a) => a.onConnect(port)));
    // First run: the welcome page (address, microphone, relay, backup). Never on updates, nor
    // on Firefox's temporary installs (about:debugging, web-ext, test harnesses: no person there).
    browser.runtime.onInstalled.addListener((details) => {
      // `temporary`: Firefox only (runtime.onInstalled's details), absent from Chrome's types.
      const { reason, temporary } = details as typeof details & { temporary?: boolean };
      if (reason === 'install' && !temporary) void browser.tabs.create({ url: browser.runtime.getURL('/welcome.html') }).catch(() => {});
    });
    browser.notifications.onButtonClicked?.addListener((id, i) => void app.then((a) => a.onNotificationButton(id, i)));
    if (firefox) {
      // No notification buttons: the click opens the call window, which shows Accept/Decline
      // and, once accepted, hosts the call (opening the toolbar popup instead would put the
      // answer in a popup that closes as soon as the call window takes the focus).
      browser.notifications.onClicked.addListener(() => void ensureCallWindow().catch(() => {}));
      // Closing the call window is hanging up (or, during its microphone prompt, refusing the microphone).
      onCallWindowClosedByUser(() => void app.then((a) => a.onCallWindowClosed()));
    } else {
      browser.notifications.onClicked.addListener(() => void browser.action?.openPopup?.().catch(() => {}));
    }
  },
});
