/**
 * One measured relay for bench/hot-path.bench.ts: starts hush-relay in this
 * process (`--threads 1`: every datagram on this thread), sets up the load's
 * TURN pairs, then runs hush-loadgen at a fixed rate and prints one JSON line:
 * V8 heap bytes allocated per relayed datagram (young-generation growth with a
 * young generation large enough that no GC runs in the window, checked),
 * scavenges and their pauses in a second window with the default young
 * generation, this process's CPU per datagram, and the load's loss/latency.
 *
 * argv: <relay.ts module URL> <loadgen bin> <clients> <msgs per client>
 */
import v8 from 'node:v8';
import { PerformanceObserver } from 'node:perf_hooks';
import { startLoadgen } from '../loadgen/loadgen';

const [relayUrl, bin, clientsArg, msgsArg] = process.argv.slice(2);
const SECRET = 'hot-path-bench-secret';
const clients = Number(clientsArg);
const msgs = Number(msgsArg);

const { startRelay } = (await import(relayUrl!)) as typeof import('../../relay-server/src/relay');
// A log that prints nothing (the relay logs no datagram anyway): every method a no-op.
const quiet = new Proxy({}, { get: () => () => undefined }) as never;
const relay = await startRelay(
  {
    port: 0,
    altPort: null,
    tlsPort: null,
    signalPort: null,
    authSecret: [SECRET],
    allowPeer: ['127.0.0.0/8'],
    userQuota: 100000,
    sourceQuota: 100000,
    totalQuota: 100000,
    unauthRate: 100000,
    threads: 1,
  } as never,
  { log: quiet },
);

let gcs = 0;
let gcMs = 0;
let gcMax = 0;
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcs++;
    gcMs += e.duration;
    gcMax = Math.max(gcMax, e.duration);
  }
});
obs.observe({ entryTypes: ['gc'] });

const run = await startLoadgen({ bin: bin!, host: '127.0.0.1', ports: [relay.ports.turn], secret: SECRET, clients, msgs, pps: 50, payload: 160, senders: 2 });
await run.sending;
const relayed0 = relay.stats().relayedDatagrams;
const heap0 = v8.getHeapStatistics().used_heap_size;
const cpu0 = process.cpuUsage();
const gc0 = gcs;
const gcMs0 = gcMs;
gcMax = 0;
await run.drained;
const heap1 = v8.getHeapStatistics().used_heap_size;
const cpu = process.cpuUsage(cpu0);
const relayed = relay.stats().relayedDatagrams - relayed0;
await new Promise((r) => setImmediate(r));
const r = await run.done;
obs.disconnect();
console.log(
  JSON.stringify({
    relayed,
    bytesPerDatagram: (heap1 - heap0) / relayed,
    bytesPerMessage: (heap1 - heap0) / r.summary.sent,
    gcs: gcs - gc0,
    gcMs: gcMs - gcMs0,
    gcMaxMs: gcMax,
    cpuUsPerDatagram: (cpu.user + cpu.system) / relayed,
    userUsPerDatagram: cpu.user / relayed,
    sent: r.summary.sent,
    lost: r.summary.lost,
    p50: r.summary.p50_us,
    p99: r.summary.p99_us,
    d99: r.summary.direct_p99_us,
  }),
);
await relay.close();
process.exit(0);
