/**
 * Over 300 lines because it is the one owner of a call's peer connection, tracks, frame worker
 * and playback: every path switch and device change must see them all (the pieces it drives —
 * local-audio, frame-worker-client, remote-playback, device-follower, path — are files of their own).
 *
 * CallMedia: one call's audio, end to end (types.ts is the contract).
 *
 *   microphone ─▶ sender ─▶ [frame worker: encrypt] ─▶ RTP ─▶ network
 *   network ─▶ RTP ─▶ [frame worker: decrypt or drop] ─▶ decoder ─▶ <audio> + analyser
 *
 * `create` does everything that must happen before negotiation, in order:
 *   1. check that this context can encrypt frames at all (no encoded
 *      transform → no call: Hush never sends clear audio);
 *   2. open the microphone (typed ERR_MIC_DENIED / ERR_NO_MICROPHONE);
 *   3. start the frame worker and import both frame secrets into it, then wipe
 *      every copy on this side (the options' arrays included); the import runs
 *      while 4 is done (frames wait in the worker for the keys), and `create`
 *      resolves only once it succeeded;
 *   4. create the RTCPeerConnection (relay-only in privacy mode, max-bundle),
 *      addTrack, and attach both transforms to that transceiver at once:
 *      never later in `ontrack` (lab-notes TRAP, frame-worker-client.ts).
 * `prestart` (issue 17, the caller at dial) does 1 and 4 with silence on the
 * sender and a worker without keys; `importKeys` (3) and `useMicrophone` (2)
 * follow once the callee checked out. Until the keys exist, every frame waits
 * in the worker: none is encrypted, none leaves in clear.
 * The callee's offer reuses this transceiver (JSEP §5.10: an m= section is
 * matched to an unassociated transceiver that addTrack created), so its
 * receiver transform is in place before the first packet too.
 *
 * Devices that change mid-call (device-follower.ts) swap the microphone on
 * the same sender with replaceTrack: same transform, same keys, no
 * renegotiation; the speaker moves with setSinkId.
 *
 * Make before break: while the call runs P2P, a second, relay-only connection
 * (standby.ts) stands by, connected and silent; path-switch.ts moves the
 * sending to it when the main connection stops delivering and back when the
 * direct path proves alive again. Both connections run through the one frame
 * worker (same keys, one send counter, one replay window) and both remote
 * tracks play all the time, so a switch is a replaceTrack on each sender.
 * Privacy mode has no direct path to lose: no standby.
 *
 * Signalling methods run one at a time in call order (`serial`), so a
 * candidate that arrives while a (re-)offer is being applied waits for it;
 * candidates that arrive before any remote description are queued.
 *
 * Why one ~700-line file: every method acts on the same RTCPeerConnection and
 * transceiver, and the order across them is the point (transforms before the
 * first packet, one signalling step at a time, which sender has the track);
 * path, stats, playback, local audio, errors, the frame worker, the standby
 * connection and the switch decision already live in their own files. The
 * make-before-break wiring (the "make before break" section) is the next to
 * move out if it grows.
 */
import { MediaError, transformError, webrtcError } from './errors';
import { FrameWorkerClient, availableTransformApi } from './frame-worker-client';
import { DeviceFollower } from './device-follower';
import { opusForVoice, peerOpusForUs, type OpusShape } from './opus-sdp';
import type { InputInUse } from './devices';
import { openMicrophone, openSilence, openTestTone, type LocalAudio } from './local-audio';
import { selectedCandidatePair, selectedPath, statsById } from './path';
import { RemotePlayback } from './remote-playback';
import { forwardMediaHooks, frameTapStats, markCall, opusShapeOf, spoilRecvSecretForTest, tapFramesOf, testToneOf, type MediaHookOptions } from '../testing/hooks';
import { rtpAudioStats } from './rtp-stats';
import { PathSwitch, type Leg } from './path-switch';
import { PlayLeg } from './play-leg';
import { StandbyPath } from './standby';
import { parseStandby, STANDBY_CHANNEL } from './standby-wire';
import type { RecvTick } from './worker-protocol';
import type { AudioAnalysis, CallMediaApi, CallStats, MediaEvent, MediaPrestartOptions, MediaStartOptions, OfferOptions, PathKind, Role, StandbyStats } from './types';

const FRAME_SECRET_LEN = 32;
/** When to re-read the path after a state change (ms after it); see followPath. */
const PATH_RECHECK_MS = [100, 250, 500, 1000, 2000, 4000];
/** No frame played for this long on a connected call: the path died (a `stall` event). */
export const STALL_MS = 700;
const STALL_POLL_MS = 200;
/** How often the main connection's packets are looked at for the switch (path-switch.ts DEAD_MS). */
const SWITCH_POLL_MS = 20;
/** How often the main connection's ICE (consent responses) is read while on the standby, and the standby kept. */
const ICE_POLL_MS = 250;
/** A standby not connected this long after its offer is given up. */
const STANDBY_SETUP_MS = 10_000;
/** After a standby failed, the next try waits this long, doubled per failure up to the max (each try is a TURN allocation). */
const STANDBY_RETRY_MS = 10_000;
const STANDBY_RETRY_MAX_MS = 300_000;
/**
 * On the way back to a live main connection the standby keeps sending this long after the main one
 * starts (the old leg still works; the receiver's main jitter buffer is starting from empty). The
 * receiver hears one of the two (play-leg.ts), the standby until main's audio plays, at the latest
 * MAX_HOLD_MS after main's first frame: the overlap covers that, and the standby's arrival lagging
 * the main's. It costs 30 packets on the relay per switch back. On the way to the standby the old leg
 * is dead: it stops at once.
 */
