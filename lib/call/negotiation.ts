/**
 * The SDP and ICE side of one call, once the handshake is done: numbered
 * offers with one in flight at a time, restarts queued behind it, the
 * fresh-connection debounce, the callee's answer to the (held) offer, the
 * ICE policy (lib/ice/policy.ts) and the one buffer of remote candidates that
 * arrive before they can be applied.
 *
 * Prepared before Accept (issue 17, callee): while the phone rings, `prepare`
 * starts the media engine without a microphone (silence on the sender) and
 * applies the held offer, so the connection exists and gathers; the answer and
 * every local candidate stay here, and the caller's candidates stay buffered,
 * so nothing reaches the caller and no ICE check leaves before the person
 * accepts. `release` (Accept) opens the microphone, starts the ICE policy and
 * sends the answer and the candidates. A decline closes it like any call.
 *
 * Started at dial (issue 17, caller): `prestart` starts the media engine without
 * keys and without a microphone and makes the first offer, so the worker, the
 * connection and the gathering run while the handshake does; the offer and every
 * local candidate stay here (`prepared`) until `releaseOffer` (CONFIRM sent: the
 * callee checked out). It imports the keys first, then sends the offer and the
 * candidates, then opens the microphone. A call that ends before closes it.
 *
 * Ringing before the offer (issue 17, callee): `prepare` may run before the
 * caller's offer is here; the offer is then answered into `prepared` when it
 * comes (`onOffer`), under the same rules.
 *
 * Only the caller offers (the callee asks it to restart), so offers never
 * cross (no glare). `n` numbers the caller's offers and the answer echoes it,
 * so an answer to an older offer is ignored (control.ts).
 *
 * It never moves the call state: it sends controls, drives the media port and
 * reports a media failure to the session, which ends the call. All its entry
 * points run on the session's queue, one at a time. Unit-tested on its own
 * against a scripted media port (negotiation.test.ts).
 */
import { IcePolicy, type IceAction, type IcePolicyOptions, type IceReport } from '../ice/policy';
import type { MediaPort } from '../media/port';
import type { MediaPrestartOptions, MediaStartOptions, PathKind, Role } from '../media/types';
import type { CandidateInit, Control } from './control';

/** Callee and caller both notice a dead path; the caller replaces the connection once per this long. */
export const FRESH_DEBOUNCE_MS = 3_000;
/** Remote candidates kept while they cannot be applied yet (callee before its answer). */
export const MAX_PENDING_CANDIDATES = 64;

export interface NegotiationPorts {
  callId: string;
  role: Role;
  media: MediaPort;
  /** Seal and send a control message to the peer. */
  send(c: Control): Promise<void>;
  iceConfig(): { iceServers: RTCIceServer[]; relayOnly: boolean };
  /** Resolves once the signalling connection is up (a restart waits for the node it reconnects to). */
  signalReady?(): Promise<void>;
  /** Whether the call is still live (a restart stops once it ended). */
  live(): boolean;
  /** A media engine request failed: the session ends the call. */
  failed(e: unknown): void;
  /** Run a job on the session's queue (ICE policy actions arrive from its timers). */
  enqueue(job: () => Promise<void>): void;
  log(msg: string): void;
  now?(): number;
}

