/**
 * /metrics text: the Prometheus exposition format (every family has # HELP
 * and # TYPE, counters end in _total, values are numbers) and aggregate
 * only (the one label is a thread index).
 */
import { describe, expect, test } from 'vitest';
import { metricFamilies, renderPrometheus, type RelayStats } from './metrics';

const stats: RelayStats = {
  allocations: 2, allocationsPeak: 3, allocationsCreated: 5, relayedDatagrams: 100, relayedBytes: 16000, signalConnections: 2,
  signalDelivered: 7, signalUnreachable: 1, rejected: 4, turnAuthFailed: 1, turnChallenged: 3, peerDenied: 0, quotaRejected: 0,
  drainRefused: 0, rateLimited: 0, malformed: 0, dropped: 2, tcpConnections: 0, threadAllocations: [3, 2], signalAuthOk: 2,
  signalAuthFailed: 0, signalMailboxes: 2, signalFromOtherNodes: 0, draining: false, reloads: 1, reloadFailures: 0,
  cluster: { up: true, published: 4, received: 3, publishFailed: 0, reconnects: 0 }, rssBytes: 1, heapUsedBytes: 1,
};

describe('metrics', () => {
  test('exposition format: HELP and TYPE once per family, then its samples', () => {
    const text = renderPrometheus(metricFamilies(stats, '0.1.0'));
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n');
    const types = new Map<string, string>();
    for (const l of lines) {
      if (l.startsWith('# HELP ')) continue;
      const t = /^# TYPE (\S+) (counter|gauge)$/.exec(l);
      if (t) {
        expect(types.has(t[1]!)).toBe(false);
        types.set(t[1]!, t[2]!);
        continue;
      }
      const m = /^([a-z_]+)(\{[a-z_]+="[^"]*"(?:,[a-z_]+="[^"]*")*\})? (-?[0-9.e+]+)$/.exec(l);
      expect(m, l).not.toBeNull();
      expect(types.has(m![1]!), `${m![1]} sampled before its TYPE`).toBe(true);
    }
    for (const [name, type] of types) {
      expect(name.startsWith('hush_relay_')).toBe(true);
      expect(name.endsWith('_total')).toBe(type === 'counter');
    }
    expect(text).toContain('hush_relay_relayed_bytes_total 16000\n');
    expect(text).toContain('hush_relay_thread_allocations_created_total{thread="1"} 2\n');
    expect(text).toContain('hush_relay_cluster_redis_up 1\n');
  });

  test('no cluster families for one node', () => {
    expect(renderPrometheus(metricFamilies({ ...stats, cluster: null }, '0.1.0'))).not.toContain('cluster');
  });
});
