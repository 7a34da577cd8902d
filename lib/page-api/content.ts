/**
 * The content script's logic (entrypoints/hush.content only wires it):
 * the "page" port to the background, Hush link clicks, the page API, and
 * the state the in-page bar (components/page/PageBar.tsx) renders.
 *
 * Trust: the page is hostile until proven otherwise. It can post any
 * message, click any element programmatically and read its own DOM. So:
 * - link clicks count only when `isTrusted` (a real click or key press);
 * - a page-API request without a user gesture on the page (transient
 *   activation) gets no answer at all: no "is Hush installed" probe;
 * - consent is never given here: the background opens the extension's own
 *   consent window (lib/page-api/consent.ts) and decides (issue 13); the
 *   page can draw over, swallow clicks in and read keys of anything in it;
 * - the bar shows only calls this tab started (no call timing for others),
 *   and accepting an incoming call happens in the extension's window;
 * - the page hears only started / declined / ended (page-messages.ts).
 */
import { browser } from 'wxt/browser';
import { PAGE_PORT, type PageEvent, type PageRequest, type PageView } from '../messaging/protocol';
import { isHushHref } from '../contacts/link';
import { isLive } from '../call/state';
import type { PendingEvent } from './loader';
import { parsePageRequest, statusMessage, type PageCallStatus } from './page-messages';

export const ARM_DELAY_MS = 600;

function isLiveCall(c: PageView['call']): boolean {
  return !!c && isLive(c.state);
}
/** How long the bar shows a finished call. */
export const ENDED_SHOW_MS = 6000;

export type Prompt =
  | { kind: 'link'; address: string; who: string; isContact: boolean }
  | { kind: 'page'; address: string; who: string; isContact: boolean; origin: string; id?: string }
  | { kind: 'error'; message: string };

export interface BarState {
  view: PageView | null;
  prompt: Prompt | null;
  /** Prompt buttons accept clicks. */
  armed: boolean;
  /** A finished call the user closed (or that timed out) in this tab. */
  hiddenCallId?: string;
}

type LookupResult = Extract<PageEvent, { kind: 'lookup-result' }>;
type DialResult = Extract<PageEvent, { kind: 'dial-result' }>;

export class PageIntegration {
  state: BarState = { view: null, prompt: null, armed: false };
  private port?: Browser.runtime.Port;
  private readonly listeners = new Set<() => void>();
  private reqId = 0;
  private readonly pending = new Map<number, (r: LookupResult | DialResult) => void>();
  /** Calls the page started: callId → the page's request id. */
  private readonly pageCalls = new Map<string, string | undefined>();
  /** Calls started from this tab (page API or Hush link): the only ones the bar shows. */
  private readonly ownCalls = new Set<string>();
  private armTimer?: ReturnType<typeof setTimeout>;
  private endedTimer?: ReturnType<typeof setTimeout>;
  private closed = false;
  private orphaned?: () => void;

  constructor(private readonly win: Window = window) {}

  // ─── wiring ────────────────────────────────────────────────────────────────

  start(): void {
    this.connect();
    this.win.addEventListener('message', this.onWindowMessage);
    this.win.document.addEventListener('click', this.onClick, true);
    this.win.document.addEventListener('visibilitychange', this.onVisible);
    this.win.addEventListener('focus', this.onVisible);
  }

  stop(): void {
    this.closed = true;
    this.win.removeEventListener('message', this.onWindowMessage);
    this.win.document.removeEventListener('click', this.onClick, true);
    this.win.document.removeEventListener('visibilitychange', this.onVisible);
    this.win.removeEventListener('focus', this.onVisible);
    this.port?.disconnect();
  }

