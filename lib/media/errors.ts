/**
 * Typed errors of the media engine. Every failure carries a stable `code`
 * (MediaErrorCode, types.ts) that callers switch on, and a sentence a person
 * can act on: the popup shows `message` as is. Nothing here ever carries an
 * SDP, a candidate address or key bytes; browser errors keep only their name.
 */
import type { MediaErrorCode } from './types';

export class MediaError extends Error {
  override readonly name = 'MediaError';
  constructor(
    readonly code: MediaErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The DOMException name of a browser error, or its type, never its text (it may hold an SDP line). */
export function errorName(e: unknown): string {
  if (e instanceof Error || (typeof e === 'object' && e !== null && 'name' in e)) {
    return String((e as { name: unknown }).name);
  }
  return typeof e;
}

/**
 * getUserMedia's failure as a MediaError (Media Capture and Streams §10.1.1,
 * the errors getUserMedia rejects with).
 */
export function microphoneError(e: unknown): MediaError {
  switch (errorName(e)) {
    case 'NotAllowedError':
    case 'PermissionDeniedError': // pre-standard Chromium name
    case 'SecurityError':
      return new MediaError(
        'ERR_MIC_DENIED',
        'Hush is not allowed to use your microphone. Allow microphone access for Hush in the browser\'s site settings, then call again.',
      );
    case 'NotFoundError':
    case 'DevicesNotFoundError':
      return new MediaError(
        'ERR_NO_MICROPHONE',
        'No microphone was found. Plug in or enable a microphone, then call again.',
      );
    case 'OverconstrainedError':
      return new MediaError(
        'ERR_NO_MICROPHONE',
        'The microphone chosen in Hush\'s options is not connected. Pick another one in the options, or plug it back in.',
      );
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return new MediaError(
        'ERR_NO_MICROPHONE',
        'The microphone could not be started; another application may be using it. Close it, or pick another microphone in Hush\'s options.',
      );
    default:
      return new MediaError(
        'ERR_NO_MICROPHONE',
        `The microphone could not be opened (${errorName(e)}). Check that one is connected and enabled, then call again.`,
      );
  }
}

/** An RTCPeerConnection / SDP failure as a MediaError; `doing` names the step, for the sentence. */
export function webrtcError(doing: string, e: unknown): MediaError {
  if (e instanceof MediaError) return e;
  return new MediaError(
    'ERR_WEBRTC',
    `The call's connection failed while ${doing} (${errorName(e)}). Hang up and call again; if it keeps failing, update the browser.`,
  );
}

export function transformError(detail: string): MediaError {
  return new MediaError(
    'ERR_TRANSFORM',
    `Call audio cannot be encrypted in this browser (${detail}). Update the browser; Hush never sends unencrypted audio.`,
  );
}

/** Mid-call, the last microphone went away (device-follower.ts): the call goes on, muted. */
export const MIC_GONE_MESSAGE =
  'Your microphone was disconnected: the call goes on, but they cannot hear you. Plug in a microphone and Hush uses it at once.';
