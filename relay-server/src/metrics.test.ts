/**
 * /metrics text: the Prometheus exposition format (every family has # HELP
 * and # TYPE, counters end in _total, values are numbers) and aggregate
 * only (the one label is a thread index).
 */
import { describe, expect, test } from 'vitest';
import { metricFamilies, renderPrometheus, type RelayStats } from './metrics';
import { EventLoopDelay } from './event-loop-delay';
import { waitFor } from '../../tests/harness/wait';

const stats: RelayStats = {
  allocations: 2, allocationsPeak: 3, allocationsCreated: 5, relayedDatagrams: 100, relayedBytes: 16000, signalConnections: 2,
  signalDelivered: 7, signalUnreachable: 1, rejected: 4, turnAuthFailed: 1, turnChallenged: 3, peerDenied: 0, quotaRejected: 0, sourceQuotaRejected: 0, turnCredentialGone: 0,
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

  test('event-loop delay gauges once a window was measured (event-loop-delay.ts), none before', async () => {
    expect(renderPrometheus(metricFamilies(stats, '0.1.0'))).not.toContain('event_loop');
    const loop = new EventLoopDelay(50, 1);
    await new Promise((r) => setTimeout(r, 5)); // the histogram samples from the loop's next turn
    const until = Date.now() + 30;
    while (Date.now() < until) {
      // a 30 ms stall of this thread's loop
    }
    await waitFor(() => loop.last.max >= 0.025, { timeout: 5_000, what: () => `a window with the 30 ms stall (last: ${JSON.stringify(loop.last)})` });
    loop.stop();
    const text = renderPrometheus(metricFamilies({ ...stats, loopDelayP99: loop.last.p99, loopDelayMax: loop.last.max }, '0.1.0'));
    expect(text).toMatch(/^hush_relay_event_loop_delay_max_seconds 0\.0[2-9]\d*|^hush_relay_event_loop_delay_max_seconds 0\.[1-9]/m);
    expect(text).toMatch(/^hush_relay_event_loop_delay_p99_seconds \d/m);
  });
});

describe('metrics: node label and the operator families (issue 20)', () => {
  test('the node id is a label of hush_relay_info; ops-watch families pass the format check', async () => {
    const { OpsWatch } = await import('./ops-watch');
    const { DEFAULTS } = await import('./config');
    const { Log } = await import('./log');
    const watch = new OpsWatch({ ...DEFAULTS }, new Log(() => undefined));
    const text = renderPrometheus([...metricFamilies(stats, '0.1.0', 'relay-1'), ...watch.families()]);
    expect(text).toContain('hush_relay_info{version="0.1.0",node="relay-1"} 1\n');
    expect(text).toMatch(/^hush_relay_open_fds [1-9]\d*$/m);
    expect(text).toMatch(/^hush_relay_max_fds [1-9]\d*$/m);
    expect(text).toContain('hush_relay_total_quota 2000\n');
    expect(text).toContain('hush_relay_user_quota 10\n');
    expect(text).toContain('hush_relay_healthy 1\n');
    for (const l of text.trimEnd().split('\n')) if (!l.startsWith('#')) expect(l).toMatch(/^hush_relay_[a-z_]+(\{[a-z_]+="[^"]*"(?:,[a-z_]+="[^"]*")*\})? (-?[0-9.e+]+)$/);
    for (const m of text.matchAll(/^# TYPE (\S+) (counter|gauge)$/gm)) expect(m[1]!.endsWith('_total')).toBe(m[2] === 'counter');
  });

  test('safeMemory never throws and gives the heap from V8', async () => {
    const { safeMemory } = await import('./metrics');
    expect(safeMemory().heapUsed).toBeGreaterThan(0);
  });
});
