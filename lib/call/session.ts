/**
 * One call, from dial (or HELLO) to hang-up: runs the handshake, the sealed
 * signalling channel and the media engine, and moves the state machine
 * (state.ts). Knows nothing of sockets, storage or UI: everything outside
 * comes through `SessionPorts`, so the whole flow is unit-tested in one
 * process with two sessions wired back to back.
 *
 * Envelopes and media events are processed strictly one at a time, in
 * arrival order (a promise queue), so a candidate can never overtake the
 * offer it belongs to.
 */
import { addressFromBundle, mailboxIdOfBundle, parseAddress, mailboxIdFromHash } from '../crypto/address';
import { toHex, wipe } from '../crypto/bytes';
import { CalleeHandshake, CallerHandshake, directional, type CallKeys } from '../crypto/handshake';
import type { Identity } from '../crypto/identity';
import { EnvelopeType, parseEnvelope } from '../crypto/envelope-format';
import { SealedChannel } from '../crypto/sealed-channel';
import type { MediaEvent, MediaStartOptions, OfferOptions, PathKind, Role } from '../media/types';
import { decodeControl, encodeControl, type CandidateInit, type Control } from './control';
import { CallState, isLive, next, type CallEvent, type EndReason } from './state';
import { IcePolicy, type IceAction, type IceReport } from '../ice/policy';
import { iceHooks, mediaStartHooks } from '../testing/hooks';

/** How long each phase may take before the call ends on its own. */
export const TIMEOUTS = {
  /** Caller: from HELLO to the callee's ringing (covers the handshake). */
  handshakeMs: 15_000,
  /** Ringing until "no answer" / "missed". */
  ringMs: 45_000,
  /** Accepted until media connects. */
  connectMs: 20_000,
  /** Reconnecting until "connection lost". */
  reconnectMs: 15_000,
  /** A path that went "disconnected" gets this long to come back before the caller restarts ICE. */
  restartAfterDisconnectMs: 1_000,
};
/** Callee and caller both notice a dead path; the caller replaces the connection once per this long. */
const FRESH_DEBOUNCE_MS = 3_000;

/** The media engine as the session drives it (offscreen document or Firefox background page). */
export interface MediaPort {
  start(opts: MediaStartOptions): Promise<void>;
  createOffer(callId: string, opts?: OfferOptions): Promise<string>;
  acceptOffer(callId: string, sdp: string, opts?: { fresh?: boolean }): Promise<string>;
  setAnswer(callId: string, sdp: string): Promise<void>;
  addCandidate(callId: string, c: CandidateInit | null): Promise<void>;
  setMuted(callId: string, muted: boolean): Promise<void>;
  stop(callId: string): Promise<void>;
}

export interface SessionPorts {
  identity: Identity;
  send(toMailbox: string, envelope: Uint8Array): Promise<'sent' | 'unreachable'>;
  media: MediaPort;
  /** ICE servers (the relay's STUN/TURN with fresh credentials) and privacy mode. */
  iceConfig(): { iceServers: RTCIceServer[]; relayOnly: boolean };
  /**
   * Resolves once the signalling connection is up (at once when it is). A restart waits for it:
   * after a relay node died, the credentials and TURN servers of the node we reconnect to are
   * the only ones that work.
   */
  signalReady?(): Promise<void>;
  /** Anything visible changed. */
  onChange(session: CallSession): void;
  /** The call ended (once). */
  onEnded?(session: CallSession): void;
  /** Debug log: never keys, SDP or addresses. */
  log?(msg: string): void;
  /** Test hooks passed to the media engine (set from session storage by tests only). */
  testHooks?: () => { corruptRecvKey?: boolean; tapFrames?: number; retryDirectMs?: number };
}

/** A media error code from the engine, mapped to an end reason. */
function mediaErrorReason(code: string): 'mic-denied' | 'no-microphone' | 'media-failed' {
  return code === 'ERR_MIC_DENIED' ? 'mic-denied' : code === 'ERR_NO_MICROPHONE' ? 'no-microphone' : 'media-failed';
}