  /** The event that woke the loader (lib/page-api/loader.ts), handled as if it had arrived here. */
  replay(ev: PendingEvent): void {
    if (ev.kind === 'link') {
      if (isHushHref(ev.href)) void this.onLink(ev.href);
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
    const { prompt, view, hiddenCallId } = this.state;
    if (prompt) return true;
    const c = view?.call;
    if (!c || c.callId === hiddenCallId || view?.indicator === false) return false;
    return this.ownCalls.has(c.callId);
  }

  private connect(): void {
    if (this.closed) return;
    try {
      if (!browser.runtime?.id) throw new Error('orphaned');
      this.port = browser.runtime.connect({ name: PAGE_PORT });
    } catch {
      // The extension was reloaded or removed: this script is orphaned.
      this.stop();
      this.orphaned?.();
      return;
    }
    this.port.onMessage.addListener((m: unknown) => this.onEvent(m as PageEvent));
    this.port.onDisconnect.addListener(() => {
      this.port = undefined;
      for (const [, f] of this.pending) f({ kind: 'dial-result', reqId: -1, ok: false, message: '' });
      this.pending.clear();
      // The service worker may restart: reconnect.
      setTimeout(() => this.connect(), 500);
    });
  }

  private send(req: PageRequest): void {
    this.port?.postMessage(req);
  }

  private ask<R extends LookupResult | DialResult>(
    req: { kind: 'lookup'; address: string } | { kind: 'dial'; address: string; via: 'link' | 'page' },
  ): Promise<R> {
    const reqId = ++this.reqId;
    return new Promise<R>((resolve) => {
      this.pending.set(reqId, resolve as (r: LookupResult | DialResult) => void);
      this.send({ ...req, reqId } as PageRequest);
    });
  }

  private set(patch: Partial<BarState>): void {
    this.state = { ...this.state, ...patch };
    for (const f of this.listeners) f();
  }

  private onEvent(ev: PageEvent): void {
    switch (ev.kind) {
      case 'page-view':
        this.onView(ev.view);
        return;
      case 'lookup-result':
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

  private onVisible = (): void => {
    this.send({ kind: 'visible' });
  };

  // ─── prompts ───────────────────────────────────────────────────────────────

  private showPrompt(prompt: Prompt): void {
    clearTimeout(this.armTimer);
    this.set({ prompt, armed: false });
    this.armTimer = setTimeout(() => this.set({ armed: true }), ARM_DELAY_MS);
  }

  private busy(): boolean {
    return !!this.state.prompt || isLiveCall(this.state.view?.call ?? null);
  }

  /** A real click on a `web+hush:` link. */
  private onClick = (ev: MouseEvent): void => {
    if (!ev.isTrusted || ev.button !== 0 || ev.defaultPrevented) return;
    const a = (ev.target as Element | null)?.closest?.('a[href]');
    const href = a?.getAttribute('href');
    if (!isHushHref(href)) return;
    ev.preventDefault();
    void this.onLink(href!);
  };

  async onLink(href: string): Promise<void> {
    if (this.busy()) return;
    // The background asks the person in the extension's window.
    await this.dial(href, 'link');
  }

  private onWindowMessage = (ev: MessageEvent): void => {
    if (ev.source !== this.win) return;
    const req = parsePageRequest(ev.data);
    if (!req) return;
    void this.onPageRequest(ev.origin, req.address, req.id);
  };

  private async onPageRequest(origin: string, address: string, id?: string): Promise<void> {
    // No gesture (or a browser without userActivation): no answer of any kind.
    const activation = (this.win.navigator as Navigator & { userActivation?: { isActive: boolean } }).userActivation;
    if (!activation?.isActive) return;
    if (!origin || origin === 'null' || !address || this.busy() || this.asking) return this.postStatus('declined', id);
    await this.dial(address, 'page', id);
  }

  /** A page request waiting for the person in the extension's window. */
  private asking = false;

  /** The prompt in the bar only shows errors now: close it. */
  async answer(_choice: 'call' | 'once' | 'always' | 'cancel'): Promise<void> {
    if (this.state.prompt) this.set({ prompt: null, armed: false });
  }

  private async dial(address: string, via: 'link' | 'page', id?: string): Promise<void> {
    this.asking = true;
    const r = await this.ask<DialResult>({ kind: 'dial', address, via }).finally(() => (this.asking = false));
    if (!r.ok) {
      if (via === 'page') this.postStatus('declined', id);
      if (r.message) this.showPrompt({ kind: 'error', message: r.message });
      return;
    }
    this.ownCalls.add(r.callId);
    this.set({ hiddenCallId: undefined });
    if (via === 'page') {
      this.pageCalls.set(r.callId, id);
      this.postStatus('started', id);
    }
  }

  private postStatus(status: PageCallStatus, id?: string): void {
    // To this window only, and only the three statuses (docs/page-api.md).
    this.win.postMessage(statusMessage(status, id), this.win.location.origin === 'null' ? '*' : this.win.location.origin);
  }

  // ─── call controls ─────────────────────────────────────────────────────────

  /** Open the extension's own window (accepting and every other control live there). */
  openHush(): void {
    this.send({ kind: 'open' });
  }

  /** @deprecated accepting happens in the extension's window: this only opens it. */
  accept(): void {
    this.openHush();
  }

  hangup(): void {
    this.send({ kind: 'hangup' });
  }

  mute(muted: boolean): void {
    this.send({ kind: 'mute', muted });
  }

  /** Close a finished call's bar in this tab. */
  close(): void {
    const c = this.state.view?.call;
    if (this.state.prompt) this.set({ prompt: null });
    else if (c) this.set({ hiddenCallId: c.callId });
  }
}
