/**
 * The in-page bar's host: an element with a CLOSED shadow root, attached to
 * the page only while the bar shows. `element.shadowRoot` is null for the
 * page, the page's CSS cannot reach inside (`:host { all: initial }` resets
 * what inherits), and key/input/focus events stop at the shadow boundary so
 * page listeners in the bubble phase never see what is typed or focused.
 *
 * Why not WXT's createShadowRootUi: it needs WXT's ContentScriptContext,
 * whose constructor posts `{ type: "<extension id>:<entry>:wxt:content-script-started" }`
 * to the page with window.postMessage: every page would learn the
 * extension's id, i.e. that Hush is installed. The page-API test found it.
 */
export interface BarHost {
  /** Where Preact renders, inside the shadow root. */
  container: HTMLElement;
  attach(): void;
  detach(): void;
}

const ISOLATED_EVENTS = ['keydown', 'keyup', 'keypress', 'input', 'beforeinput', 'focusin', 'focusout'];

export function createBarHost(doc: Document, css: string): BarHost {
  const host = doc.createElement('hush-call-bar');
  const shadow = host.attachShadow({ mode: 'closed' });
  const style = doc.createElement('style');
  style.textContent = `:host { all: initial !important; }\n${css}`;
  const container = doc.createElement('div');
  for (const type of ISOLATED_EVENTS) container.addEventListener(type, (e) => e.stopPropagation());
  shadow.append(style, container);
  return {
    container,
    attach: () => {
      if (!host.isConnected) doc.documentElement.append(host);
    },
    detach: () => host.remove(),
  };
}
