// Background: wiring only (lib/background/app.ts has the logic).
import { browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';
import { BackgroundApp } from '@/lib/background/app';
import { localMediaPort, offscreenMediaPort } from '@/lib/platform/media-port';

export default defineBackground({
  type: 'module',
  main() {
    // Chrome: media runs in the offscreen document; Firefox: in this background page.
    const app = BackgroundApp.boot(async (emit) => (browser.offscreen ? offscreenMediaPort() : localMediaPort(emit)));
    // Register listeners synchronously (MV3), and let them wait for boot.
    browser.runtime.onMessage.addListener((msg) => app.then((a) => a.onMessage(msg)));
    browser.runtime.onConnect.addListener((port) => void app.then((a) => a.onConnect(port)));
    browser.notifications.onButtonClicked?.addListener((id, i) => void app.then((a) => a.onNotificationButton(id, i)));
    browser.notifications.onClicked.addListener(() => void browser.action?.openPopup?.().catch(() => {}));
  },
});
