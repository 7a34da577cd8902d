/**
 * The content script's logic once the loader woke it (lib/page-api/loader.ts;
 * entrypoints/page-bar only wires it): the "page" port to the background,
 * Hush link clicks and page-API requests handed over by the loader, and the
 * state the in-page bar (components/page/PageBar.tsx) renders.
 *
 * Trust: the page is hostile until proven otherwise. It can post any
 * message, click any element programmatically and read its own DOM. So:
 * - the loader's listeners are the only ones: link clicks count only when
 *   `isTrusted`, a page-API request only during a user gesture (no answer of
 *   any kind otherwise: no "is Hush installed" probe);
 * - consent is never given here: the background opens the extension's own
 *   consent window (lib/page-api/consent.ts) and decides (issue 13); the
 *   page can draw over, swallow clicks in and read keys of anything in it;
 * - the bar shows only calls this tab started (no call timing for others),
 *   or none when Settings.pageIndicator is off; it never offers accept;
 * - the page hears only started / declined / ended (page-messages.ts).
 */
import { browser } from 'wxt/browser';
import { PAGE_PORT, type PageEvent, type PageRequest, type PageView } from '../messaging/protocol';
import { cardFromContactHref, isHushHref } from '../contacts/link';
import { isLive } from '../call/state';
import type { PendingEvent } from './loader';
import { parsePageRequest, statusMessage, type PageCallStatus } from './page-messages';

/** How long the bar shows a finished call. */
export const ENDED_SHOW_MS = 6000;

export interface BarState {
  view: PageView | null;
  /** A broken Hush link's message, shown until closed or the next request. */
  error: string | null;
  /** A finished call the user closed (or that timed out) in this tab. */
  hiddenCallId?: string;
}

type DialResult = Extract<PageEvent, { kind: 'dial-result' }>;
/** What a request gets when its port dropped before the answer. */
const DROPPED: DialResult = { kind: 'dial-result', reqId: -1, ok: false, message: '' };

function isLiveCall(c: PageView['call']): boolean {
  return !!c && isLive(c.state);
}

export class PageIntegration {
  state: BarState = { view: null, error: null };
  private port?: Browser.runtime.Port;
  private readonly listeners = new Set<() => void>();
  private reqId = 0;
  private readonly pending = new Map<number, (r: DialResult) => void>();
  /** Calls the page started: callId → the page's request id. */
  private readonly pageCalls = new Map<string, string | undefined>();
  /** Calls started from this tab (page API or Hush link): the only ones the bar shows. */
  private readonly ownCalls = new Set<string>();
  /** A request waiting for the person in the extension's window. */
  private asking = false;
  private endedTimer?: ReturnType<typeof setTimeout>;
  private closed = false;
  private orphaned?: () => void;
  /**
   * Resolves on the port's first page-view: the background pushes one as soon as it attached its
   * listener to the port (bridge.ts). A request posted before may be lost (the service worker
   * can still be starting, entrypoints/background.ts attaches ports after boot): wait for it.
   */
  private listening: Promise<void> = Promise.resolve();
  private heard?: () => void;

  constructor(private readonly win: Window = window) {}

  // ─── wiring ────────────────────────────────────────────────────────────────

  start(): void {
    this.connect();
  }

  stop(): void {
    this.closed = true;
    this.port?.disconnect();
  }

  /**
   * An event the loader (lib/page-api/loader.ts) let through: a trusted click
   * on a Hush link, or a `hush:call` posted by the page itself during a
   * gesture. The loader's listeners are the only ones on the page.
   */
  handle(ev: PendingEvent): void {
    if (this.closed) return;
    if (ev.kind === 'link') {
      if (isHushHref(ev.href)) void this.onLink(ev.href);
      else {
        // An https contact link (lib/contacts/link.ts): its card, dialled like a web+hush: link.
        const card = cardFromContactHref(ev.href);
        if (card) void this.onLink(card);
      }
      return;
    }
    const req = parsePageRequest(ev.data);
    if (req) void this.onPageRequest(ev.origin, req.address, req.id);
  }

  /** Called once when the extension went away (reloaded or removed): the script must clean up. */
  onOrphaned(f: () => void): void {
    this.orphaned = f;
  }

