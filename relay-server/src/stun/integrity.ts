/**
 * MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1 over the message up to the
 * attribute, with the header length field adjusted to end right after it
 * (so a FINGERPRINT that follows is excluded). Long-term credentials
 * (§9.2.2): key = MD5(username ":" realm ":" password), the key coturn and
 * every browser use. MESSAGE-INTEGRITY-SHA256 is not offered: Chromium and
 * Firefox send SHA-1 integrity.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { HEADER_LEN } from './constants';
import type { StunMessage } from './message';

export function longTermKey(username: string, realm: string, password: string): Uint8Array {
  return createHash('md5').update(`${username}:${realm}:${password}`, 'utf8').digest();
}

export function hmacSha1(key: Uint8Array, data: Uint8Array): Uint8Array {
  return createHmac('sha1', key).update(data).digest();
}

/** Verify the MESSAGE-INTEGRITY of a decoded message with `key`. False if absent. */
export function integrityOk(msg: StunMessage, key: Uint8Array): boolean {
  if (msg.integrityAt < 0) return false;
  const at = msg.integrityAt;
  const prefix = new Uint8Array(at);
  prefix.set(msg.raw.subarray(0, at));
  const adjusted = at - HEADER_LEN + 24; // length counting MI's header and 20-byte value
  prefix[2] = adjusted >> 8;
  prefix[3] = adjusted & 0xff;
  const mac = hmacSha1(key, prefix);
  const got = msg.raw.subarray(at + 4, at + 24);
  return timingSafeEqual(mac, got);
}

/** For StunWriter.finish: the MAC of a prefix whose length field already counts MI. */
export function integrityWith(key: Uint8Array): (prefix: Uint8Array) => Uint8Array {
  return (prefix) => hmacSha1(key, prefix);
}
