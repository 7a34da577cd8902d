/**
 * UTF-8 text attributes and their bounds (RFC 8489 §14.3 USERNAME < 513
 * bytes, §14.9 REALM < 128 characters, §14.10 NONCE < 128 characters, §14.14
 * SOFTWARE < 128 characters), and UNKNOWN-ATTRIBUTES (§14.13, a list of
 * 16-bit types). Over-long values are malformed, not truncated.
 */
import { attrValue, getAttr, type StunMessage } from './message';

export const MAX_USERNAME_BYTES = 512;
export const MAX_REALM_BYTES = 763;
export const MAX_NONCE_BYTES = 763;

const decoder = new TextDecoder('utf-8', { fatal: true });

export function textAttr(msg: StunMessage, type: number, maxBytes: number): string | undefined | null {
  const a = getAttr(msg, type);
  if (!a) return undefined;
  if (a.length > maxBytes) return null;
  try {
    return decoder.decode(attrValue(msg, a));
  } catch {
    return null;
  }
}

export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function encodeUnknownAttributes(types: number[]): Uint8Array {
  const out = new Uint8Array(types.length * 2);
  types.forEach((t, i) => {
    out[2 * i] = t >> 8;
    out[2 * i + 1] = t & 0xff;
  });
  return out;
}
