/**
 * `npm run bench -- floods`: the relay under floods on loopback, with a live
 * call running through it (tests/harness/floods.ts, tests/harness/live-call.ts,
 * docs/hardening.md).
 *
 * One relay (the real CLI) for the whole run, with its defaults except
 * --allow-peer 127.0.0.0/8 (the live call relays between two loopback
 * clients) and a total quota and signalling limit low enough to reach here.
 * The live call (two TURN clients, 160-byte ChannelData both ways at 50/s,
 * plus an authenticated signalling connection pinging every 100 ms) runs in
 * its own process from start to end. Each flood is printed with:
 *
 *   - what was sent, and how the relay answered, counted by the flooder;
 *   - the relay's own counters that moved (/metrics);
 *   - the live call during the flood against its baseline: loss, one-way
 *     p50/p99 latency, signalling ping p50/p99;
 *   - the relay's peak RSS during the flood (VmHWM, reset before each flood
 *     through /proc/<pid>/clear_refs), RSS after, and its V8 heap after a
 *     full GC (the relay runs with gc-before-memory.ts: its memory figures follow a GC);
 *   - whether it still answers (STUN Binding, WebSocket challenge, /healthz).
 *
 * Then the heaviest floods run a second time: memory that is bounded
 * comes back to the same figures instead of growing with the traffic.
 *
 * HUSH_FLOOD_SCALE=0.2 shrinks every flood (counts and durations).
 */
import { identityFromSeed } from '../lib/crypto/identity';
import { startRelayProcess } from '../tests/harness/relay';
import { GC_BEFORE_MEMORY } from './gc-before-memory';
import { startLiveCall, type LiveCall } from '../tests/harness/live-call';
import {
  allocationFlood,
  badIntegrityFlood,
  badProofFlood,
  evenPortCycles,
  slowConnectionFlood,
  wsPingFlood,
  callLine,
  invalidTcpFlood,
  invalidUdpFlood,
  mb,
  permissionFlood,
  measured,
  pct,
  printReport,
  processMemory,
  relayMetrics,
  resetPeakMemory,
  sources,
  unauthenticatedFlood,
  wsConnectionFlood,
  wsMessageFlood,
  type FloodReport,
  type FloodResult,
} from '../tests/harness/floods';
import { sleep } from '../tests/harness/wait';

const SECRET = 'flood-bench-secret';
const SCALE = Number(process.env.HUSH_FLOOD_SCALE ?? 1);
const n = (x: number) => Math.max(1, Math.round(x * SCALE));
const TOTAL_QUOTA = 400;
const MAX_SIGNAL = 500;

