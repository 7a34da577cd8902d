/**
 * IP address text <-> bytes, pure and allocation-light. Formatting follows
 * glibc's inet_ntop (RFC 5952 style: lower case, longest zero run compressed,
 * `::ffff:a.b.c.d` and `::a.b.c.d` printed dotted), because Node reports peer
 * addresses in that form and permission lookups compare the strings.
 */

/** Parse dotted IPv4 (strict: four decimal octets, no leading zeros beyond "0"). */
export function parseIPv4(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

/** Parse IPv6 text (with optional trailing dotted IPv4, no zone id). */
export function parseIPv6(s: string): Uint8Array | undefined {
  if (s.length < 2 || s.length > 45 || !/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  let tail: Uint8Array | undefined;
  let text = s;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.') >= 0) {
    tail = parseIPv4(s.slice(lastColon + 1));
    if (!tail) return undefined;
    text = s.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = text.indexOf('::');
  if (dbl >= 0 && text.indexOf('::', dbl + 1) >= 0) return undefined;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const gs = part.split(':');
    const out: number[] = [];
    for (const g of gs) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (dbl >= 0) {
    const head = parseGroups(text.slice(0, dbl));
    const rest = parseGroups(text.slice(dbl + 2));
    if (!head || !rest || head.length + rest.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  } else {
    const all = parseGroups(text);
    if (!all || all.length !== 8) return undefined;
    groups = all;
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i]! >> 8;
    out[2 * i + 1] = groups[i]! & 0xff;
  }
  if (tail) out.set(tail, 12);
  return out;
}

/** Parse either family; IPv6 may be given in brackets. */
export function parseIp(s: string): Uint8Array | undefined {
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  return s.includes(':') ? parseIPv6(s) : parseIPv4(s);
}

export function formatIp(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[2 * i]! << 8) | b[2 * i + 1]!);
  // Longest run of zero words (length >= 2), first on ties.
  let bestAt = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestAt = -1;
  // Embedded IPv4 printed dotted, as glibc does for ::a.b.c.d and ::ffff:a.b.c.d.
  const v4 = bestAt === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff));
  const parts: string[] = [];
  const last = v4 ? 6 : 8;
  for (let i = 0; i < last; ) {
    if (i === bestAt) {
      parts.push(i === 0 ? ':' : '');
      i += bestLen;
      if (i >= last) parts.push('');
      continue;
    }
    parts.push(w[i]!.toString(16));
    i++;
  }
  let out = parts.join(':');
  if (v4) out += (out.endsWith(':') ? '' : ':') + `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  return out;
}

/** Canonical text of an address (as Node would print it), or undefined if not an IP. */
export function canonicalIp(s: string): string | undefined {
  const b = parseIp(s);
  return b ? formatIp(b) : undefined;
}
