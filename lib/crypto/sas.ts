/**
 * Short authentication string (docs/protocol.md §5.2): six digits read aloud
 * ("482 915"), equal on both screens unless someone substituted keys.
 *
 *   commit_B = H("hush/v2/sas/commit" ‖ nonce_B)                         in RESPONSE, signed by B (TH2)
 *   SAS      = u32(H("hush/v2/sas/code" ‖ sas_secret ‖ nonce_B)[0..4]) mod 10^6
 *
 * `sas_secret` comes from the key schedule, so it is bound to the whole
 * transcript, CONFIRM included; `nonce_B` is the callee's fresh 32 bytes,
 * committed in RESPONSE and revealed only after it verified CONFIRM (REVEAL).
 * So when the caller fixes its last contribution (CONFIRM) it does not know
 * nonce_B, and when the callee fixes nonce_B (RESPONSE) it does not know
 * CONFIRM: neither side can steer the SAS, and a man in the middle gets one
 * guess (10^-6) per call it completes with each side (ZRTP, RFC 6189 §4.4.1.1,
 * uses the same hash commitment to stop SAS grinding).
 * Digits read the same in English and French.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { abytes, concat, utf8 } from './bytes';
import { SAS_NONCE_LEN } from './constants';

export const SAS_DIGITS = 6;
const COMMIT_DS = utf8('hush/v2/sas/commit');
const CODE_DS = utf8('hush/v2/sas/code');

/** The callee's commitment to its SAS nonce (hiding: 256-bit preimage; binding: SHA-256 collisions). */
export function sasCommitment(nonce: Uint8Array): Uint8Array {
  abytes(nonce, SAS_NONCE_LEN, 'SAS nonce');
  return sha256(concat(COMMIT_DS, nonce));
}

/** The six digits, as "ddd ddd", from the transcript-bound secret and the revealed nonce. */
export function sasCode(sasSecret: Uint8Array, nonce: Uint8Array): string {
  abytes(sasSecret, 32, 'SAS secret');
  abytes(nonce, SAS_NONCE_LEN, 'SAS nonce');
  const d = sha256(concat(CODE_DS, sasSecret, nonce));
  const n = ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0;
  const digits = String(n % 10 ** SAS_DIGITS).padStart(SAS_DIGITS, '0');
  return `${digits.slice(0, 3)} ${digits.slice(3)}`;
}
