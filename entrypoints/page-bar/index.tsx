// Loaded on demand by the page loader (entrypoints/page-loader, lib/page-api/loader.ts): the call on a page.
// Wiring only: lib/page-api/content.ts has the logic, components/page/PageBar.tsx the bar,
// lib/page-api/shadow-host.ts the closed shadow root (and why it is not WXT's content-script UI).
// The loader's two listeners stay the only ones on the page: they hand over what passes (pageHook).
import { render } from 'preact';
import { defineUnlistedScript } from 'wxt/utils/define-unlisted-script';
import { PageIntegration } from '@/lib/page-api/content';
import { pageHook } from '@/lib/page-api/loader';
import { createBarHost } from '@/lib/page-api/shadow-host';
import { PageBar } from '@/components/page/PageBar';
import css from '@/components/page/bar.css?inline';

export default defineUnlistedScript(() => {
  const hook = pageHook(window);
  const app = new PageIntegration(window);
  const host = createBarHost(document, css);
  render(<PageBar app={app} />, host.container);
  const sync = () => (app.visible ? host.attach() : host.detach());
  app.subscribe(sync);
  app.onOrphaned(() => {
    hook.stop?.();
    host.detach();
    render(null, host.container);
  });
  app.start();
  hook.handle = (ev) => app.handle(ev);
  // The events that made the loader import this script.
  for (const ev of hook.queue.splice(0)) app.handle(ev);
});
