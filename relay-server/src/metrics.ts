/**
 * `/metrics` in the Prometheus text exposition format (version 0.0.4:
 * `# HELP`, `# TYPE`, one sample per line, counters named `…_total`), and
 * `/healthz`. Aggregate numbers only: every series is a whole-process count
 * or gauge, the only labels are a TURN thread's index, the version, the
 * operator-chosen node id and an error code, so nothing here can
 * name a user, an address, a mailbox or a call (tests/integration/relay-ops.test.ts
 * checks a scrape taken after real traffic).
 */
import { getHeapStatistics } from 'node:v8';
import type { Counts } from './log';

/** Everything the relay counts, summed over its TURN threads. */
export interface RelayStats extends Counts {
  relayedBytes: number;
  /** TURN requests with MESSAGE-INTEGRITY that failed (wrong or expired credentials). */
  turnAuthFailed: number;
  /** Unauthenticated answers (401 challenges included: every allocation starts with one). */
  turnChallenged: number;
  peerDenied: number;
  quotaRejected: number;
  /** Of quotaRejected: refused by the per-source quota. */
  sourceQuotaRejected: number;
  /** TURN requests refused because their credential's signalling connection is gone (after the grace). */
  turnCredentialGone: number;
  drainRefused: number;
  rateLimited: number;
  malformed: number;
  /** Datagrams and frames dropped by the shells (oversize, no channel or permission, full buffers, send errors). */
  dropped: number;
  tcpConnections: number;
  /** Allocations made by each TURN thread, main thread first. */
  threadAllocations: number[];
  signalAuthOk: number;
  signalAuthFailed: number;
  signalMailboxes: number;
  signalFromOtherNodes: number;
  draining: boolean;
  reloads: number;
  reloadFailures: number;
  cluster: { up: boolean; published: number; received: number; publishFailed: number; reconnects: number } | null;
  rssBytes: number;
  heapUsedBytes: number;
  /** The main thread's event-loop delay over the last 5 s window (event-loop-delay.ts), seconds. */
  loopDelayP99?: number;
  loopDelayMax?: number;
}

type Type = 'counter' | 'gauge';
export interface Family {
  name: string;
  type: Type;
  help: string;
  samples: Array<{ labels?: Record<string, string>; value: number }>;
}

const PREFIX = 'hush_relay_';

export function family(name: string, type: Type, help: string, value: number | boolean): Family {
  return { name: PREFIX + name, type, help, samples: [{ value: typeof value === 'boolean' ? (value ? 1 : 0) : value }] };
}

/**
 * Process memory that never throws: process.memoryUsage() reads /proc and
 * throws EMFILE when the process is out of file descriptors, which must not
 * crash a stats tick, a scrape or a drain (issue 20). NaN when unknown.
 */
export function safeMemory(): { rss: number; heapUsed: number } {
  // The heap figure comes from V8 itself (no file); only the RSS reads /proc.
  const heapUsed = getHeapStatistics().used_heap_size;
  try {
    return { rss: process.memoryUsage.rss(), heapUsed };
  } catch {
    return { rss: NaN, heapUsed };
  }
}

