// Content script on every page (wxt.config.ts): the tiny listener of lib/page-api/loader.ts.
// Wiring only; page-bar.js (the bar, the page API, the port) is imported on demand.
import { defineUnlistedScript } from 'wxt/utils/define-unlisted-script';
import { installLoader } from '@/lib/page-api/loader';

export default defineUnlistedScript(() => {
  const rt = (globalThis as unknown as { chrome: { runtime: { getURL(p: string): string } } }).chrome.runtime;
  installLoader(window, () => import(/* @vite-ignore */ rt.getURL('/page-bar.js')));
});
