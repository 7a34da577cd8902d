/**
 * The background's side of the "page" port (lib/messaging/protocol.ts):
 * one port per tab's content script. It pushes each tab a PageView (the
 * call, narrowed to what the in-page bar shows) and serves the content
 * script's few requests. The origin of a page-API call is the port
 * sender's, never a value the content script sends; "always" grants are
 * stored per origin in Settings.pageOrigins (options page lists and
 * revokes them). Accept, hang up, mute and dismiss are the background's
 * call controls (lib/background/call-controls.ts), the same the popup uses.
 */
import { browser, type Browser } from 'wxt/browser';
import { addressFromLink } from '../contacts/link';
import { isLive } from '../call/state';
import type { CallControls } from '../background/call-controls';
import { senderKind } from '../messaging/sender';
import type { AppView } from '../messaging/view';
import { PAGE_PORT, type PageCallView, type PageEvent, type PageRequest, type PageView } from '../messaging/protocol';

export interface BridgeHost {
  view(): AppView;
  dial(address: string): Promise<{ callId: string }>;
  readonly controls: Pick<CallControls, 'accept' | 'hangup' | 'mute' | 'dismiss'>;
  allowOrigin(origin: string): Promise<void>;
}

export class PageBridge {
  private readonly ports = new Set<Browser.runtime.Port>();

  constructor(private readonly host: BridgeHost) {}

  /** A content script connected. Ports from extension pages or without a tab are refused. */
  attach(port: Browser.runtime.Port): void {
    if (port.name !== PAGE_PORT || !port.sender?.tab || senderKind(port.sender) !== 'web') {
      port.disconnect();
      return;
    }
    this.ports.add(port);
    port.onDisconnect.addListener(() => this.ports.delete(port));
    port.onMessage.addListener((m: unknown) => void this.onRequest(port, m as PageRequest));
    void this.pushTo([port]);
  }

  push(): void {
    if (this.ports.size > 0) void this.pushTo([...this.ports]);
  }

  private async pushTo(ports: Browser.runtime.Port[]): Promise<void> {
    const active = await activeTabId();
    const view = this.host.view();
    const call = pageCall(view);
    for (const p of ports) {
      const v: PageView = { call, activeTab: p.sender?.tab?.id === active, ringtone: view.settings.ringtone };
      send(p, { kind: 'page-view', view: v });
    }
  }

  private async onRequest(port: Browser.runtime.Port, req: PageRequest): Promise<void> {
    if (typeof req !== 'object' || req === null) return;
    const origin = originOf(port);
    switch (req.kind) {
      case 'lookup': {
        try {
          const address = addressFromLink(String(req.address));
          const view = this.host.view();
          const name = view.contacts.find((c) => c.address === address)?.name;
          const originAllowed = !!origin && (view.settings.pageOrigins ?? []).includes(origin);
          send(port, { kind: 'lookup-result', reqId: req.reqId, ok: true, address, name, originAllowed });
        } catch (e) {
          send(port, { kind: 'lookup-result', reqId: req.reqId, ok: false, message: (e as Error).message });
        }
        return;
      }
      case 'dial': {
        try {
          if (req.via === 'page' && req.always && origin) await this.host.allowOrigin(origin);
          const { callId } = await this.host.dial(addressFromLink(String(req.address)));
          send(port, { kind: 'dial-result', reqId: req.reqId, ok: true, callId });
        } catch (e) {
          send(port, { kind: 'dial-result', reqId: req.reqId, ok: false, message: (e as Error).message });
        }
        return;
      }
      case 'accept':
        this.host.controls.accept();
        return;
      case 'hangup':
        this.host.controls.hangup();
        return;
      case 'mute':
        this.host.controls.mute(!!req.muted);
        return;
      case 'dismiss':
        this.host.controls.dismiss();
        return;
      case 'visible':
        // Tab focus moved: every tab's "activeTab" may have changed.
        this.push();
        return;
      default:
        return;
    }
  }
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
    muted: c.muted,
    connectedAt: c.connectedAt,
    endedAt: c.endedAt,
    endReason: c.endReason,
    endMessage: c.endMessage,
  };
}

export function isLiveCall(c: PageCallView | null): boolean {
  return !!c && isLive(c.state);
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

async function activeTabId(): Promise<number | undefined> {
  try {
    const [tab] = await browser.tabs.query({ active: true, lastFocusedWindow: true });
    return tab?.id;
  } catch {
    return undefined;
  }
}
