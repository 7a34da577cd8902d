// Content script: the call on any page. Wiring only (lib/page-api/content.ts has the logic,
// components/page/PageBar.tsx the bar). The bar lives in a closed shadow root, mounted only
// while there is something to show, so the page can neither restyle nor read it.
import { render } from 'preact';
import { defineContentScript } from 'wxt/utils/define-content-script';
import { createShadowRootUi, type ShadowRootContentScriptUi } from 'wxt/utils/content-script-ui/shadow-root';
import { PageIntegration } from '@/lib/page-api/content';
import { PageBar } from '@/components/page/PageBar';
import css from '@/components/page/bar.css?inline';

export default defineContentScript({
  matches: ['<all_urls>'],
  allFrames: false,
  runAt: 'document_idle',
  cssInjectionMode: 'manual',
  async main(ctx) {
    const app = new PageIntegration(window);
    const ui: ShadowRootContentScriptUi<HTMLElement> = await createShadowRootUi(ctx, {
      name: 'hush-call-bar',
      mode: 'closed',
      position: 'inline',
      anchor: document.documentElement,
      append: 'last',
      css,
      isolateEvents: ['keydown', 'keyup', 'keypress', 'input', 'focusin', 'focusout'],
      onMount: (container) => {
        render(<PageBar app={app} />, container);
        return container;
      },
      onRemove: (container) => container && render(null, container),
    });
    let mounted = false;
    const sync = () => {
      if (app.visible && !mounted) ui.mount();
      else if (!app.visible && mounted) ui.remove();
      mounted = app.visible;
    };
    app.subscribe(sync);
    app.start();
    ctx.onInvalidated(() => app.stop());
  },
});
