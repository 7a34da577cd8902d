/**
 * The background's application: the wiring between the stores (identity,
 * contacts, settings, history), the signalling connection, the calls, the
 * media host and the view it pushes to every open UI. What each part does
 * lives in its own file next to this one; entrypoints/background.ts only
 * constructs this and forwards browser events.
 *
 * About 400 lines because it is the one place every part meets (the microphone
 * gates, the badge, call waiting, devices and managed settings each add their
 * wiring here); a further split would only move wiring away from what it wires.
 */
import { browser, type Browser } from 'wxt/browser';
import { identityFromSeed, prepareSigner, signerKind, wipeIdentity, type Identity } from '../crypto/identity';
import { PageBridge } from '../page-api/bridge';
import { isHttpsOrigin, openHushWindow } from '../page-api/consent';
import { addressFromBundle, mailboxIdOf } from '../crypto/address';
import { parseCard } from '../contacts/card';
import { acceptSignedRelays, ContactRelaysError, savedRelays } from '../contacts/contact-relays';
import { canonicalRelayUrl } from '../signal/relay-url';
import { RELAY_LIST_MAX } from '../crypto/relay-list';
import { CallManager, CallError, type AdmissionPorts } from '../call/manager';
import type { CallSession } from '../call/session';
import type { HostPort } from '../platform/media-port';
import { CallState } from '../call/state';
import { iceServersFrom } from '../ice/servers';
import { SignalClient, type SignalStatus } from '../signal/client';
import { type NetworkScope, watchNetwork } from '../signal/network-watch';
import { endMessage, t } from '../i18n/messages';
import type { ToneName } from '../ui/ringtone';
import type { MediaEvent } from '../media/types';
import { PAGE_PORT, VIEW_PORT, isFor, type OffscreenEvent, type UiRequest, type ViewPush } from '../messaging/protocol';
import { senderKind } from '../messaging/sender';
import type { AppView, CallView, Settings } from '../messaging/view';
import { aboutToDialHoldMs, testInsecureRelayHost, watchSessionHooks, type SessionTestHooks } from '../testing/hooks';
import { AdmissionStore } from './admission-store';
import { callControls, type CallControls } from './call-controls';
import { callTone, callView, type WaitingCaller } from './call-view';
import { ContactsStore } from './contacts-store';
import { HistoryStore } from './history-store';
import { backupNeeded, loadOrCreateIdentity, markBackedUp, saveSeed } from './identity-store';
import { notifyIncoming, clearIncomingNotification } from './notifications';
import { SettingsStore } from './settings-store';
import { watchManaged } from './managed-settings';
import { ToolbarBadge, badgeLook, micIndicator } from './toolbar-badge';
import { failure, handleUiRequest, type UiHost } from './ui-dispatch';
import { MicGate } from './mic-gate';
import { chromeMicGateHost } from '../platform/permission-window';
import { CallWindowMic } from '../platform/call-window-mic';
import { QualityMonitor } from './quality-monitor';
import type { QualitySample } from '../ui/call-quality';

/**
 * Issue 17: how long a media host started because the person was about to dial stays without a
 * call (typing an address takes seconds; the popup asks again while the person keeps at it).
 */
const ABOUT_TO_DIAL_HOLD_MS = 20_000;