export class Negotiation {
  private isStarted = false;
  /** Callee: true until our answer to the caller's offer is applied (candidates wait till then). */
  private awaitingOffer = true;
  /** Callee: the caller's offer, held until the person accepts. */
  private heldOffer?: { sdp: string; n: number };
  /** Caller: the number of the last offer sent, and of the last one answered. */
  private offerSeq = 0;
  private answeredSeq = 0;
  /** Caller: a restart asked for while an offer was unanswered (relay-only or not), done on the answer. */
  private queuedRestart?: boolean;
  /** When the caller last replaced the connection (a dead path), to do it once per failure. */
  private lastFreshAt = 0;
  /** Remote candidates that came before they could be applied: the only candidate buffer. */
  private readonly pendingCandidates: (CandidateInit | null)[] = [];
  /** P2P first, relay within the window (lib/ice/policy.ts); exists once media started (prepared: once released). */
  private ice?: IcePolicy;
  /**
   * What waits for `release` (callee, Accept) or `releaseOffer` (caller, CONFIRM): the callee's
   * answer or the caller's first offer, our candidates, the ICE policy's options.
   */
  private prepared?: {
    answer?: { sdp: string; n: number };
    offer?: string;
    local: (CandidateInit | null)[];
    relayOnly: boolean;
    ice?: Partial<IcePolicyOptions>;
  };
  /** Callee: an offer was applied while it rang (later offers wait for `release`). */
  private preparedAnswered = false;
  /** The call ended (close): a start still in flight stops the engine it made. */
  private closed = false;

  constructor(private readonly ports: NegotiationPorts) {}

  private get now(): number {
    return this.ports.now?.() ?? Date.now();
  }

  /** The path as the ICE policy sees it (lab timings, UI); undefined before media started. */
  get report(): IceReport | undefined {
    return this.ice?.report();
  }

  /** The ICE policy moved the call to the relay because of a symmetric NAT. */
  get symmetricNat(): boolean {
    return this.ice?.report().forcedRelay === 'symmetric-nat';
  }

  /** True from the moment the media engine is asked to start until the call stops it. */
  get started(): boolean {
    return this.isStarted;
  }

  /**
   * Start the media engine (the session hands over this call's frame secrets in `opts`); then the
   * ICE policy begins with this call's gathering. Throws what the engine throws (nothing started).
   */
  async startMedia(opts: MediaStartOptions, extra: { muted: boolean; ice?: Partial<IcePolicyOptions> }): Promise<void> {
    try {
      this.isStarted = true;
      await this.ports.media.start(opts);
      this.ice = new IcePolicy({ relayOnly: opts.relayOnly, ...extra.ice }, (a) => this.onIceAction(a));
      // The callee's policy starts at Accept: what the caller trickled while it rang is buffered
      // (applied after the answer) and must show in the policy's report too, or it names no remote
      // candidate (the NAT lab's scenarios 6 and 8 read them). Report only: no timer changes.
      for (const c of this.pendingCandidates) this.ice.noteRemote(c);
      if (extra.muted) await this.ports.media.setMuted(this.ports.callId, true);
    } catch (e) {
      this.isStarted = false;
      throw e;
    }
  }

  /** Callee: prepared before Accept and not released yet. */
  get holding(): boolean {
    return !!this.prepared;
  }

  /** Callee: an offer is held (the caller's first offer came while the phone rings). */
  get hasHeldOffer(): boolean {
    return !!this.heldOffer;
  }

  /**
   * Callee, while the phone rings (file header): start the engine without a microphone and answer
   * the held offer into `prepared`, sending nothing. An offer that carries candidates in its SDP
   * is not applied early (ICE would check them before Accept): it is answered at `release`.
   * Throws what the engine throws (nothing started).
   */
  async prepare(opts: MediaStartOptions, extra: { muted: boolean; ice?: Partial<IcePolicyOptions> }): Promise<void> {
    this.isStarted = true;
    this.prepared = { local: [], relayOnly: opts.relayOnly, ice: extra.ice };
    try {
      await this.ports.media.start({ ...opts, deferMicrophone: true });
      if (extra.muted) await this.ports.media.setMuted(this.ports.callId, true);
    } catch (e) {
      this.isStarted = false;
      this.prepared = undefined;
      throw e;
    }
    await this.answerPrepared();
  }

