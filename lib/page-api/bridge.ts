/**
 * The background's side of the "page" port (lib/messaging/protocol.ts):
 * one port per tab's content script. It pushes each tab a PageView (the
 * call, narrowed to what the in-page bar shows) and serves the content
 * script's few requests. The origin of a page-API call is the port
 * sender's, never a value the content script sends.
 *
 * Consent is the background's, never the content script's (issue 13): a
 * `dial` from a page or a Hush link only opens the consent window
 * (popup.html#consent=<token>, an extension window no page can draw over,
 * read or click into, lib/page-api/consent.ts) and waits for the person's
 * click there. Only a grant made in that window ("always", per https origin
 * AND address) lets a later page request through without it. A page may
 * never accept, and has no request that opens anything but the consent
 * window. Hang up, mute and dismiss stay shortcuts (the same controls are in
 * the extension's UI, which a page cannot stop).
 */
import type { Browser } from 'wxt/browser';
import { formatCard, parseCard } from '../contacts/card';
import type { CallControls } from '../background/call-controls';
import { senderKind } from '../messaging/sender';
import type { AppView } from '../messaging/view';
import { PAGE_PORT, type PageCallView, type PageEvent, type PageRequest } from '../messaging/protocol';
import { isHttpsOrigin } from './consent';

export interface BridgeHost {
  view(): AppView;
  dial(address: string): Promise<{ callId: string }>;
  readonly controls: Pick<CallControls, 'hangup' | 'mute' | 'dismiss'>;
  readonly grants: PageGrants;
  /** Open the extension's consent window (popup.html#<hash>); `closed` runs when the person closes it. */
  openWindow(hash: string, closed: () => void): Promise<void>;
}

export class PageBridge {
  private readonly ports = new Set<Browser.runtime.Port>();
  private readonly consents = new Map<string, PendingConsent>();

  constructor(private readonly host: BridgeHost) {}

  /** The consent window asks what it shows. Unknown tokens get nothing. */
  consent(token: string): ConsentView | null {
    const c = this.consents.get(token);
    if (!c) return null;
    const name = this.host.view().contacts.find((x) => x.address === c.address)?.name;
    return { origin: c.origin, address: c.address, name, via: c.via, canAlways: c.via === 'page' && isHttpsOrigin(c.origin) };
  }

  /** The person answered in the consent window (the only place a page call is allowed). */
  async answerConsent(token: string, answer: ConsentAnswer): Promise<void> {
    const c = this.consents.get(token);
    if (!c) return;
    this.consents.delete(token);
    if (answer === 'deny') return send(c.port, { kind: 'dial-result', reqId: c.reqId, ok: false, message: '' });
    if (answer === 'always' && c.via === 'page' && isHttpsOrigin(c.origin)) await this.host.grants.grant(c.origin, c.address);
    await this.dialFor(c.port, c.reqId, c.dialled ?? c.address);
  }

  private async dialFor(port: Browser.runtime.Port, reqId: number, address: string): Promise<void> {
    try {
      const { callId } = await this.host.dial(address);
      send(port, { kind: 'dial-result', reqId, ok: true, callId });
    } catch (e) {
      send(port, { kind: 'dial-result', reqId, ok: false, message: (e as Error).message });
    }
  }

  /** A content script connected. Ports from extension pages or without a tab are refused. */
  attach(port: Browser.runtime.Port): void {
    if (port.name !== PAGE_PORT || !port.sender?.tab || senderKind(port.sender) !== 'web') {
      port.disconnect();
      return;
    }
    this.ports.add(port);
    port.onDisconnect.addListener(() => this.ports.delete(port));
    port.onMessage.addListener((m: unknown) => void this.onRequest(port, m as PageRequest));
    this.pushTo([port]);
  }

  push(): void {
    if (this.ports.size > 0) this.pushTo([...this.ports]);
  }

  private pushTo(ports: Browser.runtime.Port[]): void {
    const view = this.host.view();
    const ev: PageEvent = { kind: 'page-view', view: { call: pageCall(view), indicator: view.settings.pageIndicator !== false } };
    for (const p of ports) send(p, ev);
  }

