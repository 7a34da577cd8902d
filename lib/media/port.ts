/**
 * The media engine as the background drives it: one interface, whatever hosts
 * the engine (Chrome's offscreen document, Firefox's call window). The call
 * session (lib/call/) uses `MediaPort`; the background also asks the host for
 * stats and the ringtone (`MediaHostPort`). Implemented over runtime messages
 * by lib/platform/media-port.ts; scripted in the unit tests.
 *
 * Every method names its call by `callId`, so a late request for an ended
 * call can be told apart from the current one. A failure rejects with an
 * `{ code }` from the engine (ERR_MIC_DENIED, ERR_NO_MICROPHONE, ERR_WEBRTC…).
 */
import type { CandidateInit } from '../call/control';
import type { MediaPrestartOptions, MediaStartOptions, OfferOptions } from './types';

/** What one call needs from the media engine. */
export interface MediaPort {
  start(opts: MediaStartOptions): Promise<void>;
  createOffer(callId: string, opts?: OfferOptions): Promise<string>;
  acceptOffer(callId: string, sdp: string, opts?: { fresh?: boolean }): Promise<string>;
  setAnswer(callId: string, sdp: string): Promise<void>;
  addCandidate(callId: string, c: CandidateInit | null): Promise<void>;
  setMuted(callId: string, muted: boolean): Promise<void>;
  /** Switch the call's microphone ('input') or speaker ('output') mid-call; '' = the system default. */
  setDevice?(callId: string, device: 'input' | 'output', deviceId: string): Promise<void>;
  stop(callId: string): Promise<void>;
  /**
   * Issue 17: a call started with `deferMicrophone` (prepared before Accept) opens its microphone
   * now. Absent where a host cannot prepare a call without showing it (Firefox's call window):
   * the session then starts media at Accept as before.
   */
  useMicrophone?(callId: string): Promise<void>;
  /**
   * Issue 17: a call is being dialled, or is about to be; make the media host ready (Chrome:
   * create the offscreen document) so the media start does not wait for it. Opens no microphone
   * and no connection. Never fails (a failure shows at the media start). With `hold`, the host is
   * closed again after `hold.ms` if nothing else used it since and `hold.idle()` says no call
   * needs it (the person did not dial, the HELLO never confirmed); without, the call that asked
   * releases it as it releases its media.
   */
  prewarm?(hold?: { ms: number; idle: () => boolean }): void;
  /**
   * Issue 17, long calls: the TURN credentials were renewed; the running call's next allocation
   * (a standby path, an ICE restart, a fresh connection) uses these servers. Never creates the
   * media host; a call without media there is left alone.
   */
  setIceServers?(callId: string, iceServers: RTCIceServer[]): Promise<void>;
  /**
   * Issue 17, the caller: at dial, start the call's media without keys and without the
   * microphone (MediaPrestartOptions); `createOffer` then works as after `start`. Absent where
   * the host is a visible window (Firefox's call window): media then starts after CONFIRM.
   */
  prestart?(opts: MediaPrestartOptions): Promise<void>;
  /** Issue 17: the frame secrets of a call started with `prestart`; the port wipes its copies. */
  setKeys?(callId: string, sendFrameSecret: Uint8Array, recvFrameSecret: Uint8Array): Promise<void>;
}

/** The background's handle on the media host: the call's MediaPort, stats, and the ringtone. */
export interface MediaHostPort extends MediaPort {
  stats(callId: string): Promise<unknown>;
  /**
   * Play a tone (the incoming-call ringtone by default, or the caller's ringback) or stop it;
   * `release` also closes the media host when no call needs it.
   */
  ring(on: boolean, release?: boolean, tone?: 'ringtone' | 'ringback'): Promise<void>;
}
