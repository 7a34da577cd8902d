/**
 * The key per-source limits count under. An IPv4 address is one source; an
 * IPv6 host usually holds a whole /64 (RFC 7421: SLAAC, privacy addresses),
 * so one attacker has 2^64 addresses and a limit keyed by the full address
 * limits nothing (issue 22: 200 connections from one /64 all accepted). So
 * IPv6 sources are keyed by their first `prefix6` bits (default 64,
 * `--source-prefix6`), and an IPv4-mapped IPv6 address (::ffff:a.b.c.d, what
 * a dual-stack socket reports) by its IPv4 address. Used by the WebSocket
 * per-IP limit, the proof-verification limit, the unauthenticated TURN
 * bucket, the failed-integrity bucket and the stream connection limits.
 * Pure; the key is never logged.
 */
import { parseIPv6 } from './ip';

export const DEFAULT_SOURCE_PREFIX6 = 64;

export function sourceKey(address: string, prefix6 = DEFAULT_SOURCE_PREFIX6): string {
  if (!address.includes(':')) return address;
  const b = parseIPv6(address.replace(/%.*$/, ''));
  if (!b) return address;
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const bits = Math.min(Math.max(prefix6, 0), 128);
  const full = bits >> 3;
  let key = Buffer.from(b.subarray(0, full)).toString('hex');
  if (bits & 7) key += (b[full]! & (0xff << (8 - (bits & 7)))).toString(16).padStart(2, '0');
  return `${key}/${bits}`;
}
