/**
 * The background's application: identity, contacts, settings, history, the
 * signalling connection, the calls, and the view it pushes to every open UI.
 * entrypoints/background.ts only constructs it and forwards browser events.
 */
import { browser, type Browser } from 'wxt/browser';
import { identityFromSeed, wipeIdentity, type Identity } from '../crypto/identity';
import { IdentityFileError, exportIdentityFile, identityFileName, openIdentityFile, readIdentityFile } from '../crypto/identity-file';
import * as book from '../contacts/book';
import { PageBridge } from '../page-api/bridge';
import { testRelay } from './relay-test';
import { addressFromBundle } from '../crypto/address';
import { toHex } from '../crypto/bytes';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64 } from '@scure/base';
import { CallManager, CallError } from '../call/manager';
import type { CallSession } from '../call/session';
import type { HostPort } from '../platform/media-port';
import { CallState, type EndReason } from '../call/state';
import { iceServersFrom } from '../ice/servers';
import { SignalClient, type SignalStatus } from '../signal/client';
import { endMessage, t } from '../i18n/messages';
import type { MediaEvent } from '../media/types';
import {
  PAGE_PORT,
  VIEW_PORT,
  isFor,
  type ExportedIdentity,
  unreachable,
  type OffscreenEvent,
  type UiRequest,
  type UiResponse,
  type ViewPush,
} from '../messaging/protocol';
import type { AppView, CallView, Contact, HistoryEntry, Settings } from '../messaging/view';
import { isCryptoError } from '../crypto/errors';
import {
  DEFAULT_SETTINGS,
  HISTORY_MAX,
  backupItem,
  contactsItem,
  historyItem,
  identityItem,
  settingsItem,
  testWrongKeyItem,
  testTapFramesItem,
  testRetryDirectMsItem,
  unseenMissedItem,
} from './storage';
import { pingMediaHost } from './media-host-status';
import { notifyIncoming, clearIncomingNotification } from './notifications';

type StatsPort = HostPort;

export class BackgroundApp {
  private identity!: Identity;
  private address!: string;
  private settings: Settings = DEFAULT_SETTINGS;
  private contacts: Contact[] = [];
  private history: HistoryEntry[] = [];
  private unseenMissed = 0;
  private relay: SignalStatus = { state: 'offline' };
  private signal!: SignalClient;
  private calls!: CallManager;
  private media!: StatsPort;
  private ringing = false;
  private corruptRecvKey = false;
  private tapFrames = 0;
  private retryDirectMs = 0;
  private readonly viewPorts = new Set<Browser.runtime.Port>();
  private backupNeeded = false;
  private keysCheckedFor?: string;
  private readonly pages = new PageBridge({
    view: () => this.view(),
    dial: (address) => this.dial(address),
    accept: () => {
      clearIncomingNotification();
      this.calls.accept();
    },
    hangup: () => {
      clearIncomingNotification();
      this.calls.hangup();
    },
    mute: (m) => this.calls.setMuted(m),
    dismiss: () => {
      if (this.calls.current?.state === CallState.Ended) this.calls.current = undefined;
      this.push();
    },
    allowOrigin: async (origin) => {
      const origins = this.settings.pageOrigins ?? [];
      if (!origins.includes(origin)) await this.updateSettings({ pageOrigins: [...origins, origin] });
    },
  });

  /** Load (or create) everything, then connect to the relay. */
  static async boot(media: (emit: (callId: string, ev: MediaEvent) => void) => Promise<StatsPort>): Promise<BackgroundApp> {
    const app = new BackgroundApp();
    app.identity = await loadOrCreateIdentity();
    app.address = addressFromBundle(app.identity.bundleBytes);
    app.settings = { ...DEFAULT_SETTINGS, ...(await settingsItem.getValue()) };
    app.contacts = await contactsItem.getValue();
    app.history = await historyItem.getValue();
    app.unseenMissed = await unseenMissedItem.getValue();
    app.corruptRecvKey = await testWrongKeyItem.getValue();
    testWrongKeyItem.watch((v) => (app.corruptRecvKey = !!v));
    app.tapFrames = await testTapFramesItem.getValue();
    testTapFramesItem.watch((v) => (app.tapFrames = v ?? 0));
    app.retryDirectMs = await testRetryDirectMsItem.getValue();
    testRetryDirectMsItem.watch((v) => (app.retryDirectMs = v ?? 0));
    app.backupNeeded = !(await backupItem.getValue()).done;
    app.media = await media((callId, ev) => app.calls.onMediaEvent(callId, ev));
    app.wireIdentity();
    void app.updateBadge();
    return app;
  }