const BACK_OVERLAP_MS = 600;

function checkSecret(s: unknown, name: string): asserts s is Uint8Array {
  if (!(s instanceof Uint8Array) || s.length !== FRAME_SECRET_LEN) {
    throw transformError(`${name} must be ${FRAME_SECRET_LEN} bytes`);
  }
}

export class CallMedia implements CallMediaApi {
  private readonly pendingCandidates: (RTCIceCandidateInit | null)[] = [];
  private serial: Promise<unknown> = Promise.resolve();
  private stateChain: Promise<void> = Promise.resolve();
  private closed = false;
  private iceWatched = false;
  private lastPath?: PathKind;
  private pathTimer?: ReturnType<typeof setTimeout>;

  /** Which connection is current: a fresh one replaces it when a path dies (freshConnection). */
  private generation = 0;
  private stallTimer?: ReturnType<typeof setInterval>;
  private stall = { decrypted: 0, since: 0, reported: false };
  private muted = false;
  /** Follows device changes; absent for a test tone (not a device). */
  private devices?: DeviceFollower;

  /** Make before break (file header): the standby connection, and which one carries our audio. */
  private channel?: RTCDataChannel;
  private standby?: StandbyPath;
  private standbyGen = 0;
  private standbyNextAt = 0;
  private standbyRetryMs = STANDBY_RETRY_MS;
  private readonly switcher = new PathSwitch();
  /** Which connection we hear (play-leg.ts); the switcher is which one we send on. */
  private readonly playLeg = new PlayLeg();
  private switchChain: Promise<void> = Promise.resolve();
  private switches = 0;
  private lastSwitch?: string;
  private lastSwitchAt?: number;
  private mainPacketAt = 0;
  private mainFrames = 0;
  private mainResponses?: number;
  private mainDirect = false;
  private iceTimer?: ReturnType<typeof setInterval>;
  private role: Role = 'caller';
  /** The call's id (the start timeline's marks, lib/testing/hooks.ts markCall). */
  private callId = '';
  /** Started at dial (prestart): the keys come later (importKeys), with the test hook that applies to them. */
  private keysLater?: MediaHookOptions;
  /** Prepared before Accept (MediaStartOptions.deferMicrophone): silence on the sender until `useMicrophone`. */
  private micLater?: { inputDeviceId?: string; outputDeviceId?: string };
  private candidatesSeen = 0;
  /**
   * The ICE servers with the newest TURN credentials this engine was given (at the start, with a
   * restart's offer, or renewed: setIceServers). Every new allocation uses these: the relay
   * refuses an expired username for a new allocation (its existing ones keep refreshing).
   */
  private iceServers: RTCIceServer[] = [];
  /** Hush's Opus settings for our descriptions (opus-sdp.ts); the DTX measurement may change them (hooks.ts opusShapeOf). */
  private opusShape: OpusShape = {};

  private constructor(
    private pc: RTCPeerConnection,
    private transceiver: RTCRtpTransceiver,
    /** The audio on the sender now: replaced when devices change (useInput). */
    private local: LocalAudio,
    private readonly frames: FrameWorkerClient,
    private readonly playback: RemotePlayback,
    private readonly onEvent: (e: MediaEvent) => void,
  ) {}

  /**
   * `opened`: a microphone the media host opened before the call started (Firefox's call
   * window asks for it while the call waits for the person, so media-start shows no second
   * prompt). The call owns it from here on (stops it on close or failure).
   */
  static async create(opts: MediaStartOptions, onEvent: (e: MediaEvent) => void, opened?: LocalAudio): Promise<CallMedia> {
    // The worker gets its own copies; these are wiped in `finally` whatever happens.
    const sendCopy = opts.sendFrameSecret instanceof Uint8Array ? opts.sendFrameSecret.slice() : undefined;
    const recvCopy = opts.recvFrameSecret instanceof Uint8Array ? opts.recvFrameSecret.slice() : undefined;
    try {
      checkSecret(sendCopy, 'the send frame secret');
      checkSecret(recvCopy, 'the receive frame secret');
      spoilRecvSecretForTest(opts, recvCopy);
      return await CallMedia.build(opts, onEvent, opened, { send: sendCopy, recv: recvCopy }, !!opts.deferMicrophone);
    } catch (e) {
      opened?.stop();
      throw e;
    } finally {
      sendCopy?.fill(0);
      recvCopy?.fill(0);
      if (opts.sendFrameSecret instanceof Uint8Array) opts.sendFrameSecret.fill(0);
      if (opts.recvFrameSecret instanceof Uint8Array) opts.recvFrameSecret.fill(0);
    }
  }

