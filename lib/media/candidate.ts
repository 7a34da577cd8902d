/**
 * The fields of an ICE candidate line we route on (RFC 8839 §5.1):
 *
 *   candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> …
 *
 * Used by the self-test loopback to keep only loopback candidates; never
 * logged (an address is personal data).
 */

export interface CandidateFields {
  protocol: string;
  address: string;
  port: number;
  type: string;
}

export function parseCandidate(line: string): CandidateFields | undefined {
  const parts = line.replace(/^a=/, '').replace(/^candidate:/, '').trim().split(/\s+/);
  if (parts.length < 8 || parts[6] !== 'typ') return undefined;
  const port = Number(parts[5]);
  if (!Number.isInteger(port)) return undefined;
  return { protocol: parts[2]!.toLowerCase(), address: parts[4]!, port, type: parts[7]! };
}

/** 127.0.0.0/8 or ::1. */
export function isLoopbackAddress(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || address === '[::1]';
}
