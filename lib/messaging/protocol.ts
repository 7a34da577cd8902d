/**
 * The message unions between the extension's contexts, one per boundary.
 *
 * Every message carries a `target` so each context drops what is not its own
 * (runtime.sendMessage reaches every extension page at once), and a `kind`
 * that one `switch` per receiver handles exhaustively (see style.md §6).
 *
 *   popup ──PopupRequest──▶ background ──OffscreenRequest──▶ offscreen
 *   popup ◀──(responses)─── background ◀──(responses)──────── offscreen
 */

/** Requests the popup (and options page) send to the background. */
export type PopupRequest = { target: 'background'; kind: 'status' };

/** What the background answers to `status`. */
export interface StatusResponse {
  ok: true;
  version: string;
  offscreen: OffscreenPong | { error: string };
}

/** Requests the background sends to the offscreen document. */
export type OffscreenRequest = { target: 'offscreen'; kind: 'ping'; nonce: string };

export interface OffscreenPong {
  kind: 'pong';
  nonce: string;
  /** Media capabilities the call needs, as seen from the offscreen document. */
  capabilities: MediaCapabilities;
}

export interface MediaCapabilities {
  peerConnection: boolean;
  scriptTransform: boolean;
  encodedStreams: boolean;
  getUserMedia: boolean;
}

/** Narrow an unknown runtime message to one addressed to `target`. */
export function isFor<T extends { target: string }>(
  msg: unknown,
  target: T['target'],
): msg is T {
  return (
    typeof msg === 'object' &&
    msg !== null &&
    (msg as { target?: unknown }).target === target &&
    typeof (msg as { kind?: unknown }).kind === 'string'
  );
}

/** The exhaustiveness check at the end of every message `switch`. */
export function unreachable(x: never): never {
  throw new Error(`unhandled message kind: ${JSON.stringify(x)}`);
}