  /**
   * Issue 17, the caller at dial: everything `create` makes except the keys and the microphone.
   * Silence on the sender (the test tone where a test asks for one), the frame worker without
   * keys (every frame waits in it for `importKeys`, none leaves in clear), the connection with
   * both transforms attached (lab-notes TRAP: before negotiation). `createOffer` may run at once:
   * gathering starts (relay-only in privacy mode: the policy is set from the start).
   */
  static async prestart(opts: MediaPrestartOptions, onEvent: (e: MediaEvent) => void): Promise<CallMedia> {
    const me = await CallMedia.build(opts, onEvent, undefined, undefined, true);
    me.keysLater = forwardMediaHooks(opts); // the test hooks for the keys' import; {} in store builds
    return me;
  }

  /**
   * Issue 17: the frame secrets of a call made by `prestart` (the handshake is done); copies are
   * handed to the worker and every copy here is wiped, whatever happens. Once only.
   */
  async importKeys(send: Uint8Array, recv: Uint8Array): Promise<void> {
    const later = this.keysLater;
    try {
      if (!later || this.closed) throw transformError('this call has its keys already, or has ended');
      this.keysLater = undefined;
      checkSecret(send, 'the send frame secret');
      checkSecret(recv, 'the receive frame secret');
      spoilRecvSecretForTest(later, recv);
      await this.frames.importSecrets(send, recv);
      markCall(this.callId, 'host-keys');
    } finally {
      send.fill(0);
      recv.fill(0);
    }
  }

  /** What `create` and `prestart` share: `keys` are imported before the connection exists when given. */
  private static async build(
    opts: MediaPrestartOptions,
    onEvent: (e: MediaEvent) => void,
    opened: LocalAudio | undefined,
    keys: { send: Uint8Array; recv: Uint8Array } | undefined,
    deferMicrophone: boolean,
  ): Promise<CallMedia> {
    let local: LocalAudio | undefined = opened;
    let frames: FrameWorkerClient | undefined;
    let pc: RTCPeerConnection | undefined;
    let me: CallMedia | undefined;
    try {
      markCall(opts.callId, 'host-start');

      if (typeof RTCPeerConnection !== 'function') {
        throw new MediaError('ERR_WEBRTC', 'This browser context has no WebRTC. Update the browser, then call again.');
      }
      const api = availableTransformApi(opts.transformApi);
      if (!api) throw transformError('no encoded transform API');

      const toneHz = testToneOf(opts);
      if (toneHz) {
        opened?.stop();
        local = openTestTone(toneHz);
      } else if (deferMicrophone) {
        opened?.stop();
        local = openSilence(); // no microphone before the person accepts / the callee checked out (useMicrophone)
      } else local = opened ?? (await openMicrophone(opts.inputDeviceId));
      markCall(opts.callId, deferMicrophone ? 'host-silence' : 'host-mic-open');

      frames = new FrameWorkerClient(api, (message) => me?.emitError('ERR_TRANSFORM', transformError(message).message, true), tapFramesOf(opts));
      // The keys' import runs while the connection is made (issue 17): frames wait in the worker
      // until it is done, and the start fails with it.
      const imported = keys ? frames.importSecrets(keys.send, keys.recv) : undefined;
      imported?.catch(() => {}); // awaited below; a connection failure first must not leave it unhandled

      const config: RTCConfiguration & { encodedInsertableStreams?: boolean } = {
        iceServers: opts.iceServers,
        iceTransportPolicy: opts.relayOnly ? 'relay' : 'all',
        bundlePolicy: 'max-bundle',
        rtcpMuxPolicy: 'require',
      };
      // Privacy mode, the callee's first connection: gathering (its TURN allocation, its only way to
      // be reached) starts with the connection, not at the answer's setLocalDescription, which waits
      // for the frame worker and the caller's offer (issue 17). Only there: the caller's offer then
      // waited for the pool's first candidate (~130 ms), and on a P2P call the standby was not
      // rebuilt after the TURN credentials expired (tests/e2e/long-call.test.ts, with the pool on
      // every callee). A fresh connection takes none (noPool).
      if (opts.role === 'callee' && opts.relayOnly) config.iceCandidatePoolSize = 1;
      if (api === 'legacy') config.encodedInsertableStreams = true;
      const built = connect(config, local, frames, 0);
      pc = built.pc;

      if (imported) {
        await imported;
        markCall(opts.callId, 'host-worker-ready');
      }

      const playback = new RemotePlayback(opts.outputDeviceId, (message) => me?.emitError('ERR_WEBRTC', message, false));
      me = new CallMedia(pc, built.transceiver, local, frames, playback, onEvent);
      me.role = opts.role;
      me.callId = opts.callId;
      me.iceServers = opts.iceServers;
      me.opusShape = opusShapeOf(opts);
      markCall(opts.callId, 'host-pc-created');
      me.channel = built.channel;
      me.wire();
      me.watchStalls();
      me.watchPaths();
      if (deferMicrophone && !toneHz) me.micLater = { inputDeviceId: opts.inputDeviceId, outputDeviceId: opts.outputDeviceId };
      else if (!toneHz) me.followDevices(opts.inputDeviceId, opts.outputDeviceId);
      return me;
    } catch (e) {
      local?.stop();
      frames?.terminate();
      pc?.close();
      throw e instanceof MediaError ? e : webrtcError('starting the call', e);
    }
  }

