// Content script (declared in wxt.config.ts: every page, top frame only): the call on any page.
// Wiring only: lib/page-api/content.ts has the logic, components/page/PageBar.tsx the bar,
// lib/page-api/shadow-host.ts the closed shadow root (and why it is not WXT's content-script UI).
import { render } from 'preact';
import { defineUnlistedScript } from 'wxt/utils/define-unlisted-script';
import { PageIntegration } from '@/lib/page-api/content';
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
});
