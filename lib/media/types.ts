/**
 * The media engine's contract: what the offscreen document (Chrome) or the
 * call window (Firefox, lib/platform/call-window.ts) runs for one call. Implemented by call-media.ts;
 * driven by the background's call session through the offscreen messages.
 *
 * The engine owns getUserMedia, the RTCPeerConnection, the encoded-transform
 * frame encryption (frame worker) and playback. It never sees identities or
 * handshake messages: only the two frame secrets of this call, as bytes it
 * imports into the worker and then wipes.
 */

export type Role = 'caller' | 'callee';

export interface MediaStartOptions {
  /** Hex call id, for logs-free correlation of events. */
  callId: string;
  role: Role;
  iceServers: RTCIceServer[];
  /** Privacy mode: relay candidates only (the peer never learns our IP). */
  relayOnly: boolean;
  /** 32-byte frame secret for what we send, and for what we receive. Wiped by the engine after import. */
  sendFrameSecret: Uint8Array;
  recvFrameSecret: Uint8Array;
  /** Preferred microphone / speaker (options page); default devices otherwise. */
  inputDeviceId?: string;
  outputDeviceId?: string;
  /**
   * Issue 17, prepared before Accept: no microphone yet. The connection, its transforms and the
   * frame worker are made with silence on the sender; `useMicrophone` opens the microphone later
   * (the person accepted). Nothing reaches the peer meanwhile: the session sends no answer or
   * candidate before Accept.
   */
  deferMicrophone?: boolean;
  /** Test hook: decrypt with a wrong key (read only through lib/testing/hooks.ts, absent from store builds). */
  corruptRecvKey?: boolean;
  /** Test hook: keep the first N outgoing frames for CallStats.testTap (lib/testing/hooks.ts). */
  testTapFrames?: number;
  /** Test hook (testOpusShape): 'dtx' or 'dtx-no-red', for the DTX measurement (lib/testing/hooks.ts opusShapeOf). */
  testOpusShape?: string;
  /** Test hook: a generated sine instead of the microphone (lib/testing/hooks.ts). */
  testToneHz?: number;
  /** Test hook: force one encoded-transform API where both exist ('legacy' = createEncodedStreams). */
  transformApi?: 'script' | 'legacy';
}

/**
 * Issue 17, the caller: what the media host needs to start at dial, before the handshake gave
 * keys. The connection, its transforms and the frame worker are made with silence on the sender
 * and no keys (frames wait in the worker, none leaves in clear); the keys come with `setKeys`
 * and the microphone with `useMicrophone`, both once the callee checked out (CONFIRM). The
 * test hooks apply as in MediaStartOptions (corruptRecvKey at the keys' import).
 */
export type MediaPrestartOptions = Omit<MediaStartOptions, 'sendFrameSecret' | 'recvFrameSecret' | 'deferMicrophone'>;

export type PathKind = 'p2p' | 'relay' | 'unknown';

export type MediaEvent =
  | { type: 'candidate'; candidate: RTCIceCandidateInit | null } // null: gathering complete
  | { type: 'state'; connection: RTCPeerConnectionState; ice: RTCIceConnectionState; path: PathKind }
  /** Connected, but no frame played for STALL_MS: the path died (the session moves the call). */
  | { type: 'stall'; silentMs: number }
  | {
      type: 'error';
      code: MediaErrorCode;
      message: string;
      /**
       * true: this call's audio is broken (e.g. a frame pipeline stopped): end it.
       * false: the call goes on, tell the person (e.g. the chosen speaker is gone).
       * Absent means true.
       */
      fatal?: boolean;
      /**
       * A non-fatal condition is over: e.g. ERR_MIC_GONE with `cleared` when a
       * microphone came back and the call is heard again. The UI drops the sentence.
       */
      cleared?: boolean;
    };

export type MediaErrorCode =
  | 'ERR_NO_MICROPHONE' // no input device at all
  | 'ERR_MIC_GONE' // mid-call: the last microphone went away; the call goes on muted (non-fatal)
  | 'ERR_MIC_DENIED' // permission refused
  | 'ERR_WEBRTC' // RTCPeerConnection / SDP failure
  | 'ERR_TRANSFORM'; // encoded transforms unavailable or failed

export interface SelectedPath {
  path: PathKind;
  localType?: RTCIceCandidateType;
  remoteType?: RTCIceCandidateType;
  /** For a relayed local candidate: udp, tcp or tls to the TURN server. */
  relayProtocol?: string;
  protocol?: string;
}

