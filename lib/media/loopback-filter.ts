/**
 * Which candidates the self-test passes across with `loopbackOnly`: those on
 * 127.0.0.0/8 or ::1 (RFC 8839 candidate lines, parsed by lib/ice). Chromium
 * gathers them only with --allow-loopback-in-peer-connection. Pure.
 */
import { parseCandidate } from '../ice/candidate';

export function isLoopbackAddress(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || address === '[::1]';
}

/** true for a loopback candidate, and for the end-of-candidates marker (null / empty line). */
export function passesLoopbackFilter(candidate: RTCIceCandidateInit | null): boolean {
  if (!candidate?.candidate) return true;
  const c = parseCandidate(candidate.candidate);
  return !!c && isLoopbackAddress(c.address);
}
