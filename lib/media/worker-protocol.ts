/**
 * The one message union between a call's page (CallMedia) and its frame
 * worker (frame-worker.ts), discriminated on `kind` (style.md §6). Each side
 * handles what it receives in one exhaustive `switch`.
 *
 *   page ──tap{n}─────────▶ worker        test builds: keep the first n frames (before any attach)
 *   page ──init{secrets}──▶ worker        import both frame secrets, wipe them (at once, or
 *                                         later: frames wait for them, never pass in clear)
 *   page ◀──ready────────── worker        now the page wipes its copies too
 *   page ──streams{side}──▶ worker        legacy createEncodedStreams only
 *   page ──counters{id}───▶ worker
 *   page ◀──counters{id}─── worker
 *   page ◀──error────────── worker        import or a frame pipeline failed
 *   page ──watch{everyMs}─▶ worker        start the receive clock (make before break)
 *   page ◀──recv{…}──────── worker        every `everyMs`: frames in on the main connection
 *
 * With RTCRtpScriptTransform the frames themselves never cross this channel:
 * the browser hands the worker an `rtctransform` event carrying
 * TransformOptions (below) and the frame streams.
 */

export type TransformSide = 'send' | 'recv';

/** The options object of `new RTCRtpScriptTransform(worker, options)`. No secrets in it. */
export interface TransformOptions {
  side: TransformSide;
  /** Which of the call's connections (a fresh one replaces a dead path): errors of older ones are ignored. */
  gen?: number;
}

/** The frame counters a worker keeps for one call. */
export interface FrameCounters {
  /** Outgoing frames replaced by their ciphertext. */
  encrypted: number;
  /** Incoming frames that authenticated and went to the decoder. */
  decrypted: number;
  /** Incoming frames dropped for any reason (auth, replay, stale, malformed, unknown key). */
  dropped: number;
  /** Of those, the frames that failed AES-GCM authentication (wrong key or tampered). */
  authFailed: number;
  /** The other drop reasons (FrameDecryptor.stats). */
  replayed: number;
  stale: number;
  malformed: number;
  unknownKey: number;
  /** Outgoing frames dropped because encryption failed: never sent in clear. */
  encryptFailed: number;
  /** Incoming 0-byte frames (RTP padding): not audio, not counted in `dropped` (frame-transform.ts). */
  empty: number;
  /** Outgoing 0-byte frames (the encoder had nothing to send: Opus DTX): passed on as they are (frame-transform.ts). */
  emptyOut: number;
  /** Wall-clock time (ms since the epoch) the first frame was decrypted and played; 0 before. */
  firstDecryptedAt: number;
  /** Wall-clock time (ms since the epoch) the first frame was encrypted and sent on; 0 before. */
  firstEncryptedAt: number;
  /** The longest time between two played frames so far (ms): the audio gap of a path switch. */
  longestGapMs: number;
  /** Gaps between two played frames above 60 ms so far (frame-transform.ts GAP_NOTED_MS). */
  gapsOver60: number;
  /** The few longest of those, longest first. */
  longGaps: readonly FrameGap[];
}

/** A gap between two played frames: its length and when it began, in ms after the first played frame. */
export interface FrameGap {
  ms: number;
  afterFirstMs: number;
}

/**
 * Test hook (tests/e2e/relay-view.test.ts): the first N outgoing frames as the
 * encoder produced them and as they left encrypted, so a test can search a
 * packet capture for the plaintext. Off unless a test turns it on.
 */
export interface FrameTap {
  plain: Uint8Array[];
  sealed: Uint8Array[];
}

export const ZERO_COUNTERS: Readonly<FrameCounters> = Object.freeze({
  encrypted: 0,
  decrypted: 0,
  dropped: 0,
  authFailed: 0,
  replayed: 0,
  stale: 0,
  malformed: 0,
  unknownKey: 0,
  encryptFailed: 0,
  empty: 0,
  emptyOut: 0,
  firstDecryptedAt: 0,
  firstEncryptedAt: 0,
  longestGapMs: 0,
  gapsOver60: 0,
  longGaps: Object.freeze([]),
});

export type PageToWorker =
  | { kind: 'init'; sendSecret: Uint8Array; recvSecret: Uint8Array }
  /** Test hook (FrameTap): sent first, before any transform is attached, so every pipeline keeps the frames. */
  | { kind: 'tap'; tapFrames?: number }
  | { kind: 'streams'; side: TransformSide; gen?: number; readable: ReadableStream; writable: WritableStream }
  | { kind: 'counters'; id: number }
  | { kind: 'watch'; everyMs: number };

export type WorkerToPage =
  | { kind: 'ready' }
  | { kind: 'counters'; id: number; counters: FrameCounters; tap?: FrameTap }
  | { kind: 'error'; message: string; gen?: number }
  | RecvTick;

/**
 * The receive clock (path-switch.ts): frames that came in on the main connection (generation ≥ 0,
 * any of them) so far, and how long ago the last one did. From the worker because its timers run on
 * time while the page's (a hidden offscreen document) are throttled, and because a frame reaching the
 * receive transform is a packet that arrived, where the receiver's synchronization sources also
 * move while the decoder conceals.
 */
export interface RecvTick {
  kind: 'recv';
  mainFrames: number;
  mainSilentMs: number;
  /** The longest recent gap between two frames on the main connection (ms, decaying by half every 5 s; outages over 1 s left out). */
  mainJitterMs: number;
  /** How long frames have come in on the main connection without a gap of RUN_GAP_MS (0: none now). */
  mainRunMs: number;
  /** The same for the standby connection (standby.ts), whose frames the playback may play instead (play-leg.ts). */
  standbyFrames: number;
  standbySilentMs: number;
  standbyRunMs: number;
}

/** A gap between two frames longer than this ends a run of frames (RecvTick `mainRunMs`): three frames missed. */
export const RUN_GAP_MS = 60;

export function isTransformOptions(v: unknown): v is TransformOptions {
  return typeof v === 'object' && v !== null && ((v as TransformOptions).side === 'send' || (v as TransformOptions).side === 'recv');
}

/** The exhaustiveness check at the end of each `switch` on `kind`. */
export function unhandled(x: never): never {
  throw new Error(`unhandled worker message: ${JSON.stringify(x)}`);
}
