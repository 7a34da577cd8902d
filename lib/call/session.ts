/**
 * One call, from dial (or HELLO) to hang-up: keeps the state (state.ts), the
 * event queue and the timers, and routes each input to the part that handles
 * it: the handshake (handshake-driver.ts), the SDP/ICE negotiation
 * (negotiation.ts), the sealed control channel. Knows nothing of sockets,
 * storage or UI: everything outside comes through `SessionPorts`, so the
 * whole flow is unit-tested in one process with two sessions wired back to
 * back (manager.test.ts).
 *
 * Envelopes, media events and timer jobs are processed strictly one at a
 * time, in arrival order (a promise queue), so a candidate can never overtake
 * the offer it belongs to. Every state comes out of `next()`; each transition
 * bumps a generation, and a timer's job runs only in the generation that armed
 * it (timers.ts, style.md §13).
 *
 * Why ~600 lines: this is the hub every input of a call passes through (envelopes, controls,
 * media events, timers, the person's buttons), each routed in a few lines to the state machine
 * and to the part that does the work; the handshake, the negotiation and the timers themselves
 * live in their own files. Splitting the routing further would scatter one `switch` per input.
 */
import { wipe } from '../crypto/bytes';
import { EnvelopeType, parseEnvelope } from '../crypto/envelope-format';
import type { AdmissionTokens } from '../crypto/handshake';
import type { Identity } from '../crypto/identity';
import type { SealedChannel } from '../crypto/sealed-channel';
import type { IceReport } from '../ice/policy';
import type { MediaPort } from '../media/port';
import type { MediaEvent, PathKind, Role } from '../media/types';
import { decodeControl, encodeControl, type CandidateInit, type Control } from './control';
import { CalleeDriver, CallerDriver, type CallSecrets } from './handshake-driver';
import { Negotiation } from './negotiation';
import {
  CallState,
  MIC_WAIT_MAX_MS,
  initialState,
  isLive,
  next,
  type CallEvent,
  type EndReason,
  type SessionState,
} from './state';
import { StateTimers, type TimerSlot } from './timers';
import { iceHooks, markCall, mediaStartHooks } from '../testing/hooks';

/** The interface moved to lib/media/port.ts; re-exported for the callers that import it from here. */
export type { MediaPort } from '../media/port';

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

export interface SessionPorts {
  identity: Identity;
  /** Our current relays (canonical), signed into the handshake so the peer's contact follows a move. */
  relays?(): readonly string[];
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
  /**
   * Callee: CONFIRM proved who calls; may this call ring here (false: we are busy, the caller
   * is told so and the call ends unseen)? Asked once; it rings when this is absent.
   */
  mayRing?(session: CallSession): boolean;
  /** The call ended (once). */
  onEnded?(session: CallSession): void;
  /**
   * The handshake completed (callee: CONFIRM checked; caller: REVEAL checked) and gave this
   * call's admission tokens (docs/protocol.md §5.4). The receiver owns them from here on (it
   * stores them with the contact, or wipes them); absent, they are wiped at once.
   */
  onAdmission?(session: CallSession, tokens: AdmissionTokens): void;
  /**
   * May this call use the microphone? Resolves at once when it is already allowed; otherwise
   * the port asks the person (Chrome: Hush's permission window; Firefox: the call window's
   * prompt), calls `asking()` once it does, and resolves with the person's answer: `denied`
   * (refused) or `closed` (the window that asks was closed, the call window gone). The session
   * waits in a state of its own meanwhile, never a network timeout (state.ts). Absent: granted.
   */
  microphone?(session: CallSession, asking: () => void): Promise<MicAnswer>;
  /** Debug log: never keys, SDP or addresses. */
  log?(msg: string): void;
  /** Test hooks passed to the media engine (set from session storage by tests only). */
  testHooks?: () => { corruptRecvKey?: boolean; tapFrames?: number; retryDirectMs?: number };
}

/** What the person answered when Hush needed the microphone. */
export type MicAnswer = 'granted' | 'denied' | 'closed';

/** A media error code from the engine, mapped to an end reason. */
function mediaErrorReason(code: string): 'mic-denied' | 'no-microphone' | 'media-failed' {
  return code === 'ERR_MIC_DENIED' ? 'mic-denied' : code === 'ERR_NO_MICROPHONE' ? 'no-microphone' : 'media-failed';
}

