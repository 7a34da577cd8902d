/**
 * AES-256-GCM through WebCrypto (the same in the service worker, the
 * offscreen document, the frame worker and Node 20). Keys are imported
 * non-extractable and the raw bytes wiped by the caller's `finally`.
 * Nonces are always derived from counters (nonce.ts), never random.
 */
import { buf } from './bytes';
import { GCM_NONCE_LEN } from './constants';
import { fail } from './errors';

export async function importAesKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.length !== 32) fail('ERR_BAD_INPUT', 'AES-256 key must be 32 bytes');
  return crypto.subtle.importKey('raw', buf(raw), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
}

export async function seal(key: CryptoKey, nonce: Uint8Array, aad: Uint8Array, plain: Uint8Array): Promise<Uint8Array> {
  const ct = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: buf(nonce), additionalData: buf(aad), tagLength: 128 },
    key,
    buf(plain),
  );
  return new Uint8Array(ct);
}

/** Decrypt or fail with ERR_DECRYPT (wrong key or tampered bytes). Never returns unauthenticated bytes. */
export async function open(key: CryptoKey, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Promise<Uint8Array> {
  try {
    const pt = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: buf(nonce), additionalData: buf(aad), tagLength: 128 },
      key,
      buf(sealed),
    );
    return new Uint8Array(pt);
  } catch {
    return fail('ERR_DECRYPT', 'message failed to authenticate (wrong key or tampered)');
  }
}

/** nonce = salt XOR (0^4 ‖ counter as u64 big-endian). `out` is reused by hot paths. */
export function counterNonce(
  salt: Uint8Array,
  counter: number,
  out: Uint8Array<ArrayBuffer> = new Uint8Array(GCM_NONCE_LEN),
): Uint8Array<ArrayBuffer> {
  out.set(salt);
  const hi = Math.floor(counter / 2 ** 32);
  const lo = counter >>> 0;
  out[4]! ^= (hi >>> 24) & 0xff;
  out[5]! ^= (hi >>> 16) & 0xff;
  out[6]! ^= (hi >>> 8) & 0xff;
  out[7]! ^= hi & 0xff;
  out[8]! ^= (lo >>> 24) & 0xff;
  out[9]! ^= (lo >>> 16) & 0xff;
  out[10]! ^= (lo >>> 8) & 0xff;
  out[11]! ^= lo & 0xff;
  return out;
}