export class CallSession {
  /** Before the callee's CONFIRM arrives the session is not a call yet (invisible, no state). */
  state: CallState | 'handshaking';
  reason?: EndReason;
  callId: string;
  peerMailbox: string;
  peerAddress?: string;
  peerBundle?: Uint8Array;
  sas?: string;
  muted = false;
  path: PathKind = 'unknown';
  readonly startedAt = Date.now();
  connectedAt?: number;
  endedAt?: number;

  private caller?: CallerHandshake;
  private callee?: CalleeHandshake;
  private channel?: SealedChannel;
  private frameSecrets?: { send: Uint8Array; recv: Uint8Array };
  private mediaStarted = false;
  /** Callee: true until our answer to the caller's offer is applied (candidates wait till then). */
  private awaitingOffer = true;
  private remoteOffer?: { sdp: string; n: number };
  /** Caller: the number of the last offer sent, and of the last one answered. */
  private offerSeq = 0;
  private answeredSeq = 0;
  /** Caller: a restart asked for while an offer was unanswered (relay-only or not), done on the answer. */
  private queuedRestart?: boolean;
  /** When the caller last replaced the connection (a dead path), to do it once per failure. */
  private lastFreshAt = 0;
  private readonly pendingCandidates: (CandidateInit | null)[] = [];
  private timer?: ReturnType<typeof setTimeout>;
  private restartTimer?: ReturnType<typeof setTimeout>;
  private queue: Promise<void> = Promise.resolve();
  /** P2P first, relay within the window (lib/ice/policy.ts); exists once media started. */
  private ice?: IcePolicy;
  /** The path this call is on right now, as the policy sees it (lab timings, UI). */
  get iceReport(): IceReport | undefined {
    return this.ice?.report();
  }

  private constructor(
    readonly role: Role,
    private readonly ports: SessionPorts,
    callId: string,
    peerMailbox: string,
  ) {
    this.callId = callId;
    this.peerMailbox = peerMailbox;
    this.state = role === 'caller' ? CallState.Dialing : 'handshaking';
  }

  // ─── Construction ──────────────────────────────────────────────────────────

  /** Caller: dial an address. Sends HELLO; ERR_BAD_ADDRESS is thrown synchronously for a typo. */
  static dial(ports: SessionPorts, address: string): CallSession {
    const { address: canonical, hash } = parseAddress(address);
    const hs = new CallerHandshake(ports.identity, hash);
    const s = new CallSession('caller', ports, toHex(hs.callId), mailboxIdFromHash(hash));
    s.caller = hs;
    s.peerAddress = canonical;
    const hello = hs.start();
    s.arm(TIMEOUTS.handshakeMs, { type: 'unreachable' });
    s.enqueue(async () => {
      const r = await s.trySend(hello);
      if (r === 'unreachable') s.fire({ type: 'unreachable' });
    });
    return s;
  }

  /** Callee: a HELLO arrived from `fromMailbox`. Answers it; the call becomes visible at CONFIRM. */
  static answerHello(ports: SessionPorts, fromMailbox: string, hello: Uint8Array): CallSession {
    const env = parseEnvelope(hello);
    const s = new CallSession('callee', ports, toHex(env.callId), fromMailbox);
    s.callee = new CalleeHandshake(ports.identity);
    s.arm(TIMEOUTS.handshakeMs, { type: 'handshake-failed' });
    s.enqueue(async () => {
      const r = await s.callee!.onHello(hello);
      if (!r.ok) {
        s.log(`HELLO refused: ${r.error.code}`);
        s.finishSilently();
        return;
      }
      await s.trySend(r.value);
    });
    return s;
  }

  // ─── Inputs ────────────────────────────────────────────────────────────────

  /** An envelope for this call arrived from the relay. */
  onEnvelope(from: string, bytes: Uint8Array): void {
    if (from !== this.peerMailbox) return; // only the party we are talking to
    this.enqueue(() => this.handleEnvelope(bytes));
  }

  /** An event from the media engine. */
  onMediaEvent(ev: MediaEvent): void {
    this.enqueue(() => this.handleMediaEvent(ev));
  }

  /** Callee: the person pressed Accept. */
  accept(): void {
    this.enqueue(async () => {
      if (!this.fire({ type: 'local-accept' })) return;
      this.arm(TIMEOUTS.connectMs, { type: 'media-failed' });
      await this.sendControl({ k: 'accept' });
      if (!(await this.startMedia())) return;
      if (this.remoteOffer) await this.answerOffer(this.remoteOffer.sdp, this.remoteOffer.n);
    });
  }

