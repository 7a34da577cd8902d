/**
 * Reads a relay's /metrics (Prometheus text exposition format) into a map
 * from sample (name plus labels, as printed) to value:
 *
 *   const m = await scrapeMetrics(`http://127.0.0.1:${relay.signalPort}`);
 *   m['hush_relay_allocations']; m['hush_relay_thread_allocations_created_total{thread="1"}']
 */
export function parsePrometheus(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return out;
}

/** The header test relays want for /metrics (harness/relay.ts starts them with --metrics-token). */
export const METRICS_AUTH = { authorization: 'Bearer hush-test-metrics-token-0123456789' };

export async function scrapeMetrics(base: string): Promise<Record<string, number>> {
  const r = await fetch(`${base}/metrics`, { headers: METRICS_AUTH });
  if (!r.ok || !(r.headers.get('content-type') ?? '').startsWith('text/plain')) throw new Error(`/metrics answered ${r.status} ${r.headers.get('content-type')}`);
  return parsePrometheus(await r.text());
}
