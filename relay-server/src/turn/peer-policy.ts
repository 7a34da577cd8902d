/**
 * Which peer addresses an allocation may relay to. Denied unless the
 * operator allowed them: the ranges below (loopback, private, link-local,
 * reserved…: the host's loopback and the networks behind it), in every
 * spelling. This table cannot know the relay's own public addresses: those
 * are refused by self-peer.ts (checked by the core next to this policy, and
 * not opened by `--allow-peer`). coturn's CVE-2020-26262 let
 * 0.0.0.0, [::] and [::1] through a loopback ban; CVE-2026-27624 let
 * ::ffff:127.0.0.1 through because a v4 rule never saw the v4 address
 * embedded in a v6 one. So here a v6 address that embeds a v4 address
 * (IPv4-mapped, IPv4-translated, IPv4-compatible, NAT64 64:ff9b::/96, 6to4)
 * is checked against the v4 rules too, and denied if either form is.
 *
 * An `--allow-peer` CIDR wins over the deny table; it matches the literal
 * address, or for ::ffff:-mapped forms (which reach the very same v4 host)
 * the embedded v4 address.
 */
import { parseIp } from '../ip';
import { cidrContains, parseCidr, type Cidr } from './cidr';

/** The default deny table, each entry with its reason. */
export const DENIED_RANGES: ReadonlyArray<readonly [string, string]> = [
  ['0.0.0.0/8', '"this network"; 0.0.0.0 reaches the host itself (CVE-2020-26262)'],
  ['10.0.0.0/8', 'private (RFC 1918)'],
  ['100.64.0.0/10', 'carrier-grade NAT shared space (RFC 6598)'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local, includes cloud metadata 169.254.169.254'],
  ['172.16.0.0/12', 'private (RFC 1918)'],
  ['192.0.0.0/24', 'IETF protocol assignments (RFC 6890)'],
  ['192.168.0.0/16', 'private (RFC 1918)'],
  ['198.18.0.0/15', 'benchmarking, often internal (RFC 2544)'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved, includes broadcast 255.255.255.255'],
  ['::/96', 'unspecified ::, loopback ::1 and deprecated IPv4-compatible forms'],
  ['::ffff:0:0:0/96', 'IPv4-translated (SIIT), checked by its v4 address too'],
  ['64:ff9b:1::/48', 'local-use NAT64 (RFC 8215): the operator\'s own translator'],
  ['100::/64', 'discard-only (RFC 6666)'],
  ['2001::/32', 'Teredo: embedded address is obfuscated, cannot be checked'],
  ['fc00::/7', 'unique local (private v6)'],
  ['fe80::/10', 'link-local v6'],
  ['fec0::/10', 'site-local v6 (deprecated, still routed internally)'],
  ['ff00::/8', 'multicast v6'],
];

export type PeerVerdict = { allowed: true } | { allowed: false; reason: string };

export class PeerPolicy {
  private readonly deny: Array<{ cidr: Cidr; reason: string }>;
  private readonly allow: Cidr[];

  constructor(allow: string[] = [], deny: ReadonlyArray<readonly [string, string]> = DENIED_RANGES) {
    this.deny = deny.map(([c, reason]) => ({ cidr: mustCidr(c), reason }));
    this.allow = allow.map(mustCidr);
  }

  /** Ranges the operator allowed, as given (for the startup line). */
  allowed(): string[] {
    return this.allow.map((c) => c.text);
  }

  check(address: string): PeerVerdict {
    const bytes = parseIp(address);
    if (!bytes) return { allowed: false, reason: 'not an IP address' };
    const embedded = bytes.length === 16 ? embeddedV4(bytes) : undefined;
    for (const c of this.allow) {
      if (cidrContains(c, bytes)) return { allowed: true };
      if (embedded && embedded.mapped && cidrContains(c, embedded.v4)) return { allowed: true };
    }
    for (const d of this.deny) {
      if (cidrContains(d.cidr, bytes)) return { allowed: false, reason: d.reason };
      if (embedded && cidrContains(d.cidr, embedded.v4)) return { allowed: false, reason: `embeds a denied IPv4 address: ${d.reason}` };
    }
    return { allowed: true };
  }
}

function mustCidr(text: string): Cidr {
  const c = parseCidr(text);
  if (!c) throw new TypeError(`not a CIDR range: ${text}`);
  return c;
}

/**
 * The v4 address a v6 address embeds, if any. `mapped` is true for
 * ::ffff:a.b.c.d, the one form that is the same destination as the v4 host.
 */
export function embeddedV4(b: Uint8Array): { v4: Uint8Array; mapped: boolean } | undefined {
  const zeros = (from: number, to: number) => b.subarray(from, to).every((x) => x === 0);
  const last4 = b.slice(12, 16);
  // ::ffff:a.b.c.d  IPv4-mapped (RFC 4291 §2.5.5.2)
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return { v4: last4, mapped: true };
  // ::ffff:0:a.b.c.d  IPv4-translated (RFC 2765)
  if (zeros(0, 8) && b[8] === 0xff && b[9] === 0xff && b[10] === 0 && b[11] === 0) return { v4: last4, mapped: false };
  // ::a.b.c.d  IPv4-compatible (deprecated, RFC 4291 §2.5.5.1)
  if (zeros(0, 12)) return { v4: last4, mapped: false };
  // 64:ff9b::/96 NAT64 well-known prefix (RFC 6052)
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) return { v4: last4, mapped: false };
  // 2002:V4::/48 6to4 (RFC 3056)
  if (b[0] === 0x20 && b[1] === 0x02) return { v4: b.slice(2, 6), mapped: false };
  return undefined;
}
