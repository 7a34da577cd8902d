// Background service worker: wiring only. Logic lives in lib/.
import { browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';
import { handleBackgroundMessage } from '@/lib/background/router';

export default defineBackground({
  type: 'module',
  main() {
    browser.runtime.onMessage.addListener((msg, sender) => handleBackgroundMessage(msg, sender));
  },
});
