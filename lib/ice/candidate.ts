/**
 * ICE candidate lines (RFC 8839 §5.1), parsed into the fields the ICE policy
 * routes on:
 *
 *   candidate:<foundation> <component> <transport> <priority> <address> <port>
 *             typ <host|srflx|prflx|relay> [raddr <address> rport <port>] [tcptype …] …
 *
 * Pure. Addresses are personal data: parsed to decide, never logged.
 */

export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';

export interface Candidate {
  foundation: string;
  component: number;
  protocol: 'udp' | 'tcp';
  priority: number;
  address: string;
  port: number;
  type: CandidateType;
  /** Related address/port: the base of a srflx, the mapped address of a relay. */
  raddr?: string;
  rport?: number;
  tcptype?: string;
}

const TYPES = new Set(['host', 'srflx', 'prflx', 'relay']);

export function parseCandidate(line: string): Candidate | undefined {
  const parts = line.replace(/^a=/, '').replace(/^candidate:/, '').trim().split(/\s+/);
  if (parts.length < 8 || parts[6] !== 'typ' || !TYPES.has(parts[7]!)) return undefined;
  const protocol = parts[2]!.toLowerCase();
  const port = Number(parts[5]);
  if ((protocol !== 'udp' && protocol !== 'tcp') || !Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  const c: Candidate = {
    foundation: parts[0]!,
    component: Number(parts[1]),
    protocol,
    priority: Number(parts[3]),
    address: parts[4]!,
    port,
    type: parts[7] as CandidateType,
  };
  for (let i = 8; i + 1 < parts.length; i += 2) {
    const [k, v] = [parts[i]!, parts[i + 1]!];
    if (k === 'raddr') c.raddr = v;
    else if (k === 'rport') c.rport = Number(v);
    else if (k === 'tcptype') c.tcptype = v;
  }
  return c;
}