export class BackgroundApp {
  private identity!: Identity;
  private address!: string;
  private settings!: SettingsStore;
  private contacts!: ContactsStore;
  private history!: HistoryStore;
  private admission!: AdmissionStore;
  private relay: SignalStatus = { state: 'offline' };
  private signal!: SignalClient;
  private unwatchNetwork?: () => void;
  /** Issue 12: the call's devices as the call view shows them (picker choice, microphone gone). */
  private callDevices?: { callId: string; micGone?: boolean; inputDeviceId?: string; outputDeviceId?: string };
  private calls!: CallManager;
  /** Issue 17: the one poller of the connected call's receive quality (CallView.quality). */
  private readonly quality = new QualityMonitor({ stats: (id) => this.media.stats(id) as Promise<QualitySample | null>, changed: () => this.push() });
  private media!: HostPort;
  private tone: ToneName | null = null;
  /** The latest caller turned away busy during the current call (call waiting, issue 18). */
  private waiting?: WaitingCaller;
  private readonly badge = new ToolbarBadge();
  private testHooks?: () => SessionTestHooks;
  private readonly viewPorts = new Set<Browser.runtime.Port>();
  private backupNeeded = false;
  private keysCheckedFor?: string;
  /** Issue 15: the relays each recent call was dialled on (call id → canonical URLs), for its history entry. */
  private readonly dialledRelays = new Map<string, string[]>();
  private ui!: UiHost;
  /** Chrome: the permission window a call waits on (mic-gate.ts). Firefox: its call window asks. */
  private mic?: MicGate;
  private ffxMic?: CallWindowMic;
  private readonly controls: CallControls = callControls(
    () => this.calls,
    () => this.push(),
  );
  private readonly pages = new PageBridge({
    view: () => this.view(),
    dial: (address) => this.dial(address),
    controls: this.controls,
    // "Always" grants, per (https origin, address): Settings.pageOrigins entries "<origin> <address>",
    // listed and revoked on the options page. Older origin-only entries never match.
    grants: {
      allowed: async (origin, address) => isHttpsOrigin(origin) && (this.settings.current.pageOrigins ?? []).includes(`${origin} ${address}`),
      grant: async (origin, address) => {
        if (!isHttpsOrigin(origin)) return;
        const r = await this.settings.allowOrigin(`${origin} ${address}`);
        if (r) this.settingsChanged(r.relaysChanged);
      },
    },
    openWindow: openHushWindow,
  });

  /** Load (or create) everything, then connect to the relay. */
  static async boot(media: (emit: (callId: string, ev: MediaEvent) => void) => Promise<HostPort>): Promise<BackgroundApp> {
    const app = new BackgroundApp();
    app.identity = await loadOrCreateIdentity();
    void prepareSigner(app.identity); // the browser's ML-DSA-87 checked now, not at the first call's signature
    app.address = addressFromBundle(app.identity.bundleBytes);
    app.settings = await SettingsStore.load();
    // A policy changed by the organisation while Hush runs applies at once (managed-settings.ts).
    watchManaged((m) => app.settingsChanged(app.settings.setManaged(m).relaysChanged));
    app.contacts = await ContactsStore.load(() => app.push(), (address) => app.lastRelaysOf(address));
    app.history = await HistoryStore.load(() => app.syncBadge());
    app.admission = await AdmissionStore.load();
    app.testHooks = await watchSessionHooks();
    app.backupNeeded = await backupNeeded();
    app.media = await media((callId, ev) => {
      app.noteDevices(callId, ev);
      app.calls.onMediaEvent(callId, ev);
    });
    app.ui = app.uiHost();
    if (browser.offscreen) app.mic = new MicGate(chromeMicGateHost((m) => console.debug(m)));
    else app.ffxMic = new CallWindowMic();
    app.wireIdentity();
    app.syncBadge();
    return app;
  }

  /** The call manager and the signalling connection of the current identity (at boot, and after an import). */
  private wireIdentity(): void {
    this.calls = new CallManager({
      identity: this.identity,
      relays: () => this.ownRelays(),
      send: (to, env) => this.signal.send(to, env),
      media: this.media,
      iceConfig: () => this.iceConfig(),
      microphone: (_s, asking) => (this.mic ?? this.ffxMic!).ask(asking),
      signalReady: () => this.signal.whenReady(10_000),
      onChange: () => {
        this.checkPeerKeys();
        this.push();
      },
      onIncoming: (s) => this.onIncoming(s),
      onEnded: (s, busy) => void this.onCallEnded(s, busy),
      admission: this.admissionPorts(),
      log: (m) => console.debug(m),
      testHooks: this.testHooks,
    });
    this.startSignal();
  }

  /** What call admission reads per HELLO (all in memory), and where a call's tokens go. */
  private admissionPorts(): AdmissionPorts {
    const isContact = (address: string) => !!this.contacts.find(address);
    return {
      recvTokens: (mailbox) => this.admission.recvTokens(mailbox, isContact),
      sendToken: (address) => (isContact(address) ? this.admission.sendToken(address) : undefined),
      blocked: () => this.admission.blocked,
      contactsOnly: () => !!this.settings.current.contactsOnly,
      completed: (s, tokens) => void this.admission.completed(s.peerAddress!, tokens, isContact(s.peerAddress!)),
    };
  }