  /** Hang up, cancel or decline, whichever applies now. */
  hangup(): void {
    this.enqueue(async () => {
      if (this.state === 'handshaking' || this.state === CallState.Ended) return;
      const declining = this.state === CallState.Incoming;
      if (this.channel) await this.sendControl(declining ? { k: 'decline' } : { k: 'hangup' });
      this.fire({ type: 'local-hangup' });
    });
  }

  /** Decline with "busy" (the manager's decision: we are in another call). */
  rejectBusy(): void {
    this.enqueue(async () => {
      await this.sendControl({ k: 'busy' });
      this.finishSilently();
    });
  }

  setMuted(muted: boolean): void {
    this.muted = muted;
    this.ports.onChange(this);
    if (this.mediaStarted) this.ports.media.setMuted(this.callId, muted).catch(() => {});
  }

  /**
   * ICE restart (network change, path failure, relay restart, the ICE policy):
   * the caller re-offers with fresh TURN credentials, relay-only or not; the
   * callee asks the caller to. Same keys, same call.
   */
  restartIce(relayOnly = this.ice?.report().relayOnly ?? false, fresh = false): void {
    this.enqueue(() => this.doRestart(relayOnly, fresh));
  }

  private async doRestart(relayOnly: boolean, fresh = false): Promise<void> {
    if (!this.mediaStarted || !isLive(this.state as CallState)) return;
    if (this.role === 'callee') {
      await this.sendControl({ k: 'restart', relay: relayOnly, fresh });
      return;
    }
    // Both sides see a dead path at once: one fresh connection is enough.
    if (fresh && Date.now() - this.lastFreshAt < FRESH_DEBOUNCE_MS) return;
    if (this.offerSeq > this.answeredSeq) {
      // One offer in flight at a time: a second would make the first one's answer arrive out of turn.
      this.queuedRestart = (this.queuedRestart ?? false) || relayOnly;
      return;
    }
    if (fresh) this.lastFreshAt = Date.now();
    await this.ports.signalReady?.().catch(() => {});
    if (!isLive(this.state as CallState)) return;
    const { iceServers, relayOnly: privacy } = this.ports.iceConfig();
    const relay = relayOnly || privacy;
    this.ice?.restarted(relay);
    try {
      const sdp = await this.ports.media.createOffer(this.callId, { iceRestart: true, relayOnly: relay, iceServers, fresh });
      await this.sendControl({ k: 'offer', sdp, n: ++this.offerSeq, restart: true, relay, fresh });
    } catch (e) {
      this.mediaFailure(e);
    }
  }

  /** Resolves when every queued input so far has been processed (tests). */
  settled(): Promise<void> {
    return this.queue;
  }

  // ─── Handling ──────────────────────────────────────────────────────────────

  private async handleEnvelope(bytes: Uint8Array): Promise<void> {
    if (this.state === CallState.Ended) return;
    let type: number;
    try {
      type = parseEnvelope(bytes).type;
    } catch {
      return this.log('malformed envelope dropped');
    }
    switch (type) {
      case EnvelopeType.Response:
        return this.onResponse(bytes);
      case EnvelopeType.Confirm:
        return this.onConfirm(bytes);
      case EnvelopeType.Sealed:
        return this.onSealed(bytes);
      default:
        return this.log(`unexpected envelope type ${type}`);
    }
  }

  private async onResponse(bytes: Uint8Array): Promise<void> {
    if (!this.caller) return;
    const r = await this.caller.onResponse(bytes, encodeControl({ k: 'invite' }));
    if (!r.ok) {
      if (r.error.code === 'ERR_HANDSHAKE_STATE') return this.log('stray RESPONSE ignored');
      this.log(`handshake failed: ${r.error.code}`);
      this.fire({ type: 'handshake-failed' });
      return;
    }
    if (!(await this.installKeys(r.value.keys))) return;
    this.ports.onChange(this);
    await this.trySend(r.value.confirm);
    // Gather at once: start media and send the offer while the callee's device rings.
    if (!(await this.startMedia())) return;
    const sdp = await this.ports.media.createOffer(this.callId);
    await this.sendControl({ k: 'offer', sdp, n: ++this.offerSeq });
  }