  private wire(): void {
    const pc = this.pc;
    // Events of a replaced connection are not this call's any more.
    const current = () => !this.closed && pc === this.pc;
    pc.onicecandidate = (ev) => {
      if (!current()) return;
      if (this.candidatesSeen++ === 0) markCall(this.callId, 'host-first-candidate');
      this.onEvent({ type: 'candidate', candidate: ev.candidate ? ev.candidate.toJSON() : null });
    };
    pc.ontrack = (ev) => {
      // Playback only: the receiver transform is already on this transceiver.
      if (current() && ev.track.kind === 'audio') this.playback.attach(ev.track);
    };
    pc.onconnectionstatechange = () => {
      if (!current()) return;
      markCall(this.callId, `host-pc-${pc.connectionState}`);
      this.emitState();
    };
    pc.oniceconnectionstatechange = () => {
      if (!current()) return;
      markCall(this.callId, `host-ice-${pc.iceConnectionState}`);
      this.emitState();
    };
    const channel = this.channel;
    if (channel) channel.onmessage = (ev) => current() && this.onStandbyMessage(ev.data);
  }

  // ─── make before break ─────────────────────────────────────────────────────

  /**
   * The switch is clocked by the frame worker (worker-protocol.ts RecvTick): its timers run on time
   * where this page's are throttled (a hidden document), and it sees each frame that arrives.
   */
  private watchPaths(): void {
    this.frames.onRecv = (tick) => this.switchTick(tick);
    this.frames.watchReceive(SWITCH_POLL_MS);
    this.iceTimer = setInterval(() => void this.iceTick(), ICE_POLL_MS);
  }

  /** Did a frame arrive on the main connection since the last tick? Then decide the leg. */
  private switchTick(tick: RecvTick): void {
    if (this.closed) return;
    const now = performance.now();
    if (tick.mainFrames !== this.mainFrames) {
      this.mainFrames = tick.mainFrames;
      this.mainPacketAt = now - tick.mainSilentMs;
    }
    const d = this.switcher.next({
      now,
      mainPacketAt: this.mainPacketAt,
      mainPackets: this.mainFrames,
      mainJitterMs: tick.mainJitterMs,
      // The worker's own silence figure: a page that reads the tick late must not take its own delay for a silent path.
      mainSilentMs: tick.mainFrames ? tick.mainSilentMs : undefined,
      standbyReady: !!this.standby?.ready,
      mainDirectConnected: this.mainDirect,
      mainResponses: this.mainResponses,
    });
    if (d.reason) this.useLeg(d.leg, d.reason);
    const heard = this.playLeg.leg;
    const levels = heard === 'standby' && tick.mainRunMs ? this.playback.legLevels() : {};
    const leg = this.playLeg.next({ ...tick, ...levels });
    if (leg !== heard) markCall(this.callId, `host-hear-${leg}`);
    // Whenever the two disagree, not only on a change: the playback hears main while it has no standby.
    if (leg !== this.playback.heardLeg) this.playback.hear(leg);
  }

  /** Make before break: the microphone on the new leg's sender first, then off the old one's. */
  private useLeg(leg: Leg, reason: string): void {
    this.switches++;
    this.lastSwitch = `${leg} (${reason})`;
    this.lastSwitchAt = Date.now();
    const standby = this.standby;
    const main = this.transceiver.sender;
    this.switchChain = this.switchChain.then(async () => {
      if (this.closed) return;
      const on = leg === 'standby' ? standby?.sender : main;
      const off = leg === 'standby' ? main : standby?.sender;
      await on?.replaceTrack(this.local.track).catch(() => {});
      if (leg === 'main' && reason !== 'standby-lost') await new Promise((r) => setTimeout(r, BACK_OVERLAP_MS));
      if (this.switcher.leg !== leg) return; // switched again meanwhile: that switch decides
      await off?.replaceTrack(null).catch(() => {});
      this.emitState();
    });
  }

  /** The sender that carries our audio now. */
  private get activeSender(): RTCRtpSender {
    return this.switcher.leg === 'standby' && this.standby ? this.standby.sender : this.transceiver.sender;
  }