  /** The call manager and the signalling connection of the current identity (at boot, and after an import). */
  private wireIdentity(): void {
    this.calls = new CallManager({
      identity: this.identity,
      send: (to, env) => this.signal.send(to, env),
      media: this.media,
      iceConfig: () => this.iceConfig(),
      signalReady: () => this.signal.whenReady(10_000),
      onChange: () => {
        this.checkPeerKeys();
        this.push();
      },
      onIncoming: (s) => this.onIncoming(s),
      onEnded: (s, busy) => void this.onCallEnded(s, busy),
      log: (m) => console.debug(m),
      testHooks: () => ({ corruptRecvKey: this.corruptRecvKey, tapFrames: this.tapFrames, retryDirectMs: this.retryDirectMs }),
    });
    this.startSignal();
  }

  private startSignal(): void {
    this.signal = new SignalClient({
      urls: this.settings.relays,
      identity: this.identity,
      onDeliver: (from, data) => this.calls.onDeliver(from, data),
      onStatus: (s) => {
        this.relay = s;
        this.push();
      },
      // Our relay node is shutting down and we are on another one now: move the call's media there too.
      onMoved: () => this.calls.current?.restartIce(),
    });
    this.signal.start();
  }

  /**
   * Replace this device's identity with an imported one: a new address, a
   * new mailbox login, a new call manager. Refused during a call. The old
   * seed is overwritten in storage and its keys wiped from memory.
   */
  async replaceIdentity(seed: Uint8Array): Promise<string> {
    if (this.calls.inCall) throw new CallError('ERR_IN_CALL', t('err.identity.inCall'));
    const next = identityFromSeed(seed);
    await identityItem.setValue({ v: 1, seed: base64.encode(seed), createdAt: Date.now() });
    await backupItem.setValue({ done: true });
    this.backupNeeded = false;
    this.signal.stop();
    const old = this.identity;
    this.identity = next;
    this.address = addressFromBundle(next.bundleBytes);
    this.calls.current = undefined;
    this.wireIdentity();
    wipeIdentity(old);
    this.push();
    return this.address;
  }

  // ─── Browser events ──────────────────────────────────────────────────────

  /** runtime.onMessage: UI requests and media events. */
  onMessage(msg: unknown, sender?: Browser.runtime.MessageSender): Promise<unknown> | undefined {
    // Only the extension's own pages may send these; a content script (a page's renderer) never does.
    if (sender?.url && !sender.url.startsWith(browser.runtime.getURL('/'))) return undefined;
    if (isFor<OffscreenEvent>(msg, 'background') && msg.kind === 'media-event') {
      this.calls.onMediaEvent(msg.callId, msg.event);
      return undefined;
    }
    if (!isFor<UiRequest>(msg, 'background')) return undefined;
    return this.handle(msg).catch((e: unknown) => failure(e));
  }

  /** runtime.onConnect: a UI opened its "view" port; push the view now and on every change. */
  onConnect(port: Browser.runtime.Port): void {
    if (port.name === PAGE_PORT) return this.pages.attach(port);
    if (port.name !== VIEW_PORT) return;
    // The full view (contacts, history, address) is for the extension's own pages only.
    if (port.sender?.url && !port.sender.url.startsWith(browser.runtime.getURL('/'))) {
      port.disconnect();
      return;
    }
    this.viewPorts.add(port);
    port.onDisconnect.addListener(() => this.viewPorts.delete(port));
    port.postMessage({ kind: 'view', view: this.view() } satisfies ViewPush);
    if (this.unseenMissed > 0) {
      this.unseenMissed = 0;
      void unseenMissedItem.setValue(0);
      void this.updateBadge();
    }
  }

  /** A button on the incoming-call notification. */
  onNotificationButton(id: string, button: number): void {
    if (id !== 'hush-incoming') return;
    if (button === 0) this.calls.accept();
    else this.calls.hangup();
  }

  // ─── UI requests ─────────────────────────────────────────────────────────

