// Loaded on demand by the page loader (entrypoints/page-loader, lib/page-api/loader.ts): the call on a page.
// Wiring only: lib/page-api/content.ts has the logic, components/page/PageBar.tsx the bar,
// lib/page-api/shadow-host.ts the closed shadow root (and why it is not WXT's content-script UI).
import { render } from 'preact';
import { defineUnlistedScript } from 'wxt/utils/define-unlisted-script';
import { PageIntegration } from '@/lib/page-api/content';
import { PENDING_KEY, type PendingEvent } from '@/lib/page-api/loader';
import { createBarHost } from '@/lib/page-api/shadow-host';
import { PageBar } from '@/components/page/PageBar';
import css from '@/components/page/bar.css?inline';

export default defineUnlistedScript(() => {
  const app = new PageIntegration(window);
  const host = createBarHost(document, css);
  render(<PageBar app={app} />, host.container);
  const sync = () => (app.visible ? host.attach() : host.detach());
  app.subscribe(sync);
  app.onOrphaned(() => {
    host.detach();
    render(null, host.container);
  });
  app.start();
  // The event that made the loader (lib/page-api/loader.ts) import this script.
  const g = globalThis as unknown as Record<string, PendingEvent[] | undefined>;
  for (const ev of g[PENDING_KEY]?.splice(0) ?? []) app.replay(ev);
});
