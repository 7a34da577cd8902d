/**
 * The content script that runs on every page (issue 13, "Cost per page"):
 * two listeners and nothing else. No port to the background, no Preact, no
 * DOM. Only a `hush:call` message posted by the page itself during a user
 * gesture, or a real click on a `web+hush:` link, loads the rest
 * (page-bar.js, a web-accessible chunk imported with a dynamic import: it
 * runs in this same isolated world).
 *
 * These two listeners stay the only ones on the page, before and after the
 * load: they are where a page's events are judged (isTrusted, transient
 * activation at the moment of the event), and they hand what passes to the
 * loaded part through `globalThis[PAGE_HOOK]`, a global of the isolated
 * world, invisible to the page: events that arrive while page-bar.js loads
 * wait in its queue, page-bar.js then sets its handler and drains them.
 *
 * A message without a gesture is ignored: no answer of any kind, nothing
 * loaded.
 */
export const PAGE_HOOK = '__hushPage';

export type PendingEvent = { kind: 'page'; origin: string; data: unknown } | { kind: 'link'; href: string };

/** The hand-over between this loader and page-bar.js (two bundles sharing one isolated world). */
export interface PageHook {
  /** Events that passed before the handler was set. */
  queue: PendingEvent[];
  /** Set by page-bar.js once loaded. */
  handle?: (ev: PendingEvent) => void;
  /** Removes the two listeners (page-bar.js, when the extension went away). */
  stop?: () => void;
}

const PAGE_CALL = 'hush:call';

export function isHushHrefLoose(href: string | null | undefined): boolean {
  return !!href && href.trim().toLowerCase().startsWith('web+hush:');
}

/**
 * A contact link (`https://relay.example/c#hush1…@relay.example`,
 * lib/contacts/link.ts cardFromContactHref) at a glance: path /c, a fragment
 * naming an address and the link's own host among its relays. The checksum
 * is checked after the load; this file stays without the address code.
 */
export function isContactHrefLoose(href: string | null | undefined): boolean {
  const m = /^(https?):\/\/([^/?#]+)\/c#(?:web(?:\+|%2b)hush:(?:\/\/)?)?hush1[^@]*@(.+)$/i.exec(href?.trim() ?? '');
  if (!m) return false;
  const host = m[2]!.toLowerCase().replace(/^[^@]*@/, '');
  const https = m[1]!.toLowerCase() === 'https';
  // http only on loopback (a relay on this machine needs no TLS), as lib/contacts/link.ts.
  if (!https && !/^(?:localhost|127\.\d+\.\d+\.\d+|\[::1\])(?::\d+)?$/.test(host)) return false;
  const port = https ? ':443' : ':80';
  let hosts: string[];
  try {
    hosts = decodeURIComponent(m[3]!).toLowerCase().split(',').map((h) => h.trim());
  } catch {
    return false;
  }
  return hosts.some((h) => h === host || h + port === host || h === host + port);
}

/** The loader's hook on `win` (page-bar.js reads it; tests too). */
export function pageHook(win: Window): PageHook {
  const g = win as unknown as Record<string, PageHook | undefined>;
  return (g[PAGE_HOOK] ??= { queue: [] });
}

export function installLoader(win: Window, load: () => Promise<unknown>): () => void {
  const hook = pageHook(win);
  let loading = false;
  const pass = (ev: PendingEvent) => {
    if (hook.handle) return hook.handle(ev);
    hook.queue.push(ev);
    if (loading) return;
    loading = true;
    void load().catch(() => {
      loading = false;
    });
  };
  const onMessage = (ev: MessageEvent) => {
    if (ev.source !== win) return;
    const d = ev.data as { type?: unknown } | null;
    if (typeof d !== 'object' || d === null || d.type !== PAGE_CALL) return;
    const activation = (win.navigator as Navigator & { userActivation?: { isActive: boolean } }).userActivation;
    if (!activation?.isActive) return;
    pass({ kind: 'page', origin: ev.origin, data: d });
  };
  const onClick = (ev: MouseEvent) => {
    if (!ev.isTrusted || ev.button !== 0 || ev.defaultPrevented) return;
    const a = (ev.target as Element | null)?.closest?.('a[href]') as HTMLAnchorElement | null | undefined;
    const href = a?.getAttribute('href');
    if (isHushHrefLoose(href)) {
      ev.preventDefault();
      pass({ kind: 'link', href: href! });
      return;
    }
    // A contact link (https://relay/c#card): `a.href` is the absolute URL, a relative href resolved.
    const abs = typeof a?.href === 'string' ? a.href : '';
    if (!isContactHrefLoose(abs)) return;
    ev.preventDefault();
    pass({ kind: 'link', href: abs });
  };
  // Both on `window` (the click in its capture phase, the first one of a click's path): touching
  // `document` here would build its wrappers in the isolated world on every page (bench/page.bench.ts).
  win.addEventListener('message', onMessage);
  win.addEventListener('click', onClick, true);
  hook.stop = () => {
    win.removeEventListener('message', onMessage);
    win.removeEventListener('click', onClick, true);
  };
  return hook.stop;
}
