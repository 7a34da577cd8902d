/**
 * Typed errors of the crypto core. Every failure has a stable `code` that
 * callers switch on, and a message a person can act on. Nothing here ever
 * carries key bytes or plaintext.
 */
export type CryptoErrorCode =
  | 'ERR_BAD_INPUT' // wrong type or length at a boundary
  | 'ERR_BAD_ADDRESS' // not a Hush address, or its checksum fails (a typo)
  | 'ERR_BAD_BUNDLE' // identity public keys malformed
  | 'ERR_ADDRESS_MISMATCH' // keys presented do not hash to the address dialled
  | 'ERR_BAD_SIGNATURE' // a transcript or challenge signature does not verify
  | 'ERR_HANDSHAKE_STATE' // a handshake message arrived in the wrong state
  | 'ERR_HANDSHAKE_FORMAT' // a handshake message is malformed
  | 'ERR_COMMITMENT' // the callee's revealed SAS nonce does not match its commitment in RESPONSE
  | 'ERR_UNSUPPORTED_VERSION'
  | 'ERR_DECRYPT' // a sealed envelope failed to authenticate (wrong key or tampered)
  | 'ERR_FRAME_TRUNCATED'
  | 'ERR_FRAME_TOO_LARGE'
  | 'ERR_FRAME_HEADER' // reserved bits set or unknown key id
  | 'ERR_FRAME_AUTH' // frame failed AES-GCM authentication
  | 'ERR_REPLAYED_FRAME' // counter already seen
  | 'ERR_STALE_FRAME' // counter older than the replay window
  | 'ERR_KEY_EXHAUSTED'; // no key epoch left (never reached in practice)

export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  constructor(
    readonly code: CryptoErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function fail(code: CryptoErrorCode, message: string): never {
  throw new CryptoError(code, message);
}

export function isCryptoError(e: unknown, code?: CryptoErrorCode): e is CryptoError {
  return e instanceof CryptoError && (code === undefined || e.code === code);
}

/** A result type for hot paths and boundaries where throwing is not wanted. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: CryptoError };

/** Run `fn`, turning any thrown error into a typed failure (never lets a throw escape). */
export function attempt<T>(fn: () => T, fallback: CryptoErrorCode = 'ERR_BAD_INPUT'): Result<T> {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    return { ok: false, error: asCryptoError(e, fallback) };
  }
}

export async function attemptAsync<T>(
  fn: () => Promise<T>,
  fallback: CryptoErrorCode = 'ERR_BAD_INPUT',
): Promise<Result<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, error: asCryptoError(e, fallback) };
  }
}

function asCryptoError(e: unknown, fallback: CryptoErrorCode): CryptoError {
  if (e instanceof CryptoError) return e;
  // Library errors (noble, WebCrypto) may be anything; keep only their class name.
  const kind = e instanceof Error ? e.name : typeof e;
  return new CryptoError(fallback, `operation failed (${kind})`);
}