  /**
   * Callee, prepared: answer the held offer into `prepared` (nothing sent). Not an offer with
   * candidates in its SDP (ICE would check them before Accept), and only the first offer: a
   * newer one while it rings is answered at `release`.
   */
  private async answerPrepared(): Promise<void> {
    const held = this.heldOffer;
    const p = this.prepared;
    if (!held || !p || p.answer || this.preparedAnswered || /^a=candidate:/m.test(held.sdp)) return;
    this.preparedAnswered = true;
    const sdp = await this.ports.media.acceptOffer(this.ports.callId, held.sdp);
    if (this.prepared === p && this.heldOffer === held) {
      this.heldOffer = undefined;
      p.answer = { sdp, n: held.n };
    }
  }

  /**
   * Caller, at dial (file header): start the engine without keys or microphone and make the
   * first offer, holding it and every candidate. Throws what the engine throws (nothing started,
   * or what started is stopped). Runs beside the session's queue, not on it: the handshake goes on.
   */
  async prestart(opts: MediaPrestartOptions, extra: { muted: boolean; ice?: Partial<IcePolicyOptions> }): Promise<void> {
    const p = { local: [] as (CandidateInit | null)[], relayOnly: opts.relayOnly, ice: extra.ice, offer: undefined as string | undefined };
    this.isStarted = true;
    this.prepared = p;
    try {
      await this.ports.media.prestart!(opts);
      if (this.closed) throw new Error('the call ended while its media started');
      if (extra.muted) await this.ports.media.setMuted(this.ports.callId, true);
      p.offer = await this.ports.media.createOffer(this.ports.callId);
      if (this.closed) throw new Error('the call ended while its media started');
    } catch (e) {
      // Whatever was made stops: the engine, its connection (a TURN allocation once the offer was
      // set) and the worker, whether the failure came after the engine existed (a setMuted or
      // createOffer that threw) or the call closed meanwhile (close() asked before the engine
      // existed: ask again). A stop for an engine never made costs nothing.
      void this.ports.media.stop(this.ports.callId).catch(() => {});
      if (!this.closed) {
        this.isStarted = false;
        this.prepared = undefined;
      }
      throw e;
    }
  }

  /**
   * Caller: drop what the dial started, unused (privacy mode changed between the dial and CONFIRM:
   * what it gathered is not what the person asks for now). Resolves once the host was asked to
   * stop it, so a media start after this reaches the host after the stop.
   */
  async abandonEarly(): Promise<void> {
    if (!this.early) return;
    this.prepared = undefined;
    this.isStarted = false;
    await this.ports.media.stop(this.ports.callId).catch(() => {});
  }

  /** Caller: started at dial and not released yet. */
  get early(): boolean {
    return this.ports.role === 'caller' && !!this.prepared;
  }

  /**
   * Caller, CONFIRM sent (the callee's keys and identity checked out): the keys into the frame
   * worker, then the ICE policy, the held offer and our held candidates. `keys` are wiped here.
   * `confirmSent`: CONFIRM's send, still waiting for the relay's receipt: the keys' import
   * overlaps that round trip, the offer leaves only after it (the callee must read CONFIRM first).
   * The session opens the microphone next (`useMicrophone`).
   */
  async releaseOffer(keys: { send: Uint8Array; recv: Uint8Array }, confirmSent?: Promise<unknown>): Promise<void> {
    const p = this.prepared;
    try {
      if (!p?.offer || this.closed) throw new Error('no offer was made at dial');
      await this.ports.media.setKeys!(this.ports.callId, keys.send, keys.recv);
    } finally {
      keys.send.fill(0);
      keys.recv.fill(0);
    }
    await confirmSent;
    if (this.closed || this.prepared !== p) return; // ended meanwhile (CONFIRM could not be sent)
    this.prepared = undefined;
    const ice = (this.ice = new IcePolicy({ relayOnly: p.relayOnly, ...p.ice }, (a) => this.onIceAction(a)));
    await this.ports.send({ k: 'offer', sdp: p.offer, n: ++this.offerSeq });
    for (const c of p.local) ice.localCandidate(c);
  }

  /** The microphone in place of the silence (caller after `releaseOffer`, callee in `release`); a failure ends the call. */
  async useMicrophone(): Promise<void> {
    try {
      await this.ports.media.useMicrophone?.(this.ports.callId);
    } catch (e) {
      this.ports.failed(e);
    }
  }