  private async handle(req: UiRequest): Promise<UiResponse> {
    switch (req.kind) {
      case 'status':
        return ok({ version: browser.runtime.getManifest().version, offscreen: await pingMediaHost() });
      case 'get-view':
        return ok(this.view());
      case 'dial':
        return ok(await this.dial(req.address));
      case 'accept':
        clearIncomingNotification();
        this.calls.accept();
        return ok(null);
      case 'hangup':
        clearIncomingNotification();
        this.calls.hangup();
        return ok(null);
      case 'mute':
        this.calls.setMuted(req.muted);
        return ok(null);
      case 'dismiss-call':
        if (this.calls.current?.state === CallState.Ended) this.calls.current = undefined;
        this.push();
        return ok(null);
      case 'add-contact':
        return ok(await this.addContact(req.address, req.name));
      case 'rename-contact':
        await this.saveContacts(book.renameContact(this.contacts, req.address, req.name));
        return ok(null);
      case 'delete-contact':
        await this.saveContacts(book.deleteContact(this.contacts, req.address));
        return ok(null);
      case 'change-contact-address': {
        const r = book.changeAddress(this.contacts, req.address, req.newAddress, this.address);
        await this.saveContacts(r.list);
        return ok(r.contact);
      }
      case 'clear-history':
        this.history = [];
        this.unseenMissed = 0;
        await historyItem.setValue([]);
        await unseenMissedItem.setValue(0);
        await this.updateBadge();
        this.push();
        return ok(null);
      case 'test-relay':
        return ok(await testRelay(req.url));
      case 'export-identity': {
        const seed = base64.decode((await identityItem.getValue())!.seed);
        try {
          const file = await exportIdentityFile(seed, req.passphrase);
          await backupItem.setValue({ done: true });
          this.backupNeeded = false;
          this.push();
          return ok({ fileName: identityFileName(file.address), text: JSON.stringify(file, null, 2) } satisfies ExportedIdentity);
        } finally {
          seed.fill(0);
        }
      }
      case 'inspect-identity-file':
        return ok({ address: readIdentityFile(req.text).address, current: this.address });
      case 'import-identity': {
        if (this.calls.inCall) throw new CallError('ERR_IN_CALL', t('err.identity.inCall'));
        const { seed, address } = await openIdentityFile(req.text, req.passphrase);
        try {
          if (address === this.address) {
            await backupItem.setValue({ done: true });
            this.backupNeeded = false;
            this.push();
            return ok({ address });
          }
          return ok({ address: await this.replaceIdentity(seed) });
        } finally {
          seed.fill(0);
        }
      }
      case 'verify-contact':
        return ok(await this.verifyContact(req.address));
      case 'reconnect-relay':
        this.signal.restart();
        return ok(null);
      case 'update-settings':
        return ok(await this.updateSettings(req.settings));
      case 'call-stats': {
        const s = this.calls.current;
        if (!s) return ok(null);
        const stats = (await this.media.stats(s.callId)) as object | null;
        return ok(stats ? { ...stats, ice: s.iceReport } : null);
      }
      case 'mic-permission': // issue 12, phase 2: resume or end the call that waits for the microphone
        return ok(null);
      default:
        return unreachable(req);
    }
  }

  private async dial(address: string): Promise<{ callId: string }> {
    if (!this.signal.online) {
      await this.signal.whenReady(4000).catch(() => {
        throw new CallError('ERR_NO_CALL', endMessage('relay-unreachable'));
      });
    }
    const s = this.calls.dial(address);
    return { callId: s.callId };
  }

  private async addContact(address: string, name: string): Promise<Contact> {
    const r = book.addContact(this.contacts, address, name, this.address);
    if (r.list !== this.contacts) await this.saveContacts(r.list);
    return r.contact;
  }

  private async saveContacts(list: Contact[]): Promise<void> {
    this.contacts = list;
    await contactsItem.setValue(list);
    this.push();
  }

  /** A handshake that shows other keys than the ones verified for this contact: warn (contacts/book.ts). */
  private checkPeerKeys(): void {
    const s = this.calls.current;
    if (!s?.peerBundle || !s.peerAddress || this.keysCheckedFor === s.callId) return;
    this.keysCheckedFor = s.callId;
    const next = book.noteKeysSeen(this.contacts, s.peerAddress, toHex(sha256(s.peerBundle)));
    if (next) void this.saveContacts(next);
  }

  /** Mark the current call's peer verified (after the two people compared the SAS). */
  private async verifyContact(address: string): Promise<Contact> {
    const s = this.calls.current;
    if (!s?.sas || s.peerAddress !== address || !s.peerBundle) {
      throw new CallError('ERR_NO_CALL', 'Verify a contact during a call with them, after comparing the security code.');
    }
    const keysSeen = toHex(sha256(s.peerBundle));
    if (!this.contacts.some((c) => c.address === address)) await this.addContact(address, '');
    await this.saveContacts(book.markVerified(this.contacts, address, keysSeen));
    return this.contacts.find((c) => c.address === address)!;
  }

  private async updateSettings(patch: Partial<Settings>): Promise<Settings> {
    const next: Settings = { ...this.settings, ...patch };
    if (patch.relays) {
      next.relays = patch.relays.map((u) => u.trim()).filter(Boolean);
      for (const u of next.relays) {
        if (!/^wss?:\/\/[^\s]+$/.test(u)) throw new CallError('ERR_NO_CALL', `“${u}” is not a relay address (ws://… or wss://…).`);
      }
    }
    const relaysChanged = JSON.stringify(next.relays) !== JSON.stringify(this.settings.relays);
    this.settings = next;
    await settingsItem.setValue(next);
    if (relaysChanged) {
      this.signal.stop();
      this.startSignal();
    }
    this.push();
    return next;
  }