  /** Read the main connection's ICE (for the way back) and keep a standby while P2P. */
  private async iceTick(): Promise<void> {
    if (this.closed) return;
    const pc = this.pc;
    if (this.switcher.leg === 'standby') {
      const report = await pc.getStats().catch(() => undefined);
      if (!report || this.closed || pc !== this.pc) return;
      const stats = statsById(report);
      const pair = selectedCandidatePair(stats);
      this.mainResponses = typeof pair?.responsesReceived === 'number' ? pair.responsesReceived : undefined;
      const ice = pc.iceConnectionState;
      this.mainDirect = (ice === 'connected' || ice === 'completed') && selectedPath(report).path === 'p2p';
    }
    if (this.standby?.ready) this.standbyRetryMs = STANDBY_RETRY_MS;
    else if (this.standby && (this.standby.failed || Date.now() - this.standby.createdAt > STANDBY_SETUP_MS)) {
      this.dropStandby();
      this.standbyNextAt = Date.now() + this.standbyRetryMs;
      this.standbyRetryMs = Math.min(2 * this.standbyRetryMs, STANDBY_RETRY_MAX_MS);
    }
    this.maybeStandby();
  }

  /** The caller builds a standby when the call runs P2P and has none (never in privacy mode). */
  private maybeStandby(): void {
    if (this.role !== 'caller' || this.standby || this.closed) return;
    if (this.pc.getConfiguration().iceTransportPolicy === 'relay') return;
    if (this.lastPath !== 'p2p' || this.pc.connectionState !== 'connected') return;
    if (this.channel?.readyState !== 'open' || Date.now() < this.standbyNextAt) return;
    this.standby = this.newStandby();
    this.standby?.offer();
  }

  private newStandby(): StandbyPath | undefined {
    markCall(this.callId, 'host-standby-new');
    const config = noPool(this.pc.getConfiguration()) as RTCConfiguration & { encodedInsertableStreams?: boolean };
    // A standby built an hour into the call needs the credentials of now, not the call's first ones.
    config.iceServers = this.iceServers;
    if (this.frames.api === 'legacy') config.encodedInsertableStreams = true;
    try {
      const standby: StandbyPath = new StandbyPath(config, this.local, this.frames, -1 - this.standbyGen++, {
        send: (text) => {
          if (this.channel?.readyState === 'open') this.channel.send(text);
        },
        onTrack: (track) => this.standby === standby && this.playback.attachStandby(track),
        onState: () => {
          if (this.standby === standby && this.switcher.leg === 'standby') this.emitState();
        },
        shapeSdp: (sdp) => opusForVoice(sdp, this.opusShape),
        shapePeerSdp: (sdp) => peerOpusForUs(sdp, this.opusShape),
      });
      return standby;
    } catch {
      return undefined; // no standby: the call goes on as before (a dead path then means a fresh connection)
    }
  }

  private dropStandby(): void {
    this.standby?.close();
    this.standby = undefined;
    this.playback.detachStandby();
    this.playLeg.reset();
  }

  private onStandbyMessage(data: unknown): void {
    const m = parseStandby(data);
    if (m instanceof Error) return; // not a standby message of ours: dropped, nothing else changes
    if (m.t === 'offer') {
      if (this.role !== 'callee') return;
      if (this.switcher.leg === 'standby') return; // the standby carries our audio: keep it
      this.dropStandby();
      this.standby = this.newStandby();
    }
    this.standby?.handle(m);
  }

  /**
   * Replace the connection: a new RTCPeerConnection on the same microphone
   * track and the same frame worker (same keys, same counters: no nonce is
   * ever reused, and the receiver's replay window carries on). When a path
   * dies mid-call, Chromium keeps the dead pair selected until its consent
   * checks time out (3.5-4 s in the lab, even across an ICE restart); a fresh
   * connection is carrying audio again after about a second (docs/ice.md).
   */
  private freshConnection(update: { relayOnly?: boolean; iceServers?: RTCIceServer[] }): void {
    const config = noPool(this.pc.getConfiguration()) as RTCConfiguration & { encodedInsertableStreams?: boolean };
    if (update.relayOnly !== undefined) config.iceTransportPolicy = update.relayOnly ? 'relay' : 'all';
    if (update.iceServers) this.iceServers = update.iceServers;
    config.iceServers = this.iceServers;
    if (this.frames.api === 'legacy') config.encodedInsertableStreams = true;
    const old = this.pc;
    this.generation++;
    const built = connect(config, this.local, this.frames, this.generation);
    this.pc = built.pc;
    this.transceiver = built.transceiver;
    this.channel = built.channel;
    // Both paths died (or the ICE policy rebuilt the call): the new connection carries the audio.
    if (this.switcher.leg === 'standby') void this.standby?.sender.replaceTrack(null).catch(() => {});
    this.switcher.reset();
    this.playLeg.reset();
    this.playback.hear('main');
    this.mainPacketAt = 0;
    this.iceWatched = false;
    this.pendingCandidates.length = 0;
    this.wire();
    old.close();
  }