  private async onConfirm(bytes: Uint8Array): Promise<void> {
    if (!this.callee || this.state !== 'handshaking') return;
    const r = await this.callee.onConfirm(bytes);
    if (!r.ok) {
      this.log(`handshake failed: ${r.error.code}`);
      this.finishSilently();
      return;
    }
    const invite = decodeControl(r.value.payload);
    if (invite?.k !== 'invite') return this.finishSilently();
    if (!(await this.installKeys(r.value.keys))) return;
    // Ask the owner whether we can ring (not busy); it calls ring() or rejectBusy().
    this.ports.onChange(this);
  }

  /** Callee, after CONFIRM, when the manager decided this call may ring. */
  ring(): void {
    this.enqueue(async () => {
      if (this.state !== 'handshaking' || !this.channel) return;
      this.state = CallState.Incoming;
      this.arm(TIMEOUTS.ringMs, { type: 'ring-timeout' });
      this.ports.onChange(this);
      await this.sendControl({ k: 'ringing' });
    });
  }

  /** True once the callee's handshake completed and the call waits for ring() or rejectBusy(). */
  get awaitingRing(): boolean {
    return this.role === 'callee' && this.state === 'handshaking' && !!this.channel;
  }

  private async onSealed(bytes: Uint8Array): Promise<void> {
    if (!this.channel) return;
    const r = await this.channel.open(bytes);
    if (!r.ok) return this.log(`sealed message dropped: ${r.error.code}`);
    const c = decodeControl(r.value);
    if (!c) return this.log('unknown control message dropped');
    await this.handleControl(c);
  }

  private async handleControl(c: Control): Promise<void> {
    switch (c.k) {
      case 'ringing':
        if (this.fire({ type: 'remote-ringing' })) this.arm(TIMEOUTS.ringMs, { type: 'ring-timeout' });
        return;
      case 'accept':
        if (this.fire({ type: 'remote-accept' })) this.arm(TIMEOUTS.connectMs, { type: 'media-failed' });
        return;
      case 'decline':
        this.fire({ type: 'remote-decline' });
        return;
      case 'busy':
        this.fire({ type: 'remote-busy' });
        return;
      case 'hangup':
        this.fire({ type: 'remote-hangup' });
        return;
      case 'offer':
        if (this.role !== 'callee') return;
        if (c.restart) this.ice?.restarted(!!c.relay || this.ports.iceConfig().relayOnly);
        if (this.mediaStarted) await this.answerOffer(c.sdp, c.n, c.fresh);
        else this.remoteOffer = { sdp: c.sdp, n: c.n }; // keep until the person accepts
        return;
      case 'restart':
        // The callee's policy or network asks: only the caller offers, so glare never happens.
        if (this.role === 'caller') await this.doRestart(c.relay, c.fresh);
        return;
      case 'answer': {
        if (this.role !== 'caller' || !this.mediaStarted) return;
        if (c.n !== this.offerSeq || this.answeredSeq === c.n) return this.log(`stale answer ${c.n} ignored`);
        this.answeredSeq = c.n;
        await this.ports.media.setAnswer(this.callId, c.sdp).catch((e) => this.mediaFailure(e));
        const queued = this.queuedRestart;
        this.queuedRestart = undefined;
        if (queued !== undefined) await this.doRestart(queued);
        return;
      }
      case 'cand':
        this.ice?.remoteCandidate(c.c);
        if (this.mediaStarted && (this.role === 'caller' || !this.awaitingOffer)) {
          await this.ports.media.addCandidate(this.callId, c.c).catch(() => this.log('candidate refused'));
        } else if (this.pendingCandidates.length < 64) this.pendingCandidates.push(c.c);
        return;
      case 'invite':
        return;
      default: {
        const never: never = c;
        void never;
      }
    }
  }

