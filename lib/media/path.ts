/**
 * Which path the call takes, read from an RTCPeerConnection's getStats()
 * report (W3C webrtc-stats: RTCTransportStats, RTCIceCandidatePairStats,
 * RTCIceCandidateStats). Pure: no browser objects, so it is unit-tested on
 * recorded reports (fixtures/).
 *
 * The selected pair is found the way each browser exposes it:
 *   1. transport.selectedCandidatePairId (Chromium; the spec's way),
 *   2. a candidate-pair with `selected: true` (Firefox's non-standard flag),
 *   3. a nominated, succeeded candidate-pair (last resort, e.g. a report taken
 *      before the transport stats caught up).
 *
 * The path is 'relay' if either end of that pair is a relayed candidate (our
 * TURN allocation, or the peer's), 'p2p' when both ends are host, srflx or
 * prflx, 'unknown' when there is no selected pair yet or a type is missing.
 *
 * Caveat: a peer first seen through its connectivity check is typed prflx
 * (RFC 8445 §7.3.1.3) even when the address is the peer's TURN relay; the
 * browser retypes it when the signalled candidate arrives (libwebrtc does,
 * within a few hundred ms in the tests). Until then, a call relayed only on
 * the peer's side reads 'p2p'. Our own relay is always known at once.
 */
import type { PathKind, SelectedPath } from './types';

/** What getStats() returns, reduced to what we read (RTCStatsReport and Map both fit). */
export interface StatsReportLike {
  forEach(cb: (value: unknown, key: string) => void): void;
}

type Stat = Record<string, unknown> & { id: string; type: string };

const DIRECT_TYPES: ReadonlySet<string> = new Set(['host', 'srflx', 'prflx']);

/** The report's entries as plain records, by id. */
export function statsById(report: StatsReportLike): Map<string, Stat> {
  const out = new Map<string, Stat>();
  report.forEach((value, key) => {
    if (typeof value === 'object' && value !== null && typeof (value as Stat).type === 'string') {
      out.set(key, value as Stat);
    }
  });
  return out;
}

/** The candidate pair ICE selected, or undefined before one is. */
export function selectedCandidatePair(stats: Map<string, Stat>): Stat | undefined {
  for (const s of stats.values()) {
    if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') {
      const pair = stats.get(s.selectedCandidatePairId);
      if (pair) return pair;
    }
  }
  const pairs = [...stats.values()].filter((s) => s.type === 'candidate-pair');
  return pairs.find((p) => p.selected === true) ?? pairs.find((p) => p.nominated === true && p.state === 'succeeded');
}

export function pathKind(localType: string | undefined, remoteType: string | undefined): PathKind {
  if (localType === 'relay' || remoteType === 'relay') return 'relay';
  if (localType && remoteType && DIRECT_TYPES.has(localType) && DIRECT_TYPES.has(remoteType)) return 'p2p';
  return 'unknown';
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The selected path (and its round-trip time) from a getStats() report. */
export function selectedPath(report: StatsReportLike): SelectedPath & { roundTripMs?: number } {
  const stats = statsById(report);
  const pair = selectedCandidatePair(stats);
  if (!pair) return { path: 'unknown' };
  const local = stats.get(String(pair.localCandidateId));
  const remote = stats.get(String(pair.remoteCandidateId));
  const localType = str(local?.candidateType) as RTCIceCandidateType | undefined;
  const remoteType = str(remote?.candidateType) as RTCIceCandidateType | undefined;
  const out: SelectedPath & { roundTripMs?: number } = { path: pathKind(localType, remoteType) };
  if (localType) out.localType = localType;
  if (remoteType) out.remoteType = remoteType;
  // relayProtocol: how *we* reach our TURN server (udp/tcp/tls); only on a local relay candidate.
  const relayProtocol = localType === 'relay' ? str(local?.relayProtocol) : undefined;
  if (relayProtocol) out.relayProtocol = relayProtocol;
  const protocol = str(local?.protocol);
  if (protocol) out.protocol = protocol;
  if (typeof pair.currentRoundTripTime === 'number') out.roundTripMs = pair.currentRoundTripTime * 1000;
  return out;
}