  private followDevices(inputDeviceId: string | undefined, outputDeviceId: string | undefined): void {
    if (!navigator.mediaDevices?.enumerateDevices) return;
    this.devices = new DeviceFollower(
      {
        inputInUse: () => this.inputInUse(),
        useInput: (next) => this.useInput(next),
        sinkId: () => this.playback.sinkId,
        setSink: (id) => this.playback.setSink(id),
        onEvent: (e) => !this.closed && this.onEvent(e),
      },
      inputDeviceId,
      outputDeviceId,
    );
    this.devices.watch(this.local.track);
  }

  private inputInUse(): InputInUse | null {
    if (this.local.silent) return null;
    const { deviceId, groupId } = this.local.track.getSettings();
    return { deviceId, groupId, live: this.local.track.readyState === 'live' };
  }

  /**
   * Put other audio on the call's sender: RTCRtpSender.replaceTrack (webrtc-pc
   * §5.2) keeps the transceiver, its encoded transform and the frame worker's
   * keys and counters; nothing is renegotiated. The mute state carries over.
   */
  private async useInput(next: LocalAudio): Promise<void> {
    if (this.closed) return next.stop();
    next.track.enabled = !this.muted;
    try {
      await this.activeSender.replaceTrack(next.track);
    } catch (e) {
      next.stop();
      throw webrtcError('switching the microphone', e);
    }
    const old = this.local;
    this.local = next;
    old.stop();
  }

  /**
   * A call prepared before Accept (deferMicrophone): the person accepted, open the microphone (or
   * take the one the media host opened meanwhile) and put it on the sender in place of the
   * silence; devices are followed from here on. Nothing else changes: same connection, keys,
   * transform. A call that has its microphone already: nothing (an `opened` one is released).
   */
  async useMicrophone(opened?: LocalAudio): Promise<null> {
    const later = this.micLater;
    if (!later || this.closed) {
      opened?.stop();
      return null;
    }
    this.micLater = undefined;
    const mic = opened ?? (await openMicrophone(later.inputDeviceId));
    markCall(this.callId, 'host-mic-open');
    await this.useInput(mic);
    if (!this.closed) this.followDevices(later.inputDeviceId, later.outputDeviceId);
    return null;
  }

  /** The microphone the call sends now (for the in-call picker); null while it sends silence. */
  inputDevice(): { deviceId?: string; label: string } | null {
    if (this.local.silent) return null;
    return { deviceId: this.local.track.getSettings().deviceId, label: this.local.track.label };
  }

  setInputDevice(deviceId: string | undefined): Promise<void> {
    return this.devices?.setInput(deviceId) ?? Promise.resolve();
  }

  setOutputDevice(deviceId: string | undefined): Promise<void> {
    return this.devices?.setOutput(deviceId) ?? Promise.resolve();
  }

  /** Watch that frames keep arriving while connected; say `stall` once when they stop. */
  private watchStalls(): void {
    this.stallTimer = setInterval(() => {
      if (this.closed) return;
      void this.frames.counters().then((c) => {
        const now = Date.now();
        if (c.decrypted !== this.stall.decrypted) {
          this.stall = { decrypted: c.decrypted, since: now, reported: false };
          return;
        }
        const silent = now - this.stall.since;
        if (c.decrypted > 0 && !this.stall.reported && silent >= STALL_MS && !this.closed) {
          this.stall.reported = true;
          this.onEvent({ type: 'stall', silentMs: silent });
        }
      });
    }, STALL_POLL_MS);
  }

  /**
   * A mid-call path switch (ICE restart, a better pair appearing) changes the
   * selected pair without any state change: RTCIceTransport's
   * selectedcandidatepairchange says so (Chromium; Firefox has no
   * RTCIceTransport and relies on the state events). The transport exists only
   * once a description is applied, so this is called after each one.
   */
  private watchIceTransport(): void {
    if (this.iceWatched) return;
    const ice = this.transceiver.sender.transport?.iceTransport as
      | (RTCIceTransport & { onselectedcandidatepairchange?: (() => void) | null })
      | undefined;
    if (!ice) return;
    this.iceWatched = true;
    if ('onselectedcandidatepairchange' in ice) ice.onselectedcandidatepairchange = () => this.emitState();
  }

  /** Emit the state as of now, with the path read from getStats; events leave in the order of the changes. */
  private emitState(): void {
    if (this.closed) return;
    const active = this.activePc;
    const connection = active.connectionState;
    const ice = active.iceConnectionState;
    this.stateChain = this.stateChain.then(async () => {
      const path = await this.currentPath();
      if (this.closed) return;
      this.lastPath = path;
      this.onEvent({ type: 'state', connection, ice, path: this.reportedPath(path) });
    });
    this.followPath();
  }

  /** The connection that carries our audio now: its state and path are the call's. */
  private get activePc(): RTCPeerConnection {
    return this.switcher.leg === 'standby' && this.standby ? this.standby.pc : this.pc;
  }

  /** `lastPath` is the main connection's; on the standby the call is relayed. */
  private reportedPath(mainPath: PathKind): PathKind {
    return this.switcher.leg === 'standby' && this.standby ? 'relay' : mainPath;
  }

