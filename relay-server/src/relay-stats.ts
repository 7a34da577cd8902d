/**
 * The relay's numbers, gathered from its parts: the TURN shells of the main
 * thread and every TURN thread (summed key by key, net/turn-stats.ts), the
 * signalling router, the cluster link, reloads, process memory. Aggregate
 * counts only (metrics.ts says why).
 */
import type { EventLoopDelay } from './event-loop-delay';
import type { Counts } from './log';
import { safeMemory, type RelayStats } from './metrics';
import type { Cluster } from './net/cluster';
import type { SignalServer } from './net/signal-server';
import type { TurnShell } from './net/turn-shell';
import { sumTurnStats } from './net/turn-stats';
import type { TurnThreads } from './net/turn-threads';

export interface StatsSources {
  turn: TurnShell;
  threads: TurnThreads;
  signal: SignalServer | undefined;
  cluster: Cluster | undefined;
  draining: boolean;
  reloads: number;
  reloadFailures: number;
  loop?: EventLoopDelay;
}

export function relayStats(p: StatsSources): RelayStats {
  const main = p.turn.stats();
  const t = sumTurnStats([main, p.threads.counts()]);
  const mem = safeMemory(); // never throws, even out of file descriptors
  const r = p.signal?.router.counters;
  return {
    allocations: t.allocations,
    allocationsPeak: t.allocationsPeak,
    allocationsCreated: t.allocationsCreated,
    relayedDatagrams: t.relayedDatagrams,
    relayedBytes: t.relayedBytes,
    signalConnections: p.signal?.connectionCount ?? 0,
    signalDelivered: r?.delivered ?? 0,
    signalUnreachable: r?.unreachable ?? 0,
    rejected: t.rejected,
    turnAuthFailed: t.authFailed,
    turnChallenged: t.challenged,
    peerDenied: t.peerDenied,
    quotaRejected: t.quotaRejected,
    sourceQuotaRejected: t.sourceQuotaRejected,
    turnCredentialGone: t.credentialGone,
    drainRefused: t.drainRefused,
    rateLimited: t.rateLimited,
    malformed: t.malformed,
    dropped: t.dropped,
    tcpConnections: t.tcpConnections,
    threadAllocations: [main.allocationsCreated, ...p.threads.perThread()],
    signalAuthOk: r?.authOk ?? 0,
    signalAuthFailed: r?.authFailed ?? 0,
    signalMailboxes: p.signal?.router.liveMailboxes ?? 0,
    signalFromOtherNodes: r?.fromOtherNodes ?? 0,
    draining: p.draining,
    reloads: p.reloads,
    reloadFailures: p.reloadFailures,
    cluster: p.cluster ? { up: p.cluster.up, ...p.cluster.counters } : null,
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    loopDelayP99: p.loop?.last.p99,
    loopDelayMax: p.loop?.last.max,
  };
}

/** The counts the log prints (a subset of the stats). */
export function countsOf(s: RelayStats): Counts {
  return {
    allocations: s.allocations,
    allocationsPeak: s.allocationsPeak,
    allocationsCreated: s.allocationsCreated,
    relayedDatagrams: s.relayedDatagrams,
    signalConnections: s.signalConnections,
    signalDelivered: s.signalDelivered,
    signalUnreachable: s.signalUnreachable,
    rejected: s.rejected,
  };
}
