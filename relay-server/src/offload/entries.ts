/**
 * Which kernel entries an allocation should have (pure, unit-tested in
 * entries.test.ts). One entry per channel that the userspace relay would
 * forward right now: bound and not expired (RFC 8656 §12: 10 min), with a
 * live permission for its peer IP (§9: 5 min), an IPv4 peer the peer policy
 * allows, on a UDP/IPv4 client of the main listener. Anything else (Send and
 * Data indications, TCP/TLS clients, IPv6) stays in userspace.
 */
import type { Allocation } from '../turn/allocation';

export interface OffloadAddresses {
  /** The listener's concrete IPv4 address and port (the client sends ChannelData there). */
  listenIp: string;
  listenPort: number;
  /** The IPv4 address relay sockets are bound to (the source of what goes to peers). */
  relayIp: string;
}

/** One kernel entry: both directions of one channel. */
export interface Entry {
  /** The helper's 9 entry fields, space-separated: its identity too. */
  key: string;
  /** The earlier of the channel's and the permission's expiry (ms, Date.now clock). */
  expiresAt: number;
}

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** The listener index of the main TURN port (net/turn-shell.ts binds it first). */
export const MAIN_LISTENER = 0;

export function desiredEntries(a: Allocation, at: OffloadAddresses, allowed: (address: string, port: number) => boolean, now: number): Entry[] {
  const t = a.tuple;
  if (t.transport !== 'udp' || t.family !== 4 || t.listener !== MAIN_LISTENER || !IPV4.test(t.address)) return [];
  if (a.expiresAt <= now) return [];
  const out: Entry[] = [];
  for (const ch of a.channels()) {
    if (ch.expiresAt <= now || !IPV4.test(ch.peerAddress)) continue;
    const perm = a.permission(ch.peerAddress);
    if (perm === undefined || perm <= now) continue;
    if (!allowed(ch.peerAddress, ch.peerPort)) continue;
    out.push({
      key: `${t.address} ${t.port} ${at.listenIp} ${at.listenPort} ${ch.number} ${at.relayIp} ${a.relayedAddress.port} ${ch.peerAddress} ${ch.peerPort}`,
      expiresAt: Math.min(ch.expiresAt, perm, a.expiresAt),
    });
  }
  return out;
}