  private startSignal(): void {
    this.signal = new SignalClient({
      urls: this.settings.current.relays,
      identity: this.identity,
      onDeliver: (from, data) => this.calls.onDeliver(from, data),
      onStatus: (s) => {
        this.relay = s;
        this.push();
      },
      // Our relay node is shutting down and we are on another one now: move the call's media there too.
      onMoved: () => this.calls.current?.restartIce(),
      // Renewed TURN credentials: a live call's next allocation (standby, ICE restart) uses them.
      onTurn: () => this.calls?.current?.turnRenewed(),
    });
    this.signal.start();
    // online/offline and a new connection type reconnect at once (signal/network-watch.ts).
    this.unwatchNetwork?.();
    this.unwatchNetwork = watchNetwork(globalThis as unknown as NetworkScope, (online) => this.signal.networkChanged(online));
  }

  /**
   * Replace this device's identity with an imported one: a new address, a
   * new mailbox login, a new call manager. Refused during a call. The old
   * seed is overwritten in storage and its keys wiped from memory.
   */
  async replaceIdentity(seed: Uint8Array): Promise<string> {
    if (this.calls.inCall) throw new CallError('ERR_IN_CALL', t('err.identity.inCall'));
    const next = identityFromSeed(seed);
    await saveSeed(seed);
    await markBackedUp();
    this.backupNeeded = false;
    this.signal.stop();
    const old = this.identity;
    this.identity = next;
    void prepareSigner(next);
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
    const from = senderKind(sender);
    if (from !== 'extension' && from !== 'internal') return undefined;
    if (isFor<OffscreenEvent>(msg, 'background') && msg.kind === 'media-event') {
      this.noteDevices(msg.callId, msg.event);
      this.calls.onMediaEvent(msg.callId, msg.event);
      return undefined;
    }
    if (!isFor<UiRequest>(msg, 'background')) return undefined;
    return handleUiRequest(this.ui, msg).catch((e: unknown) => failure(e));
  }

  /** runtime.onConnect: a UI opened its "view" port; push the view now and on every change. */
  onConnect(port: Browser.runtime.Port): void {
    if (port.name === PAGE_PORT) return this.pages.attach(port);
    if (port.name !== VIEW_PORT) return;
    // The full view (contacts, history, address) is for the extension's own pages only.
    if (senderKind(port.sender) !== 'extension') {
      port.disconnect();
      return;
    }
    this.viewPorts.add(port);
    port.onDisconnect.addListener(() => this.viewPorts.delete(port));
    port.postMessage({ kind: 'view', view: this.view() } satisfies ViewPush);
    this.history.markSeen();
  }

  /** Firefox: the person closed the call window. During its microphone prompt that refuses the microphone; else it hangs up. */
  onCallWindowClosed(): void {
    if (!this.ffxMic?.windowClosed()) this.controls.hangup();
  }

  /** A button on the incoming-call notification. */
  onNotificationButton(id: string, button: number): void {
    this.controls.notificationButton(id, button);
  }

  // ─── What the parts need from each other ─────────────────────────────────

  /** What the UI requests act on (ui-dispatch.ts). */
  private uiHost(): UiHost {
    return {
      controls: this.controls,
      contacts: this.contacts,
      history: this.history,
      admission: this.admission,
      calls: () => this.calls,
      address: () => this.address,
      signer: () => signerKind(this.identity),
      view: () => this.view(),
      changed: () => this.push(),
      dial: (address) => this.dial(address),
      aboutToDial: () => {
        const ms = aboutToDialHoldMs(this.testHooks, ABOUT_TO_DIAL_HOLD_MS);
        if (!this.calls.inCall) this.media.prewarm?.({ ms, idle: () => !this.calls.inCall });
      },
      pages: this.pages,
      updateSettings: (patch) => this.updateSettings(patch),
      replaceIdentity: (seed) => this.replaceIdentity(seed),
      backedUp: async () => {
        await markBackedUp();
        this.backupNeeded = false;
        this.push();
      },
      reconnectRelay: () => this.signal.restart(),
      mediaStats: (callId) => this.media.stats(callId),
      setCallDevice: (device, deviceId) => this.setCallDevice(device, deviceId),
      micPermission: (state) => this.mic?.report(state),
    };
  }

