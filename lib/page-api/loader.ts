/**
 * The content script that runs on every page (issue 13, "Cost per page"):
 * two listeners and nothing else. No port to the background, no Preact, no
 * DOM. Only a `hush:call` message posted during a user gesture, or a real
 * click on a `web+hush:` link, loads the rest (page-bar.js, a web-accessible
 * chunk imported with a dynamic import: it runs in this same isolated world)
 * and hands it the event that woke it (`globalThis[PENDING_KEY]`, a global
 * of the isolated world, invisible to the page).
 *
 * A message without a gesture is ignored here exactly as in content.ts: no
 * answer of any kind, nothing loaded.
 */
export const PENDING_KEY = '__hushPending';

export type PendingEvent = { kind: 'page'; origin: string; data: unknown } | { kind: 'link'; href: string };

const PAGE_CALL = 'hush:call';

export function isHushHrefLoose(href: string | null | undefined): boolean {
  return !!href && href.trim().toLowerCase().startsWith('web+hush:');
}

export function installLoader(win: Window, load: () => Promise<unknown>): () => void {
  const pending: PendingEvent[] = [];
  (win as unknown as Record<string, unknown>)[PENDING_KEY] = pending;
  let loading = false;
  const wake = () => {
    if (loading) return;
    loading = true;
    stop();
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
    pending.push({ kind: 'page', origin: ev.origin, data: d });
    wake();
  };
  const onClick = (ev: MouseEvent) => {
    if (!ev.isTrusted || ev.button !== 0 || ev.defaultPrevented) return;
    const href = (ev.target as Element | null)?.closest?.('a[href]')?.getAttribute('href');
    if (!isHushHrefLoose(href)) return;
    ev.preventDefault();
    pending.push({ kind: 'link', href: href! });
    wake();
  };
  const stop = () => {
    win.removeEventListener('message', onMessage);
    win.document.removeEventListener('click', onClick, true);
  };
  win.addEventListener('message', onMessage);
  win.document.addEventListener('click', onClick, true);
  return stop;
}