  /**
   * Callee, Accept on a prepared call: the ICE policy, the answer, the caller's buffered
   * candidates and ours, then the microphone: the caller's audio (what the callee hears first)
   * needs no microphone here, so opening it (~100 ms) overlaps the answer's trip, ICE and DTLS;
   * until it is open the sender sends encrypted silence. A microphone that fails ends the call
   * (`failed`): the caller may have connected for a moment and then hears the hang-up.
   */
  async release(): Promise<void> {
    const p = this.prepared;
    if (!p) return;
    this.prepared = undefined;
    const ice = (this.ice = new IcePolicy({ relayOnly: p.relayOnly, ...p.ice }, (a) => this.onIceAction(a)));
    for (const c of this.pendingCandidates) ice.remoteCandidate(c);
    if (p.answer) {
      this.awaitingOffer = false;
      await this.ports.send({ k: 'answer', sdp: p.answer.sdp, n: p.answer.n });
      for (const c of this.pendingCandidates.splice(0)) await this.ports.media.addCandidate(this.ports.callId, c).catch(() => {});
    } else await this.answerHeldOffer();
    for (const c of p.local) ice.localCandidate(c);
    await this.useMicrophone();
  }

  /** Caller: the first offer, sent while the callee rings. Throws when the engine fails. */
  async firstOffer(): Promise<void> {
    const sdp = await this.ports.media.createOffer(this.ports.callId);
    await this.ports.send({ k: 'offer', sdp, n: ++this.offerSeq });
  }

  /** Callee: the caller's offer (first or restart). Answered at once if media runs, else held. */
  async onOffer(c: Extract<Control, { k: 'offer' }>): Promise<void> {
    if (this.ports.role !== 'callee') return;
    if (c.restart) this.ice?.restarted(!!c.relay || this.ports.iceConfig().relayOnly);
    if (this.isStarted && !this.prepared) await this.answer(c.sdp, c.n, c.fresh);
    else {
      this.heldOffer = { sdp: c.sdp, n: c.n }; // keep until the person accepts
      if (this.prepared) {
        this.prepared.answer = undefined; // a newer offer: answered at release
        await this.answerPrepared().catch((e) => this.ports.failed(e)); // prepared before it came: answer now
      }
    }
  }

  /** Callee, after Accept and media start: answer the offer held meanwhile, if any. */
  async answerHeldOffer(): Promise<void> {
    if (this.heldOffer) await this.answer(this.heldOffer.sdp, this.heldOffer.n);
  }

  private async answer(sdp: string, n: number, fresh = false): Promise<void> {
    try {
      const answer = await this.ports.media.acceptOffer(this.ports.callId, sdp, { fresh });
      this.awaitingOffer = false;
      await this.ports.send({ k: 'answer', sdp: answer, n });
      for (const cand of this.pendingCandidates.splice(0)) await this.ports.media.addCandidate(this.ports.callId, cand).catch(() => {});
    } catch (e) {
      this.ports.failed(e);
    }
  }

  /** Caller: the callee's answer. Only the answer to the offer in flight applies. */
  async onAnswer(c: Extract<Control, { k: 'answer' }>): Promise<void> {
    if (this.ports.role !== 'caller' || !this.isStarted) return;
    if (c.n !== this.offerSeq || this.answeredSeq === c.n) return this.ports.log(`stale answer ${c.n} ignored`);
    this.answeredSeq = c.n;
    await this.ports.media.setAnswer(this.ports.callId, c.sdp).catch((e) => this.ports.failed(e));
    const queued = this.queuedRestart;
    this.queuedRestart = undefined;
    if (queued !== undefined) await this.restart(queued);
  }

