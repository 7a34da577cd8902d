/**
 * The UI side of the background protocol: typed requests and the live
 * AppView (a long-lived "view" port the background pushes snapshots on).
 */
import { useEffect, useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import { VIEW_PORT, type UiRequest, type UiResponse, type ViewPush } from '../messaging/protocol';
import type { AppView } from '../messaging/view';

type Body<K extends UiRequest['kind']> = Omit<Extract<UiRequest, { kind: K }>, 'target' | 'kind'>;

/** Send a request; resolves to the value or throws an Error whose message is a sentence to show. */
export async function request<T = unknown, K extends UiRequest['kind'] = UiRequest['kind']>(kind: K, body?: Body<K>): Promise<T> {
  const r = (await browser.runtime.sendMessage({ target: 'background', kind, ...(body ?? {}) })) as UiResponse<T> | undefined;
  if (!r) throw new Error('Hush is starting. Try again in a moment.');
  if (!r.ok) throw Object.assign(new Error(r.message), { code: r.code });
  return r.value;
}

/** The current AppView, kept up to date; null until the first push. */
export function useAppView(): AppView | null {
  const [view, setView] = useState<AppView | null>(null);
  useEffect(() => {
    let port: ReturnType<typeof browser.runtime.connect> | undefined;
    let closed = false;
    const open = () => {
      port = browser.runtime.connect({ name: VIEW_PORT });
      port.onMessage.addListener((m: unknown) => {
        const push = m as ViewPush;
        if (push?.kind === 'view') setView(push.view);
      });
      // The service worker may restart: reconnect.
      port.onDisconnect.addListener(() => {
        if (!closed) setTimeout(open, 200);
      });
    };
    open();
    return () => {
      closed = true;
      port?.disconnect();
    };
  }, []);
  return view;
}

/** Re-render every second while `on` (call timer). */
export function useTick(on: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!on) return;
    const i = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(i);
  }, [on]);
  return now;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m % 60)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}