export function metricFamilies(s: RelayStats, version: string, node: string | null = null): Family[] {
  const info: Record<string, string> = node === null ? { version } : { version, node };
  const f: Family[] = [
    { name: PREFIX + 'info', type: 'gauge', help: 'Always 1; the version of this relay and, with several nodes (--redis), its node id.', samples: [{ labels: info, value: 1 }] },
    family('draining', 'gauge', '1 while shutting down: no new allocations or connections.', s.draining),
    family('allocations', 'gauge', 'TURN allocations now.', s.allocations),
    family('allocations_peak', 'gauge', 'Most TURN allocations at once since start.', s.allocationsPeak),
    family('allocations_created_total', 'counter', 'TURN allocations made since start.', s.allocationsCreated),
    {
      name: PREFIX + 'thread_allocations_created_total',
      type: 'counter',
      help: 'TURN allocations made by each TURN thread (0 = main thread).',
      samples: s.threadAllocations.map((v, i) => ({ labels: { thread: String(i) }, value: v })),
    },
    family('relayed_packets_total', 'counter', 'Datagrams relayed between clients and peers, both ways.', s.relayedDatagrams),
    family('relayed_bytes_total', 'counter', 'Payload bytes relayed between clients and peers, both ways.', s.relayedBytes),
    family('tcp_connections', 'gauge', 'TURN clients connected over TCP or TLS now.', s.tcpConnections),
    family('turn_auth_failures_total', 'counter', 'TURN requests whose credentials did not verify (wrong secret, expired, other realm).', s.turnAuthFailed),
    family('turn_unauthenticated_total', 'counter', 'TURN requests answered before authentication (401 challenges, 438, 400).', s.turnChallenged),
    family('peer_denied_total', 'counter', 'Permissions refused for a denied peer address (403).', s.peerDenied),
    family('quota_rejected_total', 'counter', 'Allocations refused by the per-credential, per-source or total quota (486, 508).', s.quotaRejected),
    family('source_quota_rejected_total', 'counter', 'Of those, allocations refused by the per-source quota (486).', s.sourceQuotaRejected),
    family('turn_credential_gone_total', 'counter', 'TURN requests refused because the signalling connection their credential came from closed more than the grace ago (401).', s.turnCredentialGone),
    family('drain_refused_total', 'counter', 'Allocations refused while shutting down (508).', s.drainRefused),
    family('rate_limited_total', 'counter', 'Unauthenticated answers not sent because of the per-source rate limit.', s.rateLimited),
    family('malformed_total', 'counter', 'STUN messages that did not parse.', s.malformed),
    family('dropped_total', 'counter', 'Datagrams and frames dropped (oversize, no channel or permission, full buffers, send errors).', s.dropped),
    family('signal_connections', 'gauge', 'Signalling WebSocket connections now.', s.signalConnections),
    family('signal_mailboxes', 'gauge', 'Mailboxes with a connection on this node now.', s.signalMailboxes),
    family('signal_auth_ok_total', 'counter', 'Mailbox proofs that verified.', s.signalAuthOk),
    family('signal_auth_failures_total', 'counter', 'Mailbox proofs that failed or were refused as busy.', s.signalAuthFailed),
    family('envelopes_delivered_total', 'counter', 'Envelopes sent by clients here that reached at least one holder (any node).', s.signalDelivered),
    family('envelopes_unreachable_total', 'counter', 'Envelopes sent by clients here that no holder took.', s.signalUnreachable),
    family('envelopes_from_other_nodes_total', 'counter', 'Envelopes from other nodes delivered to clients here.', s.signalFromOtherNodes),
    family('reloads_total', 'counter', 'SIGHUP reloads that applied (certificate, key, secrets).', s.reloads),
    family('reload_failures_total', 'counter', 'SIGHUP reloads refused (unreadable or invalid files); the old settings stay.', s.reloadFailures),
    family('resident_memory_bytes', 'gauge', 'Resident set size of the process.', s.rssBytes),
    family('heap_used_bytes', 'gauge', 'V8 heap in use.', s.heapUsedBytes),
  ];
  if (s.loopDelayP99 !== undefined && !Number.isNaN(s.loopDelayP99)) {
    f.push(
      family('event_loop_delay_p99_seconds', 'gauge', "99th percentile of the main thread's event-loop delay over the last 5 s: how long datagrams waited behind a stall.", s.loopDelayP99),
      family('event_loop_delay_max_seconds', 'gauge', "Longest event-loop delay of the main thread over the last 5 s.", s.loopDelayMax ?? NaN),
    );
  }
  if (s.cluster) {
    f.push(
      family('cluster_redis_up', 'gauge', '1 while both Redis connections are up.', s.cluster.up),
      family('cluster_published_total', 'counter', 'Envelopes published to other nodes through Redis.', s.cluster.published),
      family('cluster_received_total', 'counter', 'Envelopes received from other nodes through Redis.', s.cluster.received),
      family('cluster_publish_failures_total', 'counter', 'Sends answered unreachable because Redis was down or slow.', s.cluster.publishFailed),
      family('cluster_reconnects_total', 'counter', 'Redis reconnection attempts.', s.cluster.reconnects),
    );
  }
  return f;
}

function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabel(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** Text exposition format 0.0.4 (content type PROMETHEUS_CONTENT_TYPE). */
export function renderPrometheus(families: Family[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = s.labels ? '{' + Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',') + '}' : '';
      out.push(`${f.name}${labels} ${Number.isFinite(s.value) ? s.value : 0}`);
    }
  }
  return out.join('\n') + '\n';
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