export async function run(): Promise<void> {
  const relay = await startRelayProcess([
    '--auth-secret', SECRET,
    '--allow-peer', '127.0.0.0/8',
    '--total-quota', String(TOTAL_QUOTA),
    '--max-signal-connections', String(MAX_SIGNAL),
  ], { nodeArgs: GC_BEFORE_MEMORY });
  let call: LiveCall | undefined;
  try {
    const idle = processMemory(relay.pid);
    const peakAllowed = resetPeakMemory(relay.pid);
    call = await startLiveCall({ turnPort: relay.turnPort, signalUrl: relay.signalUrl, secret: SECRET });
    await sleep(3000); // intent: the live call warms up
    await call.mark();
    await sleep(4000); // intent: the quiet baseline window, before any flood
    const base = await call.mark();
    console.log(`relay: defaults (user quota 10, --unauth-rate 50/s burst 100 per source IP, 64 WebSocket connections per IP, verify queue 64, 4 proofs in flight per IP) + --total-quota ${TOTAL_QUOTA} --max-signal-connections ${MAX_SIGNAL} --allow-peer 127.0.0.0/8`);
    console.log(`relay RSS idle ${mb(idle.rss)}; peak-RSS reset per flood: ${peakAllowed ? 'yes (clear_refs)' : 'NO (not root: peaks are since start)'}`);
    console.log(`live call baseline (${base.seconds} s): ${callLine(base, base)}`);
    const id = identityFromSeed(new Uint8Array(32).fill(0x61));
    const reports: FloodReport[] = [];
    const run1 = async (name: string, f: () => Promise<FloodResult & { cleanup?: () => Promise<void> | void }>) => {
      const r = await measured(relay, call!, name, f);
      printReport(r, base);
      reports.push(r);
    };

    await run1('allocation flood, one username (per-user quota)', async () => {
      const r = await allocationFlood({ turnPort: relay.turnPort, secret: SECRET, clients: n(300), sameUser: true, concurrency: 50, sourceIps: sources(1, 100) });
      return { ...r, cleanup: r.release };
    });
    await run1(`allocation flood, a username each (total quota ${TOTAL_QUOTA})`, async () => {
      const r = await allocationFlood({ turnPort: relay.turnPort, secret: SECRET, clients: n(600), sameUser: false, concurrency: 50, sourceIps: sources(2, 200) });
      return { ...r, cleanup: r.release };
    });
    await run1('peer flood: one authenticated client installing permissions (256 per allocation)', async () => {
      const r = await permissionFlood({ turnPort: relay.turnPort, secret: SECRET, requests: n(2000), perRequest: 100, sourceIp: '127.0.19.1' });
      return { ...r, cleanup: r.release };
    });
    await run1('unauthenticated flood (401 rate limit), 32 IPs × 4 ports', () =>
      unauthenticatedFlood({ turnPort: relay.turnPort, ips: sources(3, 32), portsPerIp: 4, seconds: 6 * SCALE }),
    );
    // More sources than the rate-limit map holds (4096): the map stays bounded, each source's bucket does not survive.
    const many = Array.from({ length: 20 }, (_, b) => sources(20 + b, 254)).flat().slice(0, n(5000));
    await run1(`unauthenticated flood from ${many.length} source IPs (past the 4096-entry rate-limit map)`, () =>
      unauthenticatedFlood({ turnPort: relay.turnPort, ips: many, portsPerIp: 1, seconds: 6 * SCALE }),
    );
    await run1('invalid-packet flood, UDP', () => invalidUdpFlood({ turnPort: relay.turnPort, ips: sources(13, 16), seconds: 6 * SCALE }));
    await run1('invalid-stream flood, TCP', async () => {
      const r = await invalidTcpFlood({ turnPort: relay.turnPort, garbage: n(300), overlong: n(300), stalled: n(300), ips: sources(14, 50) });
      return { ...r, cleanup: r.closeStalled };
    });
    await run1('WebSocket connection flood, one IP (per-IP limit 64)', async () => {
      const r = await wsConnectionFlood({ signalUrl: relay.signalUrl, count: n(300), ips: ['127.0.15.1'], concurrency: 50 });
      return { ...r, cleanup: r.closeAll };
    });
    await run1(`WebSocket connection flood, 20 IPs (total limit ${MAX_SIGNAL})`, async () => {
      const r = await wsConnectionFlood({ signalUrl: relay.signalUrl, count: n(800), ips: sources(16, 20), concurrency: 100 });
      return { ...r, cleanup: r.closeAll };
    });
    await run1('WebSocket message flood, one authenticated connection (50/s, burst 100)', () =>
      wsMessageFlood({ signalUrl: relay.signalUrl, id, messages: n(20000), localAddress: '127.0.17.1' }),
    );
    await run1('bad-proof flood (verifier pool: 4 per IP in flight, queue 64)', () =>
      badProofFlood({ signalUrl: relay.signalUrl, id, connections: n(400), ips: sources(18, 40) }),
    );

    // Issue 22: slow and half-open connections, pings, failed integrity, EVEN-PORT cycles.
    await run1('slow streams: TURN TCP and the alternate port, one byte every 5 s (first-message deadline 10 s)', async () => {
      const [a, b] = await Promise.all([
        slowConnectionFlood({ port: relay.turnPort, kind: 'stun', count: n(1000), ips: sources(40, 20), trickleMs: 5000, seconds: 14 }),
        slowConnectionFlood({ port: relay.altPort, kind: 'stun', count: n(1000), ips: sources(41, 20), trickleMs: 5000, seconds: 14 }),
      ]);
      const answers: Record<string, number> = {};
      for (const r of [a, b]) for (const [k, v] of Object.entries(r.answers)) answers[k] = (answers[k] ?? 0) + v;
      const all = [...a.closedAfterMs, ...b.closedAfterMs];
      answers[`closed after ${(Math.min(...all) / 1000).toFixed(1)}-${(Math.max(...all) / 1000).toFixed(1)} s`] = all.length;
      return { sent: `${a.sent}; twice (TURN port, alternate port)`, answers, seconds: Math.max(a.seconds, b.seconds), cleanup: () => (a.closeAll(), b.closeAll()) };
    });
    await run1('half-sent HTTP requests, one IP (per-IP limit 64, request deadline 10 s)', async () => {
      const r = await slowConnectionFlood({ port: relay.signalPort, kind: 'http', count: n(2000), ips: ['127.0.43.1'], trickleMs: 5000, seconds: 12 });
      return { ...r, cleanup: r.closeAll };
    });
    await run1('WebSocket ping flood, one connection (pings count as messages)', () =>
      wsPingFlood({ signalUrl: relay.signalUrl, pings: n(50000), localAddress: '127.0.44.1' }),
    );
    await run1('failed-integrity flood: valid nonce, made-up usernames, 32 IPs', () =>
      badIntegrityFlood({ turnPort: relay.turnPort, ips: sources(45, 32), seconds: 6 * SCALE }),
    );
    await run1('EVEN-PORT allocate/delete cycles (reservations count and go with their allocation)', () =>
      evenPortCycles({ turnPort: relay.turnPort, secret: SECRET, clients: 20, cycles: n(100), sourceIps: sources(46, 20) }),
    );

    // Second round of the heaviest floods: bounded memory returns to the same figures.
    console.log('\n── second round (the same floods again: memory must not keep growing)');
    const round2: Array<[string, string, () => Promise<FloodResult & { cleanup?: () => Promise<void> | void }>]> = [
      ['unauthenticated, 32 IPs × 4 ports', '32 IPs × 4 ports', () => unauthenticatedFlood({ turnPort: relay.turnPort, ips: sources(3, 32), portsPerIp: 4, seconds: 6 * SCALE })],
      [`unauthenticated, ${many.length} IPs`, 'past the 4096', () => unauthenticatedFlood({ turnPort: relay.turnPort, ips: many, portsPerIp: 1, seconds: 6 * SCALE })],
      ['invalid datagrams', 'invalid-packet', () => invalidUdpFlood({ turnPort: relay.turnPort, ips: sources(13, 16), seconds: 6 * SCALE })],
      ['WebSocket connections, 20 IPs', 'connection flood, 20 IPs', async () => {
        const r = await wsConnectionFlood({ signalUrl: relay.signalUrl, count: n(800), ips: sources(16, 20), concurrency: 100 });
        return { ...r, cleanup: r.closeAll };
      }],
      ['allocations, a username each', 'a username each', async () => {
        const r = await allocationFlood({ turnPort: relay.turnPort, secret: SECRET, clients: n(600), sameUser: false, concurrency: 50, sourceIps: sources(2, 200) });
        return { ...r, cleanup: r.release };
      }],
    ];
    for (const [name, match, f] of round2) {
      const first = reports.find((r) => r.name.includes(match));
      const r = await measured(relay, call, name, f);
      reports.push(r);
      console.log(
        `  ${name.padEnd(36)} peak RSS ${mb(r.peakRss)}, heap after ${r.heapAfter !== undefined ? mb(r.heapAfter) : '?'}` +
          `${first ? ` (first round ${mb(first.peakRss)}, ${first.heapAfter !== undefined ? mb(first.heapAfter) : '?'})` : ''}; live call loss ${pct(r.during.loss)}, p99 ${r.during.p99Ms.toFixed(1)} ms; answering ${r.answering.stun && r.answering.signal && r.answering.health ? 'yes' : 'NO'}`,
      );
    }

    const after = await relayMetrics(relay.signalPort);
    const worst = reports.reduce((w, r) => Math.max(w, r.during.loss), 0);
    const mem = processMemory(relay.pid);
    console.log(`\nsummary: ${reports.length} floods; live call worst loss ${pct(worst)}; relay RSS ${mb(idle.rss)} idle → ${mb(mem.rss)} at the end (peak over the floods ${mb(Math.max(...reports.map((r) => r.peakRss)))}); allocations left ${after.allocations ?? '?'}; still answering after every flood: ${reports.every((r) => r.answering.stun && r.answering.signal && r.answering.health) ? 'yes' : 'NO'}`);
  } finally {
    await call?.stop();
    await relay.stop();
  }
}
