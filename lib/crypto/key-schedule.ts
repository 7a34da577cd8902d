/**
 * The key schedule (docs/protocol.md §Key schedule). HKDF-SHA-256 (RFC 5869)
 * throughout; every label is a distinct constant string under "hush/v1/".
 *
 *   HS  = HKDF-Extract(salt = TH1, ikm = ss_mlkem_eph ‖ ss_x25519_eph)
 *   hs_a2b, hs_b2a  = HKDF-Expand(HS, "hush/v1/hs/{a2b,b2a}", 32)   seal m3 / m2
 *   MS  = HKDF-Extract(salt = TH_final, ikm = HS ‖ ss_mlkem_static ‖ ss_x25519_static)
 *   frame_{a2b,b2a}  = HKDF-Expand(MS, "hush/v1/frame/{a2b,b2a}", 32)
 *   signal_{a2b,b2a} = HKDF-Expand(MS, "hush/v1/signal/{a2b,b2a}", 32)
 *   sas              = HKDF-Expand(MS, "hush/v1/sas", 4)
 *
 * Per frame epoch e (frame-cipher.ts), from a direction's frame secret F:
 *   key_e  = HKDF(F, salt = "", info = "hush/v1/frame/key" ‖ u32(e), 32)
 *   salt_e = HKDF(F, salt = "", info = "hush/v1/frame/salt" ‖ u32(e), 12)
 * These two run in WebCrypto with F imported non-extractable; `frameEpochKeys`
 * below is the byte-level reference the vectors are checked against.
 */
import { expand, extract, hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, u32be, utf8, wipe } from './bytes';

const L = {
  hsA2b: utf8('hush/v1/hs/a2b'),
  hsB2a: utf8('hush/v1/hs/b2a'),
  frameA2b: utf8('hush/v1/frame/a2b'),
  frameB2a: utf8('hush/v1/frame/b2a'),
  signalA2b: utf8('hush/v1/signal/a2b'),
  signalB2a: utf8('hush/v1/signal/b2a'),
  sas: utf8('hush/v1/sas'),
} as const;
export const FRAME_KEY_INFO = utf8('hush/v1/frame/key');
export const FRAME_SALT_INFO = utf8('hush/v1/frame/salt');

export interface HandshakeSecrets {
  hs: Uint8Array;
  a2b: Uint8Array;
  b2a: Uint8Array;
}

export function handshakeSecrets(th1: Uint8Array, ssKem: Uint8Array, ssX: Uint8Array): HandshakeSecrets {
  const ikm = concat(ssKem, ssX);
  try {
    const hs = extract(sha256, ikm, th1);
    return { hs, a2b: expand(sha256, hs, L.hsA2b, 32), b2a: expand(sha256, hs, L.hsB2a, 32) };
  } finally {
    wipe(ikm);
  }
}

/** Everything a call needs once the handshake completed. Raw bytes: import, then wipe. */
export interface SessionSecrets {
  frameA2b: Uint8Array;
  frameB2a: Uint8Array;
  signalA2b: Uint8Array;
  signalB2a: Uint8Array;
  sas: Uint8Array;
}

export function sessionSecrets(thFinal: Uint8Array, hs: Uint8Array, ssKemStatic: Uint8Array, ssXStatic: Uint8Array): SessionSecrets {
  const ikm = concat(hs, ssKemStatic, ssXStatic);
  const ms = extract(sha256, ikm, thFinal);
  try {
    return {
      frameA2b: expand(sha256, ms, L.frameA2b, 32),
      frameB2a: expand(sha256, ms, L.frameB2a, 32),
      signalA2b: expand(sha256, ms, L.signalA2b, 32),
      signalB2a: expand(sha256, ms, L.signalB2a, 32),
      sas: expand(sha256, ms, L.sas, 4),
    };
  } finally {
    wipe(ikm, ms);
  }
}

export function wipeSessionSecrets(s: SessionSecrets): void {
  wipe(s.frameA2b, s.frameB2a, s.signalA2b, s.signalB2a, s.sas);
}

/** Byte-level reference for one frame epoch (the worker does the same in WebCrypto). */
export function frameEpochKeys(frameSecret: Uint8Array, epoch: number): { key: Uint8Array; salt: Uint8Array } {
  const e = u32be(epoch);
  return {
    key: hkdf(sha256, frameSecret, new Uint8Array(0), concat(FRAME_KEY_INFO, e), 32),
    salt: hkdf(sha256, frameSecret, new Uint8Array(0), concat(FRAME_SALT_INFO, e), 12),
  };
}