  /**
   * The path can lag the state: Chromium caches getStats() results for a few
   * tens of ms, so the report read for 'connected' may predate the selected
   * pair; and a peer's relay first learned as prflx is retyped a little later
   * (path.ts). So after each change, re-read the path on a short schedule and
   * emit a `state` event again if it moved.
   */
  private followPath(): void {
    clearTimeout(this.pathTimer);
    let i = 0;
    const step = () => {
      this.pathTimer = undefined;
      if (this.closed || i >= PATH_RECHECK_MS.length) return;
      const delay = PATH_RECHECK_MS[i]! - (i > 0 ? PATH_RECHECK_MS[i - 1]! : 0);
      i++;
      this.pathTimer = setTimeout(() => {
        this.stateChain = this.stateChain.then(async () => {
          const path = await this.currentPath();
          if (this.closed || path === this.lastPath) return;
          this.lastPath = path;
          const active = this.activePc;
          this.onEvent({ type: 'state', connection: active.connectionState, ice: active.iceConnectionState, path: this.reportedPath(path) });
        });
        step();
      }, delay);
    };
    step();
  }

  private emitError(code: MediaError['code'], message: string, fatal: boolean): void {
    if (!this.closed) this.onEvent({ type: 'error', code, message, fatal });
  }

  private async currentPath(): Promise<PathKind> {
    try {
      return selectedPath(await this.pc.getStats()).path;
    } catch {
      return 'unknown';
    }
  }