  private async answerOffer(sdp: string, n: number, fresh = false): Promise<void> {
    try {
      const answer = await this.ports.media.acceptOffer(this.callId, sdp, { fresh });
      this.awaitingOffer = false;
      await this.sendControl({ k: 'answer', sdp: answer, n });
      for (const cand of this.pendingCandidates.splice(0)) await this.ports.media.addCandidate(this.callId, cand).catch(() => {});
    } catch (e) {
      this.mediaFailure(e);
    }
  }

  private async handleMediaEvent(ev: MediaEvent): Promise<void> {
    if (this.state === CallState.Ended) return;
    switch (ev.type) {
      case 'candidate':
        // The policy decides what leaves (it may withhold direct candidates once relay-only).
        if (this.ice) this.ice.localCandidate(ev.candidate as CandidateInit | null);
        else await this.sendControl({ k: 'cand', c: ev.candidate as CandidateInit | null });
        return;
      case 'state': {
        if (ev.path !== 'unknown') this.path = ev.path;
        this.ice?.pathChanged(ev.connection, ev.path);
        if (ev.connection === 'connected') {
          clearTimeout(this.restartTimer);
          if (this.fire({ type: 'media-connected' })) this.disarm();
        } else if (ev.connection === 'disconnected') {
          if (this.fire({ type: 'media-lost' })) this.arm(TIMEOUTS.reconnectMs, { type: 'media-failed' });
          // A path that does not come back by itself: move the call (ICE restart).
          clearTimeout(this.restartTimer);
          this.restartTimer = setTimeout(() => this.restartIce(this.ice?.report().forcedRelay === 'symmetric-nat'), TIMEOUTS.restartAfterDisconnectMs);
        } else if (ev.connection === 'failed') {
          if (this.state === CallState.Connected && this.fire({ type: 'media-lost' })) {
            this.arm(TIMEOUTS.reconnectMs, { type: 'media-failed' });
          }
          clearTimeout(this.restartTimer);
          this.restartIce(this.ice?.report().forcedRelay === 'symmetric-nat');
        }
        this.ports.onChange(this);
        return;
      }
      case 'stall':
        // Connected but silent: the path died. Replace the connection rather than wait for
        // Chromium's consent timeout (docs/ice.md); the caller does it, a callee asks it to.
        this.log(`audio stalled for ${ev.silentMs} ms: moving the call`);
        await this.doRestart(this.ice?.report().forcedRelay === 'symmetric-nat' || this.ports.iceConfig().relayOnly, true);
        return;
      case 'error':
        if (ev.fatal === false) return this.log(`media warning: ${ev.code}`);
        await this.sendControl({ k: 'hangup' });
        this.fire({ type: 'media-error', reason: mediaErrorReason(ev.code) });
        return;
      default: {
        const never: never = ev;
        void never;
      }
    }
  }

  // ─── Effects ───────────────────────────────────────────────────────────────

  /** Keep what the call needs from the handshake; false if the keys do not fit the sender. */
  private async installKeys(keys: CallKeys): Promise<boolean> {
    const d = directional(keys);
    this.channel = await SealedChannel.create(keys.callId, d.sendSignal, d.recvSignal);
    this.frameSecrets = { send: d.sendFrame.slice(), recv: d.recvFrame.slice() };
    this.sas = keys.sas;
    this.peerBundle = keys.peerBundleBytes;
    this.peerAddress = addressFromBundle(keys.peerBundleBytes);
    wipe(keys.secrets.frameA2b, keys.secrets.frameB2a, keys.secrets.signalA2b, keys.secrets.signalB2a, keys.secrets.sas);
    if (mailboxIdOfBundle(keys.peerBundleBytes) !== this.peerMailbox) {
      // The keys claim another mailbox than the one the relay says sent them: not our peer.
      this.log('peer keys do not match the sending mailbox');
      this.fire({ type: 'handshake-failed' });
      return false;
    }
    return true;
  }

