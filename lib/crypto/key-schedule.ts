/**
 * The key schedule (docs/protocol.md §6). HKDF-SHA-256 (RFC 5869)
 * throughout; every label is a distinct constant string under "hush/v2/".
 *
 *   HS  = HKDF-Extract(salt = TH1, ikm = ss_mlkem_eph ‖ ss_x25519_eph)
 *   hs_a2b, hs_b2a  = HKDF-Expand(HS, "hush/v2/hs/{a2b,b2a}", 32)   seal CONFIRM / RESPONSE
 *   MS  = HKDF-Extract(salt = THf, ikm = HS ‖ ss_mlkem_static ‖ ss_x25519_static)
 *   frame_{a2b,b2a}  = HKDF-Expand(MS, "hush/v2/frame/{a2b,b2a}", 32)
 *   signal_{a2b,b2a} = HKDF-Expand(MS, "hush/v2/signal/{a2b,b2a}", 32)
 *   sas_secret       = HKDF-Expand(MS, "hush/v2/sas", 32)          SAS input, with the callee's revealed nonce (sas.ts)
 *   reveal_key       = HKDF-Expand(MS, "hush/v2/reveal", 32)       seals REVEAL (used once: nonce 0)
 *   admit_{a2b,b2a}  = HKDF-Expand(MS, "hush/v2/admit/{a2b,b2a}", 32)   admission tokens (admit-tag.ts)
 *
 * Per frame epoch e (frame-cipher.ts), from a direction's frame secret F:
 *   key_e  = HKDF(F, salt = "", info = "hush/v2/frame/key" ‖ u32(e), 32)
 *   salt_e = HKDF(F, salt = "", info = "hush/v2/frame/salt" ‖ u32(e), 12)
 * These two run in WebCrypto with F imported non-extractable; `frameEpochKeys`
 * below is the byte-level reference the vectors are checked against.
 */
import { expand, extract, hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, u32be, utf8, wipe } from './bytes';

const L = {
  hsA2b: utf8('hush/v2/hs/a2b'),
  hsB2a: utf8('hush/v2/hs/b2a'),
  frameA2b: utf8('hush/v2/frame/a2b'),
  frameB2a: utf8('hush/v2/frame/b2a'),
  signalA2b: utf8('hush/v2/signal/a2b'),
  signalB2a: utf8('hush/v2/signal/b2a'),
  sas: utf8('hush/v2/sas'),
  reveal: utf8('hush/v2/reveal'),
  admitA2b: utf8('hush/v2/admit/a2b'),
  admitB2a: utf8('hush/v2/admit/b2a'),
} as const;
export const FRAME_KEY_INFO = utf8('hush/v2/frame/key');
export const FRAME_SALT_INFO = utf8('hush/v2/frame/salt');

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

/** What the call needs once the handshake completed. Raw bytes: import, then wipe. */
export interface SessionSecrets {
  frameA2b: Uint8Array;
  frameB2a: Uint8Array;
  signalA2b: Uint8Array;
  signalB2a: Uint8Array;
}

/**
 * What the handshake keeps for its last step (REVEAL) and hands out only
 * after it: the SAS secret, the key sealing REVEAL, the admission tokens.
 */
export interface ConfirmationSecrets {
  sas: Uint8Array;
  reveal: Uint8Array;
  admitA2b: Uint8Array;
  admitB2a: Uint8Array;
}

export function sessionSecrets(
  thFinal: Uint8Array,
  hs: Uint8Array,
  ssKemStatic: Uint8Array,
  ssXStatic: Uint8Array,
): { session: SessionSecrets; confirmation: ConfirmationSecrets } {
  const ikm = concat(hs, ssKemStatic, ssXStatic);
  const ms = extract(sha256, ikm, thFinal);
  try {
    return {
      session: {
        frameA2b: expand(sha256, ms, L.frameA2b, 32),
        frameB2a: expand(sha256, ms, L.frameB2a, 32),
        signalA2b: expand(sha256, ms, L.signalA2b, 32),
        signalB2a: expand(sha256, ms, L.signalB2a, 32),
      },
      confirmation: {
        sas: expand(sha256, ms, L.sas, 32),
        reveal: expand(sha256, ms, L.reveal, 32),
        admitA2b: expand(sha256, ms, L.admitA2b, 32),
        admitB2a: expand(sha256, ms, L.admitB2a, 32),
      },
    };
  } finally {
    wipe(ikm, ms);
  }
}

export function wipeSessionSecrets(s: SessionSecrets): void {
  wipe(s.frameA2b, s.frameB2a, s.signalA2b, s.signalB2a);
}

export function wipeConfirmationSecrets(c: ConfirmationSecrets | undefined): void {
  if (c) wipe(c.sas, c.reveal, c.admitA2b, c.admitB2a);
}

/** Byte-level reference for one frame epoch (the worker does the same in WebCrypto). */
export function frameEpochKeys(frameSecret: Uint8Array, epoch: number): { key: Uint8Array; salt: Uint8Array } {
  const e = u32be(epoch);
  return {
    key: hkdf(sha256, frameSecret, new Uint8Array(0), concat(FRAME_KEY_INFO, e), 32),
    salt: hkdf(sha256, frameSecret, new Uint8Array(0), concat(FRAME_SALT_INFO, e), 12),
  };
}