export class CallSession {
  /** Written only by `fire()`, from `next()`. */
  state: SessionState;
  reason?: EndReason;
  readonly callId: string;
  readonly peerMailbox: string;
  peerAddress?: string;
  peerBundle?: Uint8Array;
  /** The relays the peer signed into the handshake (set once its keys checked out). */
  peerRelays?: string[];
  sas?: string;
  muted = false;
  /** The port is asking the person for the microphone right now (the UI says so). */
  askingMic = false;
  path: PathKind = 'unknown';
  readonly startedAt = Date.now();
  connectedAt?: number;
  endedAt?: number;

  private caller?: CallerDriver;
  private callee?: CalleeDriver;
  private channel?: SealedChannel;
  /** Caller, issue 17: the media start begun at dial (startEarly), until CONFIRM; resolves with its failure, if any. */
  private early?: Promise<unknown>;
  /** The privacy mode the early start gathered with: another at CONFIRM drops it (onResponse). */
  private earlyRelayOnly = false;
  /** The early start's failure, once known: HELLO is then not sent (nothing rings for a call that cannot carry audio). */
  private earlyFailure?: unknown;
  /** From the handshake until handed to the media engine (or wiped at the end). */
  private frameSecrets?: { send: Uint8Array; recv: Uint8Array };
  private readonly negotiation: Negotiation;
  /** Bumped by every transition: a timer job of an older generation does nothing. */
  private generation = 0;
  private readonly timers: StateTimers;
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    readonly role: Role,
    private readonly ports: SessionPorts,
    callId: string,
    peerMailbox: string,
  ) {
    this.callId = callId;
    this.peerMailbox = peerMailbox;
    this.state = initialState(role);
    this.timers = new StateTimers({
      generation: () => this.generation,
      enqueue: (job) => this.enqueue(job),
      log: (msg) => this.log(msg),
    });
    this.negotiation = new Negotiation({
      callId,
      role,
      media: ports.media,
      send: (c) => this.sendControl(c),
      iceConfig: () => ports.iceConfig(),
      signalReady: ports.signalReady?.bind(ports),
      live: () => isLive(this.state),
      failed: (e) => this.mediaFailure(e),
      enqueue: (job) => this.enqueue(job),
      log: (msg) => this.log(msg),
    });
  }

  /** The path this call is on right now, as the ICE policy sees it (lab timings, UI). */
  get iceReport(): IceReport | undefined {
    return this.negotiation.report;
  }

  // ─── Construction ──────────────────────────────────────────────────────────

  /**
   * Caller: dial an address. Sends HELLO (tagged with `admitToken`, the contact's stored send
   * token, when there is one); ERR_BAD_ADDRESS is thrown synchronously for a typo.
   */
  static dial(ports: SessionPorts, address: string, admitToken?: Uint8Array): CallSession {
    const driver = new CallerDriver(ports.identity, address, admitToken, ports.relays?.() ?? []);
    const s = new CallSession('caller', ports, driver.callId, driver.peerMailbox);
    s.caller = driver;
    s.peerAddress = driver.peerAddress;
    s.mark('dial');
    ports.media.prewarm?.(); // the media host starts while the handshake runs (issue 17)
    s.startEarly();
    let hello: Uint8Array | undefined;
    // HELLO only once this person can speak: nothing rings at the callee before (issue 21, point 4).
    s.waitForMicrophone(async () => {
      // The media made at dial already failed: the call would end at CONFIRM; end it before the callee rings.
      if (s.earlyFailure) return s.mediaFailure(s.earlyFailure);
      s.armPhase(TIMEOUTS.handshakeMs, 'handshake', { type: 'unreachable' });
      s.mark('mic-ok');
      const r = await s.trySend(hello!);
      s.mark('hello-sent');
      if (r === 'unreachable') s.fire({ type: 'unreachable' });
    });
    // This call's fresh ephemeral keys and HELLO are made now, while the microphone check (a round
    // trip to the media host, which may have to be created) runs (issue 17); used once, for this call.
    // The check's answer joins the queue, so HELLO is always made before it is sent.
    hello = driver.hello();
    s.mark('hello-sealed');
    return s;
  }

  /** Callee: a HELLO arrived from `fromMailbox`. Answers it; the call becomes visible at CONFIRM. */
  static answerHello(ports: SessionPorts, fromMailbox: string, hello: Uint8Array): CallSession {
    const driver = new CalleeDriver(ports.identity, fromMailbox, hello, ports.relays?.() ?? []);
    const s = new CallSession('callee', ports, driver.callId, fromMailbox);
    s.callee = driver;
    s.mark('hello-received');
    s.armPhase(TIMEOUTS.handshakeMs, 'handshake', { type: 'handshake-failed' });
    s.enqueue(async () => {
      if (s.state === CallState.Ended) return; // evicted before its turn: no signature
      const r = await driver.respond();
      if (!r.ok) {
        s.log(`HELLO refused: ${r.code}`);
        s.fire({ type: 'silent-end' });
        return;
      }
      if ((s.state as SessionState) === CallState.Ended) return; // evicted while signing
      await s.trySend(r.response);
      s.mark('response-sent');
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
      this.mark('accept');
      // `accept` only once this person can speak; the caller keeps ringing, told `answering`.
      this.waitForMicrophone(async () => {
        this.mark('accept-mic-ok');
        this.armPhase(TIMEOUTS.connectMs, 'connect', { type: 'media-failed' });
        await this.sendControl({ k: 'accept' });
        if (this.negotiation.holding) await this.negotiation.release(); // prepared while it rang
        else {
          if (!(await this.startMedia())) return;
          await this.negotiation.answerHeldOffer();
        }
        this.mark('answer-sent');
      });
    });
  }

  /**
   * In a *WaitingMic state (just entered): ask the microphone port, outside the queue so that
   * envelopes (a hang-up) and the person's buttons are still handled while the prompt is open.
   * The answer joins the queue and acts only if the call is still waiting in the same state.
   * No timer but the MIC_WAIT_MAX_MS cap runs meanwhile (the phase slot holds only it).
   */
  private waitForMicrophone(go: () => Promise<void>): void {
    const waiting = this.state;
    this.arm('phase', MIC_WAIT_MAX_MS, 'microphone-wait', async () => {
      if (this.role === 'callee') await this.sendControl({ k: 'decline', why: 'mic' });
      this.fire({ type: 'mic-wait-timeout' });
    });
    const asking = () =>
      this.enqueue(async () => {
        if (this.state !== waiting) return;
        this.askingMic = true;
        this.ports.onChange(this);
        if (this.role === 'callee') await this.sendControl({ k: 'answering' });
      });
    const answer = this.ports.microphone ? this.ports.microphone(this, asking) : Promise.resolve<MicAnswer>('granted');
    void answer
      .catch((): MicAnswer => 'denied')
      .then((a) =>
        this.enqueue(async () => {
          if (this.state !== waiting) return this.log(`microphone answer (${a}) after the call moved on: ignored`);
          this.askingMic = false;
          if (a !== 'granted') {
            this.log(`microphone ${a}`);
            if (this.role === 'callee') await this.sendControl({ k: 'decline', why: 'mic' });
            this.fire({ type: 'mic-refused' });
            return;
          }
          if (!this.fire({ type: 'mic-granted' })) return;
          await go();
        }),
      );
  }

  /** Hang up, cancel or decline, whichever applies now. */
  hangup(): void {
    this.enqueue(async () => {
      if (!isLive(this.state)) return;
      const declining = this.state === CallState.Incoming || this.state === CallState.AnswerWaitingMic;
      if (this.channel) await this.sendControl(declining ? { k: 'decline' } : { k: 'hangup' });
      this.fire({ type: 'local-hangup' });
    });
  }

  setMuted(muted: boolean): void {
    this.muted = muted;
    this.ports.onChange(this);
    if (this.negotiation.started) this.ports.media.setMuted(this.callId, muted).catch(() => {});
  }

  /**
   * ICE restart (network change, path failure, relay restart, the ICE policy):
   * the caller re-offers with fresh TURN credentials, relay-only or not; the
   * callee asks the caller to. Same keys, same call.
   */
  restartIce(relayOnly = this.negotiation.relayOnly, fresh = false): void {
    this.enqueue(() => this.negotiation.restart(relayOnly, fresh));
  }

  /**
   * The signalling client renewed its TURN credentials (lib/signal/client.ts onTurn): the media
   * host's next allocation for this call (a standby path, an ICE restart on either side, a fresh
   * connection) uses them. The relay refuses an expired username for a new allocation, while the
   * allocations the call already has go on being refreshed with theirs (docs/media.md, "Long
   * calls"). Queued, so it reaches the media host after the media start it follows.
   */
  turnRenewed(): void {
    this.enqueue(async () => {
      const media = this.ports.media;
      if (!isLive(this.state) || !this.negotiation.started || !media.setIceServers) return;
      await media.setIceServers(this.callId, this.ports.iceConfig().iceServers).catch((e: unknown) => {
        this.log(`the renewed TURN credentials did not reach the media host (${e instanceof Error ? e.message : typeof e})`);
      });
    });
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
      case EnvelopeType.Reveal:
        return this.onReveal(bytes);
      case EnvelopeType.Sealed:
        return this.onSealed(bytes);
      default:
        return this.log(`unexpected envelope type ${type}`);
    }
  }

  private async onResponse(bytes: Uint8Array): Promise<void> {
    if (!this.caller) return;
    this.mark('response-received');
    const step = await this.caller.onResponse(bytes);
    if (step.kind === 'stray') return this.log('stray RESPONSE ignored');
    if (step.kind === 'failed') {
      this.log(`handshake failed: ${step.code}`);
      this.fire({ type: 'handshake-failed' });
      return;
    }
    // The media made at dial already failed, and no fresh start would follow (privacy mode is as it
    // was): end before CONFIRM, which would make the callee ring for a call that cannot carry audio.
    if (this.earlyFailure && this.ports.iceConfig().relayOnly === this.earlyRelayOnly) return this.mediaFailure(this.earlyFailure);
    if (!this.install(step.secrets)) return;
    this.ports.onChange(this);
    const confirmSent = this.trySend(step.confirm).then((r) => (this.mark('confirm-sent'), r));
    if (this.early) {
      if (this.ports.iceConfig().relayOnly === this.earlyRelayOnly) return this.releaseEarly(this.early, confirmSent);
      // Privacy mode changed since the dial (the person, or a policy): what the dial gathered is
      // not used; the media starts after CONFIRM as without the early start, with today's setting.
      const early = this.early;
      this.early = undefined;
      await early;
      await this.negotiation.abandonEarly();
    }
    await confirmSent;
    // Gather at once: start media and send the offer while the callee's device rings.
    if (!(await this.startMedia())) return;
    await this.negotiation.firstOffer();
    this.mark('offer-sent');
  }

  private async onConfirm(bytes: Uint8Array): Promise<void> {
    if (!this.callee || this.state !== CallState.Handshaking) return;
    this.mark('confirm-received');
    const step = await this.callee.onConfirm(bytes);
    if (step.kind === 'refused') {
      if (step.code) this.log(`handshake failed: ${step.code}`);
      this.fire({ type: 'silent-end' });
      return;
    }
    if (!this.install(step.secrets)) {
      wipe(step.admission.send, step.admission.recv);
      return;
    }
    this.handOverAdmission(step.admission);
    if (this.ports.mayRing?.(this) === false) {
      await this.sendControl({ k: 'busy' });
      this.fire({ type: 'silent-end' });
      return;
    }
    // Protocol v2: reveal the SAS nonce committed in RESPONSE, once, as the call starts ringing.
    const rv = await this.callee.reveal();
    if (!rv.ok) {
      this.log(`handshake failed: ${rv.code}`);
      this.fire({ type: 'silent-end' });
      return;
    }
    this.sas = rv.sas;
    await this.trySend(rv.reveal);
    if (!this.fire({ type: 'ring' })) return;
    this.mark('ring');
    this.armPhase(TIMEOUTS.ringMs, 'ring', { type: 'ring-timeout' });
    // `ringing` travels while the media host starts: its relay round trip is not waited for first.
    const ringing = this.sendControl({ k: 'ringing' });
    await this.prepareWhileRinging();
    await ringing;
  }

  /**
   * Callee, issue 17: once it rings (CONFIRM checked: never for an unauthenticated HELLO), build
   * the connection before the person decides (negotiation.ts `prepare`: no microphone, nothing
   * sent to the caller), whether the caller's offer is here yet or not (it is answered into the
   * preparation when it comes), so Accept only opens the microphone and sends the answer. Only
   * where the media host can do it unseen (MediaPort.useMicrophone: Chrome's offscreen
   * document, not Firefox's call window). A failure ends the call as it would have at Accept.
   */
  private async prepareWhileRinging(): Promise<void> {
    if (this.role !== 'callee' || this.state !== CallState.Incoming || !this.ports.media.useMicrophone) return;
    if (this.negotiation.started) return;
    await this.startMedia(true);
  }

  /**
   * Caller, issue 17: at dial, where the media host can do it unseen (Chrome's offscreen document:
   * MediaPort.prestart), start the call's media beside the handshake: worker without keys,
   * connection, silence on the sender, the first offer made and gathering (relay only in
   * privacy mode). Nothing of it leaves (negotiation.ts holds the offer and every candidate), no
   * microphone opens and no frame is encrypted until the callee checked out (releaseEarly).
   * Not on the queue: RESPONSE and CONFIRM go on meanwhile. Resolves with the failure, if any.
   */
  private startEarly(): void {
    const m = this.ports.media;
    if (!m.prestart || !m.setKeys || !m.useMicrophone) return;
    const { iceServers, relayOnly } = this.ports.iceConfig();
    this.earlyRelayOnly = relayOnly;
    this.mark('early-start');
    const opts = { callId: this.callId, role: this.role, iceServers, relayOnly, ...mediaStartHooks(this.ports.testHooks) };
    this.early = this.negotiation.prestart(opts, { muted: this.muted, ice: iceHooks(this.ports.testHooks) }).then(
      () => this.mark('early-offer'),
      (e: unknown) => (this.earlyFailure = e ?? new Error('the media host failed')),
    );
  }

  /**
   * Caller, CONFIRM on its way (`confirmSent`: the relay's receipt): the media started at dial
   * gets this call's keys meanwhile; after CONFIRM the held offer and candidates leave, then the
   * microphone opens. A failure of the early start ends the call as a media start after CONFIRM
   * would have.
   */
  private async releaseEarly(early: Promise<unknown>, confirmSent: Promise<unknown>): Promise<void> {
    this.mark('media-start');
    const failure = await early;
    this.early = undefined;
    const secrets = this.frameSecrets;
    this.frameSecrets = undefined;
    let error: unknown;
    try {
      if (failure) error = failure;
      else if (secrets && this.state !== CallState.Ended) await this.negotiation.releaseOffer(secrets, confirmSent);
    } catch (e) {
      error = e;
    } finally {
      if (secrets) wipe(secrets.send, secrets.recv);
    }
    // A hang-up for a failure must not overtake CONFIRM (the callee could not open it), nor may the
    // queue's next job: both come after CONFIRM's send.
    await confirmSent;
    if (!isLive(this.state) || !secrets) return;
    if (error) return this.mediaFailure(error);
    this.mark('offer-sent');
    // The microphone after the candidates the ICE policy just queued (in privacy mode the relay
    // candidate is the callee's only way to us: it must not wait for the device to open).
    this.enqueue(async () => {
      if (!isLive(this.state)) return;
      // Muted during the dial, while the engine was still being made (that mute found no call in the
      // host): the engine learns it before the microphone replaces the silence, so the device's
      // track starts disabled (CallMedia.useInput) and no sample of it leaves.
      if (this.muted) await this.ports.media.setMuted(this.callId, true).catch(() => {});
      await this.negotiation.useMicrophone();
      if (this.muted && isLive(this.state)) await this.ports.media.setMuted(this.callId, true).catch(() => {});
      this.mark('media-started');
    });
  }

  /** Caller: the callee's SAS nonce (protocol v2); the SAS exists from here on. */
  private async onReveal(bytes: Uint8Array): Promise<void> {
    if (!this.caller) return;
    const step = await this.caller.onReveal(bytes);
    if (step.kind === 'stray') return this.log('stray REVEAL ignored');
    if (step.kind === 'failed') {
      this.log(`handshake failed: ${step.code}`);
      this.fire({ type: 'handshake-failed' });
      return;
    }
    this.sas = step.sas;
    this.handOverAdmission(step.admission);
    this.ports.onChange(this);
  }

  /** Callee: end a handshake silently, before it rings (admission evicted it for a newer one). */
  evict(): void {
    // At once, not queued: the slot is already someone else's. A RESPONSE being signed is not sent.
    if (this.state === CallState.Handshaking) this.fire({ type: 'silent-end' });
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
        this.mark('ringing-heard');
        if (this.fire({ type: 'remote-ringing' })) this.armPhase(TIMEOUTS.ringMs, 'ring', { type: 'ring-timeout' });
        return;
      case 'accept':
        this.mark('accept-heard');
        if (this.fire({ type: 'remote-accept' })) this.armPhase(TIMEOUTS.connectMs, 'connect', { type: 'media-failed' });
        return;
      case 'answering':
        // The callee's prompt is open: no ring timer while a person decides; only the cap.
        if (this.fire({ type: 'remote-answering' })) this.armPhase(MIC_WAIT_MAX_MS, 'peer-microphone-wait', { type: 'mic-wait-timeout' });
        return;
      case 'decline':
        this.fire(c.why === 'mic' ? { type: 'remote-mic-denied' } : { type: 'remote-decline' });
        return;
      case 'busy':
        this.fire({ type: 'remote-busy' });
        return;
      case 'hangup':
        this.fire({ type: 'remote-hangup' });
        return;
      case 'offer':
        this.mark('offer-received');
        await this.negotiation.onOffer(c);
        return this.prepareWhileRinging();
      case 'restart':
        // The callee's policy or network asks: only the caller offers, so glare never happens.
        if (this.role === 'caller') await this.negotiation.restart(c.relay, c.fresh);
        return;
      case 'answer':
        this.mark('answer-received');
        return this.negotiation.onAnswer(c);
      case 'cand':
        return this.negotiation.remoteCandidate(c.c);
      case 'invite':
        return;
      default: {
        const never: never = c;
        void never;
      }
    }
  }

  private async handleMediaEvent(ev: MediaEvent): Promise<void> {
    if (this.state === CallState.Ended) return;
    switch (ev.type) {
      case 'candidate':
        return this.negotiation.localCandidate(ev.candidate as CandidateInit | null);
      case 'state': {
        if (ev.path !== 'unknown') this.path = ev.path;
        this.negotiation.pathChanged(ev.connection, ev.path);
        if (ev.connection === 'connected') {
          if (!this.connectedAt) this.mark('connected');
          this.timers.disarm('restart');
          if (this.fire({ type: 'media-connected' })) this.timers.disarm('phase');
        } else if (ev.connection === 'disconnected') {
          if (this.fire({ type: 'media-lost' })) this.armPhase(TIMEOUTS.reconnectMs, 'reconnect', { type: 'media-failed' });
          // A path that does not come back by itself: move the call (ICE restart).
          this.arm('restart', TIMEOUTS.restartAfterDisconnectMs, 'restart-after-disconnect', () => this.negotiation.restart(this.negotiation.symmetricNat));
        } else if (ev.connection === 'failed') {
          if (this.state === CallState.Connected && this.fire({ type: 'media-lost' })) {
            this.armPhase(TIMEOUTS.reconnectMs, 'reconnect', { type: 'media-failed' });
          }
          this.timers.disarm('restart');
          this.restartIce(this.negotiation.symmetricNat);
        }
        this.ports.onChange(this);
        return;
      }
      case 'stall':
        // Connected but silent: the path died. Replace the connection rather than wait for
        // Chromium's consent timeout (docs/ice.md); the caller does it, a callee asks it to.
        this.log(`audio stalled for ${ev.silentMs} ms: moving the call`);
        await this.negotiation.restart(this.negotiation.symmetricNat || this.ports.iceConfig().relayOnly, true);
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

  /** This call's admission tokens go to whoever stores them (the manager's owner), or are wiped. */
  private handOverAdmission(tokens: AdmissionTokens): void {
    if (this.ports.onAdmission) this.ports.onAdmission(this, tokens);
    else wipe(tokens.send, tokens.recv);
  }

  /** Keep what the handshake gave; false (and the call ends) if the keys do not fit the sender. */
  private install(secrets: CallSecrets): boolean {
    this.channel = secrets.channel;
    this.frameSecrets = secrets.frameSecrets;
    this.peerBundle = secrets.peerBundle;
    this.peerAddress = secrets.peerAddress;
    if (!secrets.fromPeerMailbox) {
      // The keys claim another mailbox than the one the relay says sent them: not our peer.
      this.log('peer keys do not match the sending mailbox');
      this.fire({ type: 'handshake-failed' });
      return false;
    }
    this.peerRelays = secrets.peerRelays;
    return true;
  }

  /**
   * Start the media engine with this call's frame secrets; false if it failed (call ended).
   * `prepare`: the callee's connection before Accept (prepareWhileRinging).
   */
  private async startMedia(prepare = false): Promise<boolean> {
    if (this.negotiation.started) return true;
    if (!this.frameSecrets || this.state === CallState.Ended) return false;
    const { iceServers, relayOnly } = this.ports.iceConfig();
    const secrets = this.frameSecrets;
    this.frameSecrets = undefined;
    this.mark(prepare ? 'prepare-start' : 'media-start');
    try {
      const opts = {
        callId: this.callId,
        role: this.role,
        iceServers,
        relayOnly,
        sendFrameSecret: secrets.send,
        recvFrameSecret: secrets.recv,
        ...mediaStartHooks(this.ports.testHooks),
      };
      const extra = { muted: this.muted, ice: iceHooks(this.ports.testHooks) };
      if (prepare) await this.negotiation.prepare(opts, extra);
      else await this.negotiation.startMedia(opts, extra);
      this.mark(prepare ? 'prepared' : 'media-started');
      return true;
    } catch (e) {
      this.mediaFailure(e);
      return false;
    } finally {
      wipe(secrets.send, secrets.recv);
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
    } catch (e) {
      // ERR_PEER_RELAYS (lib/signal/client.ts): our relay is fine, none of the callee's took the HELLO.
      const theirs = (e as { code?: unknown } | null)?.code === 'ERR_PEER_RELAYS';
      if (isLive(this.state)) this.fire({ type: theirs ? 'peer-relays-down' : 'relay-down' });
      return 'offline';
    }
  }

  /** Apply an event; returns whether it applied. The only place the state is written. */
  private fire(ev: CallEvent): boolean {
    const t = next(this.state, ev);
    if (!t) {
      this.log(`event ${ev.type} ignored in ${this.state}`);
      return false;
    }
    this.state = t.state;
    this.generation++;
    if (t.state === CallState.Connected && !this.connectedAt) this.connectedAt = Date.now();
    if (t.state === CallState.Ended) {
      this.reason = t.reason;
      this.endedAt = Date.now();
      this.cleanup();
      // A silent end (no reason) closes a call that was never shown: nothing visible changed.
      if (t.reason !== undefined) this.ports.onChange(this);
      this.ports.onEnded?.(this);
    } else {
      this.ports.onChange(this);
    }
    return true;
  }

  private cleanup(): void {
    this.timers.disarmAll();
    this.negotiation.close();
    if (this.frameSecrets) wipe(this.frameSecrets.send, this.frameSecrets.recv);
    this.frameSecrets = undefined;
  }

  /** The deadline of the state just entered: `ev` fires when it passes, unless the state moved on. */
  private armPhase(ms: number, label: string, ev: CallEvent): void {
    this.arm('phase', ms, label, () => void this.fire(ev));
  }

  private arm(slot: TimerSlot, ms: number, label: string, job: () => Promise<void> | void): void {
    this.timers.arm(slot, ms, label, job);
  }

  private enqueue(job: () => Promise<void>): void {
    this.queue = this.queue.then(job).catch((e: unknown) => {
      this.log(`internal error: ${e instanceof Error ? e.name : typeof e}`);
      if (isLive(this.state)) this.fire({ type: 'media-error', reason: 'media-failed' });
    });
  }

  /** Test builds: this call reached `step` now (the call bench's timeline, lib/testing/hooks.ts). */
  private mark(step: string): void {
    markCall(this.callId, step);
  }

  private log(msg: string): void {
    this.ports.log?.(`[call ${this.callId.slice(0, 6)}] ${msg}`);
  }
}