  /** A candidate from the peer: applied when it can be, buffered until then. */
  async remoteCandidate(c: CandidateInit | null): Promise<void> {
    this.ice?.remoteCandidate(c);
    if (this.isStarted && (this.ports.role === 'caller' || !this.awaitingOffer)) {
      await this.ports.media.addCandidate(this.ports.callId, c).catch(() => this.ports.log('candidate refused'));
    } else if (this.pendingCandidates.length < MAX_PENDING_CANDIDATES) this.pendingCandidates.push(c);
  }

  /** A candidate our engine gathered: the policy decides what leaves (it may withhold direct ones). */
  async localCandidate(c: CandidateInit | null): Promise<void> {
    if (this.prepared) this.prepared.local.push(c); // nothing leaves before Accept
    else if (this.ice) this.ice.localCandidate(c);
    // No policy yet (or an engine dropped at CONFIRM, negotiation.abandonEarly): in privacy mode
    // this could be our address, so it is dropped; otherwise it goes out as it is.
    else if (this.ports.iceConfig().relayOnly) this.ports.log('a candidate with no ICE policy dropped (privacy mode)');
    else await this.ports.send({ k: 'cand', c });
  }

  pathChanged(connection: RTCPeerConnectionState, path: PathKind): void {
    this.ice?.pathChanged(connection, path);
  }

  /**
   * ICE restart: the caller re-offers with fresh TURN credentials, relay-only or not (or on a
   * fresh connection); the callee asks the caller to. Same keys, same call.
   */
  async restart(relayOnly: boolean, fresh = false): Promise<void> {
    if (!this.isStarted || !this.ports.live() || this.prepared) return; // prepared: nothing leaves before Accept
    if (this.ports.role === 'callee') {
      await this.ports.send({ k: 'restart', relay: relayOnly, fresh });
      return;
    }
    // Both sides see a dead path at once: one fresh connection is enough.
    if (fresh && this.now - this.lastFreshAt < FRESH_DEBOUNCE_MS) return;
    if (this.offerSeq > this.answeredSeq) {
      // One offer in flight at a time: a second would make the first one's answer arrive out of turn.
      this.queuedRestart = (this.queuedRestart ?? false) || relayOnly;
      return;
    }
    if (fresh) this.lastFreshAt = this.now;
    await this.ports.signalReady?.().catch(() => {});
    if (!this.ports.live()) return;
    const { iceServers, relayOnly: privacy } = this.ports.iceConfig();
    const relay = relayOnly || privacy;
    this.ice?.restarted(relay);
    try {
      const sdp = await this.ports.media.createOffer(this.ports.callId, { iceRestart: true, relayOnly: relay, iceServers, fresh });
      await this.ports.send({ k: 'offer', sdp, n: ++this.offerSeq, restart: true, relay, fresh });
    } catch (e) {
      this.ports.failed(e);
    }
  }

  /** Whether the policy currently keeps the call relay-only (the default of a restart). */
  get relayOnly(): boolean {
    return this.ice?.report().relayOnly ?? false;
  }

  private onIceAction(a: IceAction): void {
    switch (a.type) {
      case 'send':
        this.ports.enqueue(() => this.ports.send({ k: 'cand', c: a.candidate }));
        return;
      case 'go-relay':
        this.ports.log(`going to the relay: ${a.reason}`);
        // Symmetric NAT: the policy now withholds our direct candidates and ICE's relay pairs,
        // checked since the first moment, carry the call (~130 ms in the lab); a restart would only
        // delay it. A window that expired with nothing connected: restart, relay only.
        if (a.reason === 'window-expired') this.ports.enqueue(() => this.restart(true));
        return;
      case 'try-direct':
        this.ports.enqueue(() => this.restart(false));
        return;
      default: {
        const never: never = a;
        void never;
      }
    }
  }

  /** The call ended: stop the policy's timers and the media engine. */
  close(): void {
    this.closed = true;
    this.ice?.dispose();
    if (this.isStarted) {
      this.isStarted = false;
      this.ports.media.stop(this.ports.callId).catch(() => {});
    }
  }
}