  private async onRequest(port: Browser.runtime.Port, req: PageRequest): Promise<void> {
    if (typeof req !== 'object' || req === null) return;
    const origin = originOf(port);
    switch (req.kind) {
      case 'dial': {
        let address: string;
        let dialled: string;
        try {
          // A bare address or a card (`hush1…@relay.example`, from a web+hush: or contact link).
          const card = parseCard(String(req.address));
          address = card.address;
          dialled = formatCard(card.address, card.relays);
        } catch (e) {
          return send(port, { kind: 'dial-result', reqId: req.reqId, ok: false, message: (e as Error).message });
        }
        if (!origin) return send(port, { kind: 'dial-result', reqId: req.reqId, ok: false, message: '' });
        const via = req.via === 'link' ? 'link' : 'page';
        // The content script's `always` is ignored: only the consent window grants.
        if (via === 'page' && (await this.host.grants.allowed(origin, address))) return this.dialFor(port, req.reqId, dialled);
        // One pending consent per tab: a new request replaces (denies) the old one.
        for (const [t, c] of this.consents) {
          if (c.port === port) {
            this.consents.delete(t);
            send(c.port, { kind: 'dial-result', reqId: c.reqId, ok: false, message: '' });
          }
        }
        const token = randomToken();
        this.consents.set(token, { port, reqId: req.reqId, origin, address, dialled, via });
        port.onDisconnect.addListener(() => this.consents.delete(token));
        // Closing the window without an answer is a "no".
        await this.host.openWindow(`consent=${token}`, () => void this.answerConsent(token, 'deny')).catch(() => void this.answerConsent(token, 'deny'));
        return;
      }
      case 'hangup':
        this.host.controls.hangup();
        return;
      case 'mute':
        this.host.controls.mute(!!req.muted);
        return;
      case 'dismiss':
        this.host.controls.dismiss();
        return;
      default:
        return;
    }
  }
}

export type ConsentAnswer = 'once' | 'always' | 'deny';

/** What the consent window shows: who asks, for whom. */
export interface ConsentView {
  origin: string;
  address: string;
  name?: string;
  via: 'link' | 'page';
  /** "Always" only for https pages' API requests. */
  canAlways: boolean;
}

/** "Always" grants, per (https origin, address). */
export interface PageGrants {
  allowed(origin: string, address: string): Promise<boolean>;
  grant(origin: string, address: string): Promise<void>;
}

interface PendingConsent {
  port: Browser.runtime.Port;
  reqId: number;
  origin: string;
  address: string;
  /** What is dialled: the card (address and its relays) the link or page named. */
  dialled?: string;
  via: 'link' | 'page';
}

function randomToken(): string {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The narrow call view of the in-page bar (no SAS, no keys, no history). */
export function pageCall(view: AppView): PageCallView | null {
  const c = view.call;
  if (!c) return null;
  return {
    callId: c.callId,
    direction: c.direction,
    state: c.state,
    peer: c.peerName ?? c.peerAddress ?? '',
    peerIsContact: !!c.peerName,
    peerVerified: c.peerVerified,
    peerKeyChanged: c.peerKeyChanged,
    path: c.path,
    quality: c.quality,
    muted: c.muted,
    connectedAt: c.connectedAt,
    endedAt: c.endedAt,
    endReason: c.endReason,
    endMessage: c.endMessage,
  };
}

function send(port: Browser.runtime.Port, ev: PageEvent): void {
  try {
    port.postMessage(ev);
  } catch {
    /* the tab went away */
  }
}

function originOf(port: Browser.runtime.Port): string | undefined {
  const s = port.sender as (Browser.runtime.MessageSender & { origin?: string }) | undefined;
  if (s?.origin && s.origin !== 'null') return s.origin;
  try {
    const o = new URL(s?.url ?? '').origin;
    return o === 'null' ? undefined : o;
  } catch {
    return undefined;
  }
}