  /** Run signalling steps one at a time, in call order. */
  private run<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    const next = this.serial.then(async () => {
      if (this.closed) throw new MediaError('ERR_WEBRTC', 'The call has already ended. Call again to talk.');
      try {
        return await fn();
      } catch (e) {
        throw webrtcError(doing, e);
      }
    });
    this.serial = next.catch(() => {});
    return next;
  }

  createOffer(opts: OfferOptions = {}): Promise<string> {
    return this.run('creating the offer', async () => {
      if (opts.fresh) this.freshConnection(opts);
      else if (opts.relayOnly !== undefined || opts.iceServers) {
        // Takes effect for the gathering of this restart (W3C webrtc-pc §4.4.1.6 setConfiguration).
        const config = this.pc.getConfiguration();
        if (opts.relayOnly !== undefined) config.iceTransportPolicy = opts.relayOnly ? 'relay' : 'all';
        if (opts.iceServers) config.iceServers = this.iceServers = opts.iceServers;
        this.pc.setConfiguration(config);
      }
      const offer = await this.pc.createOffer({ iceRestart: !!opts.iceRestart });
      await this.pc.setLocalDescription({ type: 'offer', sdp: opusForVoice(offer.sdp ?? '', this.opusShape) });
      this.watchIceTransport();
      return this.pc.localDescription!.sdp;
    });
  }

  acceptOffer(sdp: string, opts: { fresh?: boolean } = {}): Promise<string> {
    return this.run('accepting the offer', async () => {
      if (opts.fresh) this.freshConnection({});
      await this.pc.setRemoteDescription({ type: 'offer', sdp: peerOpusForUs(sdp, this.opusShape) });
      await this.flushCandidates();
      const answer = await this.pc.createAnswer();
      await this.pc.setLocalDescription({ type: 'answer', sdp: opusForVoice(answer.sdp ?? '', this.opusShape) });
      this.watchIceTransport();
      return this.pc.localDescription!.sdp;
    });
  }

  setAnswer(sdp: string): Promise<void> {
    return this.run('applying the answer', async () => {
      await this.pc.setRemoteDescription({ type: 'answer', sdp: peerOpusForUs(sdp, this.opusShape) });
      this.watchIceTransport();
      await this.flushCandidates();
    });
  }

  addRemoteCandidate(candidate: RTCIceCandidateInit | null): Promise<void> {
    return this.run('adding a network candidate', async () => {
      if (!this.pc.remoteDescription) {
        this.pendingCandidates.push(candidate);
        return;
      }
      await this.addCandidate(candidate);
    });
  }

  private async flushCandidates(): Promise<void> {
    for (const c of this.pendingCandidates.splice(0)) await this.addCandidate(c);
  }

  private async addCandidate(candidate: RTCIceCandidateInit | null): Promise<void> {
    if (candidate === null || !candidate.candidate) {
      // End of candidates: a hint only; browsers that reject the empty form lose nothing.
      await this.pc.addIceCandidate().catch(() => {});
      return;
    }
    await this.pc.addIceCandidate(candidate);
  }

  /**
   * Renewed TURN credentials (the background pushes them, lib/signal/client.ts onTurn): kept for
   * the next standby and fresh connection, and set on the main connection, where they take effect
   * at its next gathering (an ICE restart, the caller's or the callee's: webrtc-pc §4.4.1.6
   * setConfiguration). The allocations already made keep their username: the relay goes on
   * serving their refreshes after it expired (relay-server/src/turn/core.ts enforceExpiry).
   */
  setIceServers(iceServers: RTCIceServer[]): void {
    if (this.closed) return;
    this.iceServers = iceServers;
    const config = this.pc.getConfiguration();
    config.iceServers = iceServers;
    try {
      this.pc.setConfiguration(config);
    } catch {
      // A browser that refuses new servers on a live connection: its next restart's offer (caller)
      // brings them again; the standby and a fresh connection take them from `iceServers`.
    }
  }

  setMuted(muted: boolean): void {
    this.muted = muted;
    this.local.track.enabled = !muted;
  }

  async stats(): Promise<CallStats> {
    const [report, frames, standby] = await Promise.all([
      this.activePc.getStats().catch(() => new Map<string, unknown>()),
      this.frames.counters(),
      this.standbyStats(),
    ]);
    const { roundTripMs, ...path } = selectedPath(report);
    const rtp = rtpAudioStats(report);
    const out: CallStats = {
      ...path,
      ...rtp,
      frames: { ...frames },
      heard: this.playback.analyse(),
    };
    if (roundTripMs !== undefined) out.roundTripMs = roundTripMs;
    if (standby) out.standby = standby;
    return Object.assign(out, frameTapStats(this.frames.tap, hex));
  }

  /** The standby's state and its idle cost so far (docs/media.md); undefined when there is none. */
  private async standbyStats(): Promise<StandbyStats | undefined> {
    const sb = this.standby;
    if (!sb && !this.switches) return undefined;
    const out: StandbyStats = { leg: this.switcher.leg, heard: this.playback.heardLeg, state: sb?.pc.connectionState ?? 'closed', switches: this.switches };
    if (this.lastSwitch) out.lastSwitch = this.lastSwitch;
    if (this.lastSwitchAt) out.lastSwitchAt = this.lastSwitchAt;
    if (!sb) return out;
    out.upMs = Date.now() - sb.createdAt;
    const report = await sb.pc.getStats().catch(() => undefined);
    if (!report) return out;
    const stats = statsById(report);
    for (const x of stats.values()) {
      if (x.type === 'transport') {
        out.bytesSent = Number(x.bytesSent ?? 0);
        out.bytesReceived = Number(x.bytesReceived ?? 0);
      }
    }
    const pair = selectedCandidatePair(stats);
    if (pair) {
      out.requestsSent = Number(pair.requestsSent ?? 0);
      out.responsesReceived = Number(pair.responsesReceived ?? 0);
      out.requestsReceived = Number(pair.requestsReceived ?? 0);
      out.responsesSent = Number(pair.responsesSent ?? 0);
    }
    out.path = selectedPath(report).path;
    return out;
  }

  analyseRemote(): AudioAnalysis {
    return this.playback.analyse();
  }

  /** The remote audio's level over the last ~680 ms in 10 ms blocks (RemotePlayback.levelBlocks): where a gap shows. */
  remoteLevelBlocks(): { endTime: number; blockMs: number; db: number[] } {
    return this.playback.levelBlocks();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.pathTimer);
    clearInterval(this.stallTimer);
    clearInterval(this.iceTimer);
    this.devices?.close();
    this.local.stop();
    this.standby?.close();
    this.pc.close();
    this.frames.terminate();
    this.playback.close();
  }
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/**
 * One RTCPeerConnection for the call: the microphone track added, and both
 * frame transforms attached to its transceiver at once, before any
 * negotiation (see the file header). `generation` tells the worker which
 * connection a pipeline belongs to, so a replaced one ending is not an error.
 */
/** A connection's configuration for a new one beside or after it: without the callee's first candidate pool. */
function noPool(config: RTCConfiguration): RTCConfiguration {
  return { ...config, iceCandidatePoolSize: 0 };
}

function connect(
  config: RTCConfiguration,
  local: LocalAudio,
  frames: FrameWorkerClient,
  generation: number,
): { pc: RTCPeerConnection; transceiver: RTCRtpTransceiver; channel?: RTCDataChannel } {
  let pc: RTCPeerConnection;
  try {
    pc = new RTCPeerConnection(config);
  } catch (e) {
    throw webrtcError("setting up (check the relay server settings in Hush's options)", e);
  }
  try {
    const sender = pc.addTrack(local.track, local.stream);
    const transceiver = pc.getTransceivers().find((t) => t.sender === sender);
    if (!transceiver) throw webrtcError('adding the microphone', new Error('no transceiver'));
    frames.attach(transceiver, generation);
    // The standby's signalling (standby-wire.ts): negotiated, so both sides make it before the first
    // offer and no in-band open is needed. In privacy mode there is no standby and no channel.
    if (config.iceTransportPolicy === 'relay') return { pc, transceiver };
    const channel = pc.createDataChannel(STANDBY_CHANNEL.label, { negotiated: true, id: STANDBY_CHANNEL.id, ordered: true });
    return { pc, transceiver, channel };
  } catch (e) {
    pc.close();
    throw e;
  }
}