  subscribe(f: () => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  /** Should the bar be on the page at all? */
  get visible(): boolean {
    const { error, view, hiddenCallId } = this.state;
    if (error) return true;
    const c = view?.call;
    if (!c || c.callId === hiddenCallId || view?.indicator === false) return false;
    return this.ownCalls.has(c.callId);
  }

  private connect(): void {
    if (this.closed) return;
    // A port that dropped before its first page-view leaves `listening` waiting for the next port's.
    if (!this.heard) this.listening = new Promise<void>((r) => (this.heard = r));
    try {
      if (!browser.runtime?.id) throw new Error('orphaned');
      this.port = browser.runtime.connect({ name: PAGE_PORT });
    } catch {
      // The extension was reloaded or removed: this script is orphaned.
      this.stop();
      this.heard?.();
      this.orphaned?.();
      return;
    }
    this.port.onMessage.addListener((m: unknown) => this.onEvent(m as PageEvent));
    this.port.onDisconnect.addListener(() => {
      this.port = undefined;
      for (const [, f] of this.pending) f(DROPPED);
      this.pending.clear();
      // The service worker may restart: reconnect; requests wait for the new port's first page-view.
      if (!this.heard) this.listening = new Promise<void>((r) => (this.heard = r));
      setTimeout(() => this.connect(), 500);
    });
  }

  private send(req: PageRequest): void {
    this.port?.postMessage(req);
  }

  private set(patch: Partial<BarState>): void {
    this.state = { ...this.state, ...patch };
    for (const f of this.listeners) f();
  }

  private onEvent(ev: PageEvent): void {
    switch (ev.kind) {
      case 'page-view':
        this.heard?.();
        this.heard = undefined;
        this.onView(ev.view);
        return;
      case 'dial-result': {
        const f = this.pending.get(ev.reqId);
        this.pending.delete(ev.reqId);
        f?.(ev);
        return;
      }
      default:
        return;
    }
  }

  private onView(view: PageView): void {
    const c = view.call;
    // Tell the page its calls ended: the call finished, or another replaced it.
    for (const [callId, id] of this.pageCalls) {
      if (!c || c.callId !== callId || !isLiveCall(c)) {
        this.pageCalls.delete(callId);
        this.postStatus('ended', id);
      }
    }
    clearTimeout(this.endedTimer);
    if (c && c.state === 'ended' && c.callId !== this.state.hiddenCallId) {
      const callId = c.callId;
      this.endedTimer = setTimeout(() => this.set({ hiddenCallId: callId }), ENDED_SHOW_MS);
    }
    this.set({ view });
  }

  // ─── requests ──────────────────────────────────────────────────────────────

  private busy(): boolean {
    return this.asking || isLiveCall(this.state.view?.call ?? null);
  }

  private async onLink(href: string): Promise<void> {
    // A second click while Hush's window asks is a new request (the background replaces the old one).
    if (isLiveCall(this.state.view?.call ?? null)) return;
    // The background asks the person in the extension's window.
    await this.dial(href, 'link');
  }

  private async onPageRequest(origin: string, address: string, id?: string): Promise<void> {
    if (!origin || origin === 'null' || !address || this.busy()) return this.postStatus('declined', id);
    await this.dial(address, 'page', id);
  }

  private async dial(address: string, via: 'link' | 'page', id?: string): Promise<void> {
    this.asking = true;
    if (this.state.error) this.set({ error: null });
    const r = await this.request(address, via).finally(() => (this.asking = false));
    if (!r.ok) {
      if (via === 'page') this.postStatus('declined', id);
      if (r.message) this.set({ error: r.message });
      return;
    }
    this.ownCalls.add(r.callId);
    this.set({ hiddenCallId: undefined });
    if (via === 'page') {
      this.pageCalls.set(r.callId, id);
      this.postStatus('started', id);
    }
  }

  /**
   * Send a dial and wait for its answer. A port that drops before the answer (the service worker
   * stopping or restarting) loses the request with it: it is sent again on the next port, at most
   * three times in all, so a person's click is not silently forgotten.
   */
  private async request(address: string, via: 'link' | 'page'): Promise<DialResult> {
    for (let attempt = 0; attempt < 3 && !this.closed; attempt++) {
      await this.listening;
      if (!this.port) continue;
      const reqId = ++this.reqId;
      const r = await new Promise<DialResult>((resolve) => {
        this.pending.set(reqId, resolve);
        this.send({ kind: 'dial', reqId, address, via });
      });
      if (r !== DROPPED) return r;
    }
    return DROPPED;
  }

  private postStatus(status: PageCallStatus, id?: string): void {
    // To this window only, and only the three statuses (docs/page-api.md).
    this.win.postMessage(statusMessage(status, id), this.win.location.origin === 'null' ? '*' : this.win.location.origin);
  }

  // ─── call controls (shortcuts: the same controls are in Hush's own UI) ──────

  hangup(): void {
    this.send({ kind: 'hangup' });
  }

  mute(muted: boolean): void {
    this.send({ kind: 'mute', muted });
  }

  /** Close a broken link's message, or a finished call's bar, in this tab. */
  close(): void {
    const c = this.state.view?.call;
    if (this.state.error) this.set({ error: null });
    else if (c) this.set({ hiddenCallId: c.callId });
  }
}