  // ─── Calls ───────────────────────────────────────────────────────────────

  private iceConfig(): { iceServers: RTCIceServer[]; relayOnly: boolean } {
    return { iceServers: iceServersFrom(this.signal.turn), relayOnly: this.settings.privacyMode };
  }


  /**
   * The ringtone follows the call: on while a call rings here (and the setting is on), off as
   * soon as it is answered, declined or gone. It plays in the media host, so it rings with no
   * Hush page open. After a call that never reached media, the host is released.
   */
  private syncRing(): void {
    const c = this.calls?.current;
    const on = !!c && c.state === CallState.Incoming && this.settings.ringtone;
    if (on === this.ringing) return;
    this.ringing = on;
    const release = !on && (!c || c.state === CallState.Ended);
    void this.media.ring(on, release).catch(() => {});
  }

  private onIncoming(s: CallSession): void {
    const name = this.contactFor(s.peerAddress)?.name;
    void notifyIncoming(name ?? s.peerAddress ?? '');
    this.push();
  }

  private async onCallEnded(s: CallSession, busy: boolean): Promise<void> {
    clearIncomingNotification();
    if (!s.peerAddress) return;
    const outcome: EndReason = busy ? 'missed' : (s.reason ?? 'hangup');
    const entry: HistoryEntry = {
      direction: s.role === 'caller' ? 'outgoing' : 'incoming',
      address: s.peerAddress,
      at: s.startedAt,
      durationMs: s.connectedAt ? (s.endedAt ?? Date.now()) - s.connectedAt : undefined,
      outcome,
      busy: busy || undefined,
    };
    this.history = [entry, ...this.history].slice(0, HISTORY_MAX);
    await historyItem.setValue(this.history);
    if (outcome === 'missed' && this.viewPorts.size === 0) {
      this.unseenMissed++;
      await unseenMissedItem.setValue(this.unseenMissed);
      await this.updateBadge();
    }
    this.push();
  }

  private async updateBadge(): Promise<void> {
    const action = browser.action ?? browser.browserAction;
    await action?.setBadgeText({ text: this.unseenMissed > 0 ? String(this.unseenMissed) : '' }).catch(() => {});
  }

  // ─── View ────────────────────────────────────────────────────────────────

  private contactFor(address?: string): Contact | undefined {
    return address ? this.contacts.find((c) => c.address === address) : undefined;
  }

  view(): AppView {
    return {
      address: this.address,
      relay: { state: this.relay.state, url: this.relay.url, error: this.relay.error },
      contacts: this.contacts,
      call: this.callView(),
      history: this.history,
      unseenMissed: this.unseenMissed,
      settings: this.settings,
      backupNeeded: this.backupNeeded,
    };
  }

  private callView(): CallView | null {
    const s = this.calls.current;
    if (!s || s.state === 'handshaking') return null;
    const contact = this.contactFor(s.peerAddress);
    return {
      callId: s.callId,
      direction: s.role === 'caller' ? 'outgoing' : 'incoming',
      peerAddress: s.peerAddress,
      peerName: contact?.name || undefined,
      peerVerified: !!contact?.verified,
      peerKeyChanged: !!contact?.keyChanged,
      state: s.state,
      endReason: s.reason,
      endMessage: s.reason ? endMessage(s.reason) : undefined,
      path: s.path,
      muted: s.muted,
      sas: s.sas,
      startedAt: s.startedAt,
      connectedAt: s.connectedAt,
      endedAt: s.endedAt,
    };
  }

  private push(): void {
    this.syncRing();
    this.pages.push();
    if (this.viewPorts.size === 0) return;
    const msg: ViewPush = { kind: 'view', view: this.view() };
    for (const p of this.viewPorts) {
      try {
        p.postMessage(msg);
      } catch {
        this.viewPorts.delete(p);
      }
    }
  }
}

async function loadOrCreateIdentity(): Promise<Identity> {
  const stored = await identityItem.getValue();
  if (stored) return identityFromSeed(base64.decode(stored.seed));
  // First run, or storage was lost: a new identity, and the backup banner until it is exported.
  await backupItem.setValue({ done: false });
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const id = identityFromSeed(seed);
  await identityItem.setValue({ v: 1, seed: base64.encode(seed), createdAt: Date.now() });
  seed.fill(0);
  return id;
}

function ok<T>(value: T): UiResponse<T> {
  return { ok: true, value };
}

function failure(e: unknown): UiResponse {
  if (e instanceof CallError || isCryptoError(e) || e instanceof IdentityFileError || e instanceof book.ContactError) {
    return { ok: false, code: e.code, message: e.message };
  }
  return { ok: false, code: 'ERR_INTERNAL', message: 'Something went wrong in Hush. Try again.' };
}