  /** Start the media engine with this call's frame secrets; false if it failed (call ended). */
  private async startMedia(): Promise<boolean> {
    if (this.mediaStarted) return true;
    if (!this.frameSecrets || this.state === CallState.Ended) return false;
    const { iceServers, relayOnly } = this.ports.iceConfig();
    const secrets = this.frameSecrets;
    this.frameSecrets = undefined;
    try {
      this.mediaStarted = true;
      await this.ports.media.start({
        callId: this.callId,
        role: this.role,
        iceServers,
        relayOnly,
        sendFrameSecret: secrets.send,
        recvFrameSecret: secrets.recv,
        ...mediaStartHooks(this.ports.testHooks),
      });
      this.ice = new IcePolicy({ relayOnly, ...iceHooks(this.ports.testHooks) }, (a) => this.onIceAction(a));
      if (this.muted) await this.ports.media.setMuted(this.callId, true);
      return true;
    } catch (e) {
      this.mediaStarted = false;
      this.mediaFailure(e);
      return false;
    } finally {
      wipe(secrets.send, secrets.recv);
    }
  }

  private onIceAction(a: IceAction): void {
    switch (a.type) {
      case 'send':
        this.enqueue(() => this.sendControl({ k: 'cand', c: a.candidate }));
        return;
      case 'go-relay':
        this.log(`going to the relay: ${a.reason}`);
        // Symmetric NAT: the policy now withholds our direct candidates and ICE's relay pairs,
        // checked since the first moment, carry the call (~130 ms in the lab); a restart would only
        // delay it. A window that expired with nothing connected: restart, relay only.
        if (a.reason === 'window-expired') this.restartIce(true);
        return;
      case 'try-direct':
        this.restartIce(false);
        return;
      default: {
        const never: never = a;
        void never;
      }
    }
  }

  private mediaFailure(e: unknown): void {
    const code = (e as { code?: string })?.code ?? 'ERR_WEBRTC';
    this.log(`media failed: ${code} (${e instanceof Error ? e.message : typeof e})`);
    void this.sendControl({ k: 'hangup' });
    this.fire({ type: 'media-error', reason: mediaErrorReason(code) });
  }

  private async sendControl(c: Control): Promise<void> {
    if (!this.channel) return;
    await this.trySend(await this.channel.seal(encodeControl(c)));
  }

  private async trySend(envelope: Uint8Array): Promise<'sent' | 'unreachable' | 'offline'> {
    try {
      return await this.ports.send(this.peerMailbox, envelope);
    } catch {
      if (this.state !== 'handshaking') this.fire({ type: 'relay-down' });
      return 'offline';
    }
  }

  /** Apply an event; returns whether it applied. Ends the call when the machine says so. */
  private fire(ev: CallEvent): boolean {
    if (this.state === 'handshaking') {
      if (ev.type === 'handshake-failed') this.finishSilently();
      return false;
    }
    const t = next(this.state, ev);
    if (!t) {
      this.log(`event ${ev.type} ignored in ${this.state}`);
      return false;
    }
    this.state = t.state;
    if (t.state === CallState.Connected && !this.connectedAt) this.connectedAt = Date.now();
    if (t.state === CallState.Ended) {
      this.reason = t.reason;
      this.endedAt = Date.now();
      this.cleanup();
      this.ports.onChange(this);
      this.ports.onEnded?.(this);
    } else {
      this.ports.onChange(this);
    }
    return true;
  }

  /** End a callee handshake that never became a visible call. */
  private finishSilently(): void {
    this.state = CallState.Ended;
    this.endedAt = Date.now();
    this.cleanup();
    this.ports.onEnded?.(this);
  }

  private cleanup(): void {
    this.disarm();
    clearTimeout(this.restartTimer);
    this.ice?.dispose();
    if (this.frameSecrets) wipe(this.frameSecrets.send, this.frameSecrets.recv);
    this.frameSecrets = undefined;
    if (this.mediaStarted) {
      this.mediaStarted = false;
      this.ports.media.stop(this.callId).catch(() => {});
    }
  }

  private arm(ms: number, ev: CallEvent): void {
    this.disarm();
    this.timer = setTimeout(() => this.enqueue(async () => void this.fire(ev)), ms);
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private enqueue(job: () => Promise<void>): void {
    this.queue = this.queue.then(job).catch((e: unknown) => {
      this.log(`internal error: ${e instanceof Error ? e.name : typeof e}`);
      if (this.state !== CallState.Ended && this.state !== 'handshaking') this.fire({ type: 'media-error', reason: 'media-failed' });
    });
  }

  private log(msg: string): void {
    this.ports.log?.(`[call ${this.callId.slice(0, 6)}] ${msg}`);
  }
}
