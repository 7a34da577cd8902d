/**
 * FINGERPRINT (RFC 8489 §14.7): CRC-32 (ISO HDLC, the zlib/PNG polynomial
 * 0xEDB88320 reflected) over the message up to the attribute, XOR 0x5354554E.
 * The message length field must already count the FINGERPRINT attribute.
 * It tells STUN apart from other protocols on a shared port; it is not security.
 */
import { FINGERPRINT_XOR } from './constants';
import { readU32, type StunMessage } from './message';

const TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

export function crc32(bytes: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** Value of FINGERPRINT for `prefix` (the message up to, not including, the attribute). */
export function fingerprintOf(prefix: Uint8Array): number {
  return (crc32(prefix) ^ FINGERPRINT_XOR) >>> 0;
}

/** True if the message has no FINGERPRINT, or one that matches. */
export function fingerprintOk(msg: StunMessage): boolean {
  if (msg.fingerprintAt < 0) return true;
  const raw = msg.raw;
  // The length field as received already counts FINGERPRINT (it is last).
  return fingerprintOf(raw.subarray(0, msg.fingerprintAt)) === readU32(raw, msg.fingerprintAt + 4);
}