  /** Dial an address or a contact card (`hush1…@relay.example`: her relay, lib/contacts/card.ts). */
  private async dial(input: string): Promise<{ callId: string }> {
    const card = parseCard(input, { insecureAllowed: testInsecureRelayHost });
    if (!this.signal.online) {
      await this.signal.whenReady(4000).catch(() => {
        throw new CallError('ERR_NO_CALL', endMessage('relay-unreachable'));
      });
    }
    // What was dialled decides: her card's relays; else the ones saved with her (contact, history:
    // issue 15); else (a bare address, an old contact) our own.
    let relays = card.relays;
    if (relays.length === 0) {
      try {
        relays = this.savedRelaysOf(card.address);
      } catch (e) {
        if (e instanceof ContactRelaysError) throw new CallError('ERR_NO_CALL', e.message);
        throw e;
      }
    }
    this.signal.hint(mailboxIdOf(card.address), relays);
    const s = this.calls.dial(card.address);
    this.dialledRelays.set(s.callId, relays);
    while (this.dialledRelays.size > 16) this.dialledRelays.delete(this.dialledRelays.keys().next().value!);
    if (card.relays.length) await this.contacts.noteRelays(card.address, card.relays);
    return { callId: s.callId };
  }

  /** Where a saved contact (else the newest history entry with this address) is rung; [] = our own relay. Throws ContactRelaysError. */
  private savedRelaysOf(address: string): string[] {
    const opts = { insecureAllowed: testInsecureRelayHost };
    const contact = this.contacts.find(address);
    if (contact?.relays !== undefined) return savedRelays(contact.relays, contact.name, opts);
    const entry = this.history.entries.find((h) => h.address === address && h.relays !== undefined);
    return entry ? savedRelays(entry.relays, address, opts) : [];
  }

  /** The relays a call with this address last showed (signed, else dialled), for a contact added without a card. */
  private lastRelaysOf(address: string): string[] {
    const s = this.calls?.current;
    if (s?.peerAddress === address) {
      const r = this.relaysOfCall(s);
      if (r.length) return r;
    }
    try {
      return this.savedRelaysOf(address);
    } catch {
      return [];
    }
  }

  /** A call's peer relays: what it signed in the handshake, else what we dialled. */
  private relaysOfCall(s: CallSession): string[] {
    const signed = acceptSignedRelays(s.peerRelays ?? [], { insecureAllowed: testInsecureRelayHost });
    return signed.length ? signed : (this.dialledRelays.get(s.callId) ?? []);
  }

  /** Our relays as the handshake carries them (canonical, usable, at most 4): where our contacts ring us. */
  private ownRelays(): string[] {
    const out: string[] = [];
    for (const url of this.settings.current.relays) {
      try {
        const c = canonicalRelayUrl(url, { insecureAllowed: testInsecureRelayHost });
        if (!out.includes(c)) out.push(c);
      } catch {
        /* the options page refuses these; a managed list may still carry one: not announced */
      }
    }
    return out.slice(0, RELAY_LIST_MAX);
  }

  private async updateSettings(patch: Partial<Settings>): Promise<Settings> {
    const r = await this.settings.update(patch);
    this.settingsChanged(r.relaysChanged);
    return r.settings;
  }

  /** New relays: a new signalling connection. */
  private settingsChanged(relaysChanged: boolean): void {
    if (relaysChanged) {
      this.signal.stop();
      this.startSignal();
    }
    this.push();
  }

  // ─── Calls ───────────────────────────────────────────────────────────────

  private iceConfig(): { iceServers: RTCIceServer[]; relayOnly: boolean } {
    return { iceServers: iceServersFrom(this.signal.turn), relayOnly: this.settings.current.privacyMode };
  }

  /** A handshake that shows other keys than the ones verified for this contact: warn (contacts/book.ts). */
  private checkPeerKeys(): void {
    const s = this.calls.current;
    if (!s?.peerBundle || !s.peerAddress || this.keysCheckedFor === s.callId) return;
    this.keysCheckedFor = s.callId;
    this.contacts.noteKeysSeen(s.peerAddress, s.peerBundle);
    // Issue 15: a contact follows a move. The list is signed by the keys just checked against her address.
    const signed = acceptSignedRelays(s.peerRelays ?? [], { insecureAllowed: testInsecureRelayHost });
    if (signed.length) void this.contacts.noteRelays(s.peerAddress, signed);
  }

