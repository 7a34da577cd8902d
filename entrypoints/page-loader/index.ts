// Content script on every page (wxt.config.ts): the tiny listener of lib/page-api/loader.ts.
// Wiring only; page-bar.js (the bar, the page API, the port) is imported on demand.
// `chrome.runtime` is touched only then: the first access to an extension API builds its
// bindings in the isolated world, a cost every page would pay for nothing (bench/page.bench.ts).
import { defineUnlistedScript } from 'wxt/utils/define-unlisted-script';
import { installLoader } from '@/lib/page-api/loader';

type Runtime = { chrome: { runtime: { getURL(p: string): string } } };

export default defineUnlistedScript(() => {
  installLoader(window, () => import(/* @vite-ignore */ (globalThis as unknown as Runtime).chrome.runtime.getURL('/page-bar.js')));
});
