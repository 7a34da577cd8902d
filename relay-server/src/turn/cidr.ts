/**
 * CIDR prefixes over 4- or 16-byte addresses: parse "a.b.c.d/n" or
 * "x::y/n" (a bare address means /32 or /128) and test membership.
 * Families never match each other here; mapped forms are unfolded by the
 * caller (peer-policy.ts) so a v4 rule sees the embedded v4 address.
 */
import { parseIp } from '../ip';

export interface Cidr {
  bytes: Uint8Array;
  bits: number;
  text: string;
}

export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const addr = parseIp(slash >= 0 ? text.slice(0, slash) : text);
  if (!addr) return undefined;
  const max = addr.length * 8;
  let bits = max;
  if (slash >= 0) {
    const b = text.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(b)) return undefined;
    bits = Number(b);
    if (bits > max) return undefined;
  }
  return { bytes: addr, bits, text };
}

export function cidrContains(c: Cidr, addr: Uint8Array): boolean {
  if (c.bytes.length !== addr.length) return false;
  let bits = c.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((c.bytes[i]! & mask) !== (addr[i]! & mask)) return false;
  }
  return true;
}