export interface CallStats extends SelectedPath {
  bytesSent: number;
  /** Audio packets sent on the connection carrying our audio now (outbound-rtp). */
  packetsSent?: number;
  bytesReceived: number;
  packetsReceived: number;
  /** Remote audio level at the playout, 0..1 (inbound-rtp audioLevel). */
  audioLevel: number;
  /** Receive quality (cumulative inbound-rtp counters, lib/media/rtp-stats.ts); the quality indicator reads their differences. */
  packetsLost?: number;
  jitterMs?: number;
  concealedSamples?: number;
  silentConcealedSamples?: number;
  totalSamplesReceived?: number;
  /** RTCP round trip (remote-inbound-rtp roundTripTime), ms. */
  rtcpRoundTripMs?: number;
  /** The negotiated send codec, "mimeType fmtp" (lib/media/rtp-stats.ts). */
  sendCodec?: string;
  frames: {
    encrypted: number;
    decrypted: number;
    /** Frames dropped: failed authentication, replayed, stale, malformed. */
    dropped: number;
    authFailed: number;
    /** The other drop reasons, for diagnosis (replayed / stale: duplicate or late frames). */
    replayed?: number;
    stale?: number;
    malformed?: number;
    unknownKey?: number;
    /** Outgoing frames that failed to encrypt and were not sent (never sent in clear). */
    encryptFailed?: number;
    /** Incoming empty frames (RTP padding-only packets): ignored, not counted in `dropped`. */
    empty?: number;
    /** When the first frame was decrypted and played (ms since the epoch; 0 before): dial-to-audio timing. */
    firstDecryptedAt?: number;
    /** When the first frame was encrypted and handed to the sender (ms since the epoch; 0 before). */
    firstEncryptedAt?: number;
    /** The longest silence between two played frames so far (ms): a path switch's audio gap. */
    longestGapMs?: number;
    /** Gaps between two played frames above 60 ms so far. */
    gapsOver60?: number;
    /** The few longest of those (ms) and when each began (ms after the first played frame), longest first. */
    longGaps?: readonly { ms: number; afterFirstMs: number }[];
  };
  roundTripMs?: number;
  /** What the playout sounds like now: dominant frequency and level of the remote audio (the call screen's "Hearing" line). */
  heard?: AudioAnalysis;
  /** Test hook (testTapFrames): outgoing frames as encoded and as sent, hex. */
  testTap?: { plain: string[]; sealed: string[] };
  /** Make before break (lib/media/standby.ts): the standby connection, absent when there is none. */
  standby?: StandbyStats;
}

/** The standby connection and the switches so far; bytes and ICE counters are its idle cost. */
export interface StandbyStats {
  /** Which connection carries our audio now. */
  leg: 'main' | 'standby';
  /** Which connection's audio the person hears (play-leg.ts). */
  heard: 'main' | 'standby';
  state: RTCPeerConnectionState;
  switches: number;
  lastSwitch?: string;
  /** When (ms since the epoch). */
  lastSwitchAt?: number;
  path?: PathKind;
  /** Since the standby was made (ms). */
  upMs?: number;
  bytesSent?: number;
  bytesReceived?: number;
  requestsSent?: number;
  responsesReceived?: number;
  requestsReceived?: number;
  responsesSent?: number;
}

/** Measured on the remote audio actually played (Web Audio analyser). */
export interface AudioAnalysis {
  /** Dominant frequency in Hz (0 when silent). */
  frequency: number;
  /** RMS level in dBFS (−Infinity when silent). */
  rmsDb: number;
}

/** A (re-)offer: an ICE restart may change the gathering policy and the servers (fresh TURN credentials). */
export interface OfferOptions {
  iceRestart?: boolean;
  /** Gather relay candidates only from now on (privacy mode, or the ICE policy forcing the relay). */
  relayOnly?: boolean;
  iceServers?: RTCIceServer[];
  /** A new RTCPeerConnection (same track, same frame keys and counters) instead of an ICE restart. */
  fresh?: boolean;
}

export interface CallMediaApi {
  /** Caller: offer SDP (also used for ICE restarts with `iceRestart`). */
  createOffer(opts?: OfferOptions): Promise<string>;
  /** Callee: apply the caller's offer, return the answer SDP. Also handles re-offers (ICE restart). */
  acceptOffer(sdp: string, opts?: { fresh?: boolean }): Promise<string>;
  /** Caller: apply the callee's answer. */
  setAnswer(sdp: string): Promise<void>;
  addRemoteCandidate(candidate: RTCIceCandidateInit | null): Promise<void>;
  setMuted(muted: boolean): void;
  /** Renewed TURN credentials: the call's next allocation (standby, ICE restart, fresh connection) uses these. */
  setIceServers(iceServers: RTCIceServer[]): void;
  /** Mid-call device choice (in-call picker): the microphone, '' or undefined for the system default. */
  setInputDevice(deviceId: string | undefined): Promise<void>;
  /** Mid-call device choice: the speaker, '' or undefined for the system default. */
  setOutputDevice(deviceId: string | undefined): Promise<void>;
  stats(): Promise<CallStats>;
  analyseRemote(): AudioAnalysis;
  close(): void;
}
