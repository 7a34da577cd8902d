/**
 * A TURN shell's aggregate counts, and summing them. The main thread and
 * every TURN thread each report a TurnStats (turn-threads.ts); the relay
 * adds them up with addCounts, key by key, so a new count is one line here
 * and nowhere else. Aggregate numbers only: never per user, address or call.
 */

export interface TurnStats {
  allocations: number;
  allocationsPeak: number;
  allocationsCreated: number;
  relayedDatagrams: number;
  relayedBytes: number;
  /** Unauthenticated answers + peers denied + quota refusals (the log's "requests rejected"). */
  rejected: number;
  challenged: number;
  authFailed: number;
  peerDenied: number;
  quotaRejected: number;
  /** Of quotaRejected: by the per-source quota. */
  sourceQuotaRejected: number;
  /** Requests refused: their credential's signalling connection is gone (turn/credential-ledger.ts). */
  credentialGone: number;
  drainRefused: number;
  rateLimited: number;
  malformed: number;
  dropped: number;
  tcpConnections: number;
}

export const ZERO_TURN_STATS: Readonly<TurnStats> = {
  allocations: 0, allocationsPeak: 0, allocationsCreated: 0, relayedDatagrams: 0, relayedBytes: 0, rejected: 0, challenged: 0,
  authFailed: 0, peerDenied: 0, quotaRejected: 0, sourceQuotaRejected: 0, credentialGone: 0, drainRefused: 0, rateLimited: 0, malformed: 0, dropped: 0, tcpConnections: 0,
};

/** Add every count of `add` into `into`, key by key (a key missing from `add` adds 0). */
export function addCounts<K extends string>(into: Record<K, number>, add: Readonly<Partial<Record<K, number>>>): void {
  for (const k of Object.keys(into) as K[]) into[k] += add[k] ?? 0;
}

/** The sum of `all`, key by key. */
export function sumTurnStats(all: Iterable<Readonly<TurnStats>>): TurnStats {
  const sum = { ...ZERO_TURN_STATS };
  for (const s of all) addCounts(sum, s);
  return sum;
}