  /**
   * The tones follow the call (callTone): the ringtone while a call rings here (and the setting
   * is on), the ringback while the callee's device rings; off as soon as it is answered, declined
   * or gone. They play in the media host, so they sound with no Hush page open. After a call that
   * never reached media, the host is released.
   */
  private syncRing(): void {
    const c = this.calls?.current;
    const tone = callTone(c, this.settings.current.ringtone);
    if (tone === this.tone) return;
    this.tone = tone;
    const release = !tone && (!c || c.state === CallState.Ended);
    void this.media.ring(!!tone, release, tone ?? undefined).catch(() => {});
  }

  private onIncoming(s: CallSession): void {
    const name = this.contacts.find(s.peerAddress)?.name;
    void notifyIncoming(name ?? s.peerAddress ?? '');
    this.push();
  }

  private async onCallEnded(s: CallSession, busy: boolean): Promise<void> {
    if (!busy) clearIncomingNotification();
    if (!busy) {
      this.mic?.cancel();
      this.ffxMic?.release(s.reason === 'hangup' || s.reason === 'cancelled' || s.reason === 'declined-local');
    }
    if (!s.peerAddress) return;
    // Call waiting: the person in the current call learns who was turned away.
    const live = this.calls.current;
    if (busy && live && live.state !== CallState.Ended) this.waiting = { callId: live.callId, address: s.peerAddress, at: Date.now() };
    await this.history.record(s, busy, this.viewPorts.size > 0, this.relaysOfCall(s));
    this.push();
  }

  // ─── Devices mid-call (issue 12) ─────────────────────────────────────────

  /** Switch the live call's microphone or speaker in the media host ('' = the system default). */
  private async setCallDevice(device: 'input' | 'output', deviceId: string): Promise<void> {
    const s = this.calls.current;
    if (!s || !this.media.setDevice) throw new CallError('ERR_NO_CALL', 'There is no call.');
    await this.media.setDevice(s.callId, device, deviceId);
    const d = this.devicesOf(s.callId);
    if (device === 'input') d.inputDeviceId = deviceId;
    else d.outputDeviceId = deviceId;
    this.push();
  }

  /** ERR_MIC_GONE (non-fatal; `cleared` once a microphone is back) becomes the view's micGone. */
  private noteDevices(callId: string, ev: MediaEvent): void {
    if (ev.type !== 'error' || ev.code !== 'ERR_MIC_GONE') return;
    this.devicesOf(callId).micGone = !ev.cleared;
    this.push();
  }

  private devicesOf(callId: string): NonNullable<BackgroundApp['callDevices']> {
    if (this.callDevices?.callId !== callId) this.callDevices = { callId };
    return this.callDevices;
  }

  private withDevices(v: CallView | null): CallView | null {
    const d = this.callDevices;
    if (!v || !d || d.callId !== v.callId) return v;
    return { ...v, micGone: d.micGone || undefined, inputDeviceId: d.inputDeviceId, outputDeviceId: d.outputDeviceId };
  }

  /** Issue 17: the quality monitor follows the call while it is connected (or reconnecting), and no other. */
  private followQuality(): void {
    const c = this.calls?.current;
    this.quality.follow(c && (c.state === CallState.Connected || c.state === CallState.Reconnecting) ? c.callId : undefined);
  }

  private withQuality(v: CallView | null): CallView | null {
    const q = this.quality.reading(v?.callId)?.quality;
    return v && q ? { ...v, quality: q } : v;
  }

  // ─── View ────────────────────────────────────────────────────────────────

  view(): AppView {
    return {
      address: this.address,
      relay: { state: this.relay.state, url: this.relay.url, error: this.relay.error },
      contacts: this.contacts.list,
      call: this.withQuality(this.withDevices(callView(this.calls.current, (a) => this.contacts.find(a), this.waiting))),
      history: this.history.entries,
      unseenMissed: this.history.unseenMissed,
      settings: this.settings.current,
      managed: this.settings.managedKeys,
      backupNeeded: this.backupNeeded,
      blocked: this.admission.blockedAddresses,
    };
  }

  /** The toolbar badge: a live (or muted) microphone during a call, else the unseen missed calls. */
  private syncBadge(): void {
    if (!this.history) return;
    const call = this.calls ? callView(this.calls.current, () => undefined) : null;
    void this.badge.show(badgeLook(micIndicator(call), this.history.unseenMissed));
  }

  private push(): void {
    this.followQuality();
    this.syncRing();
    this.syncBadge();
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
