/**
 * Symmetric NAT detection from the browser's own server-reflexive candidates
 * (RFC 5780 §4.3, reduced to what WebRTC exposes).
 *
 * The relay answers STUN on two ports (main and alternate). Chromium sends a
 * Binding request to each from the same local socket and reports a srflx
 * candidate per distinct mapping, with the socket as its base (raddr/rport).
 * Behind an endpoint-independent NAT both servers see the same mapping (one
 * srflx per base); behind a symmetric NAT each destination gets its own, so
 * one base shows two different mapped ports (or addresses): that NAT cannot
 * be hole-punched, and the call should go to the relay at once.
 */
import type { Candidate } from './candidate';

export type NatType = 'unknown' | 'endpoint-independent' | 'symmetric';

/** Classify from the srflx candidates seen so far (any order, duplicates fine). */
export function classifyNat(candidates: readonly Candidate[]): NatType {
  const byBase = new Map<string, Set<string>>();
  for (const c of candidates) {
    if (c.type !== 'srflx' || c.protocol !== 'udp' || !c.raddr || c.rport === undefined) continue;
    const base = `${c.raddr}|${c.rport}`;
    let mapped = byBase.get(base);
    if (!mapped) byBase.set(base, (mapped = new Set()));
    mapped.add(`${c.address}|${c.port}`);
  }
  if (byBase.size === 0) return 'unknown';
  for (const mapped of byBase.values()) if (mapped.size > 1) return 'symmetric';
  return 'endpoint-independent';
}
