/**
 * `npm run bench -- cluster`: what routing signalling between relay nodes
 * through one Redis costs, for sizing (docs/operators.md, "How it grows").
 *
 * 1. End to end, the real design: a Redis and two hush-relay nodes
 *    (`--redis`), PAIRS authenticated clients, each sender on node 1 sending
 *    envelope-sized messages (a sealed candidate or control message, 300 B
 *    of base64) at RATE per second to its receiver: on node 2 (across nodes:
 *    every envelope is one SPUBLISH to the receiver's mailbox channel), on
 *    node 1 (same node: delivered at once, and still published once for the
 *    mailbox's holders elsewhere), and, as the baseline, a lone relay without
 *    Redis. Printed: envelopes delivered per second, one-way latency p50/p99
 *    (sender to receiver, same clock), and CPU µs per envelope of the sending
 *    node, the receiving node and Redis (process user+sys time over the
 *    envelopes, minus what each process spends idle over as long).
 * 2. Redis alone, as far as this machine can push it: the bench publishes
 *    to per-mailbox channels with SPUBLISH from several pipelined
 *    connections, two subscriber connections (two "nodes") holding 10 000
 *    mailboxes each; Redis CPU µs per message, so messages per second per
 *    Redis core = 1e6 / that (the load generator shares the two cores, so
 *    the raw rate is a floor, the CPU cost is the figure).
 * 3. Presence churn: SSUBSCRIBE + SUNSUBSCRIBE pairs (a client connecting
 *    and leaving), Redis CPU µs per pair, and Redis memory per held mailbox.
 */
import { readFileSync } from 'node:fs';
import { createClient } from '@redis/client';
import { identityFromSeed } from '../lib/crypto/identity';
import { startRelayProcess, type RelayProcess } from '../tests/harness/relay';
import { startRedis, type RedisProcess } from '../tests/harness/redis';
import { SignalTestClient } from '../tests/harness/signal-client';
import { mailboxChannel, encodeClusterMessage } from '../relay-server/src/signal/cluster-message';
import { sleep, waitFor } from '../tests/harness/wait';

const QUICK = process.env.HUSH_BENCH_QUICK === '1';
const PAIRS = Number(process.env.HUSH_BENCH_PAIRS ?? (QUICK ? 20 : 60));
/** Per sender; the relay allows 50 messages/s per connection. */
const RATE = 40;
const SECONDS = QUICK ? 4 : 8;
const ENVELOPE = Buffer.alloc(225, 7).toString('base64'); // 300 base64 characters
const TICKS = 100; // clock ticks per second (Linux USER_HZ)

function cpuSeconds(pid: number): number {
  if (!pid) return 0;
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS; // utime, stime
}

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

interface Round {
  delivered: number;
  perSec: number;
  p50: number;
  p99: number;
  us: { n1: number; n2: number; redis: number };
}

/** The cluster's one signalling URL (mailboxes are per URL since signalling v2; every node announces it). */
const CLUSTER_URL = 'ws://relay.cluster.bench:80/signal';

async function clients(node: RelayProcess, n: number, seed: number, url?: string): Promise<Array<SignalTestClient & { mailbox: string }>> {
  const out: Array<SignalTestClient & { mailbox: string }> = [];
  for (let i = 0; i < n; i++) {
    const c = await SignalTestClient.connect(node.signalUrl);
    const s = new Uint8Array(32).fill(9);
    s.set([seed, i & 255, i >> 8]);
    const r = await c.auth(identityFromSeed(s), url ?? c.url);
    if (r.t !== 'ready') throw new Error(`auth failed: ${JSON.stringify(r)}`);
    out.push(Object.assign(c, { mailbox: r.mailbox as string }));
  }
  return out;
}

type Pids = { n1: number; n2: number; redis: number };

/** CPU seconds per second each process spends with nothing to do (timers, pings, Redis's cron). */
async function idleRates(pids: Pids): Promise<Pids> {
  const c0 = { n1: cpuSeconds(pids.n1), n2: cpuSeconds(pids.n2), redis: cpuSeconds(pids.redis) };
  await sleep(2000); // intent: the window over which idle CPU is measured
  return { n1: (cpuSeconds(pids.n1) - c0.n1) / 2, n2: (cpuSeconds(pids.n2) - c0.n2) / 2, redis: (cpuSeconds(pids.redis) - c0.redis) / 2 };
}

async function round(senders: SignalTestClient[], receivers: Array<SignalTestClient & { mailbox: string }>, pids: Pids): Promise<Round> {
  const idle = await idleRates(pids);
  const lat: number[] = [];
  let delivered = 0;
  const handlers = receivers.map((r) => {
    const h = (d: Buffer) => {
      const f = JSON.parse(d.toString()) as { t: string; data?: string };
      if (f.t !== 'deliver') return;
      delivered++;
      lat.push(performance.now() - Number(Buffer.from(f.data!.slice(0, 24), 'base64').toString()));
    };
    r.ws.on('message', h);
    return h;
  });
  for (const s of senders) s.ws.on('message', () => (s.frames.length = 0));
  const cpu0 = { n1: cpuSeconds(pids.n1), n2: cpuSeconds(pids.n2), redis: pids.redis ? cpuSeconds(pids.redis) : 0 };
  const t0 = performance.now();
  let sent = 0;
  let id = 1;
  // Each sender RATE per second, spread over the second.
  await new Promise<void>((done) => {
    const tick = setInterval(() => {
      const due = Math.floor(((performance.now() - t0) / 1000) * RATE * senders.length);
      while (sent < due && sent < RATE * senders.length * SECONDS) {
        const i = sent % senders.length;
        const stamp = Buffer.from(performance.now().toFixed(3).padStart(18, '0')).toString('base64'); // 24 chars
        senders[i]!.send({ t: 'send', to: receivers[i]!.mailbox, id: id++, data: stamp + ENVELOPE.slice(24) });
        sent++;
      }
      if (sent >= RATE * senders.length * SECONDS) {
        clearInterval(tick);
        done();
      }
    }, 5);
  });
  // What is not delivered within 3 s is left out of the per-message cost (and said).
  await waitFor(() => delivered >= sent, { timeout: 3000, interval: 20, what: () => `all ${sent} envelopes delivered (got ${delivered})` }).catch((e: Error) => console.warn(e.message));
  const secs = (performance.now() - t0) / 1000;
  const per = (k: keyof Pids) => (pids[k] === pids.n1 && k !== 'n1' ? 0 : (Math.max(0, cpuSeconds(pids[k]) - cpu0[k] - idle[k] * secs) * 1e6) / Math.max(1, delivered));
  const us = { n1: per('n1'), n2: per('n2'), redis: pids.redis ? per('redis') : 0 };
  receivers.forEach((r, i) => r.ws.off('message', handlers[i]!));
  for (const r of receivers) r.frames.length = 0;
  lat.sort((a, b) => a - b);
  return { delivered, perSec: delivered / secs, p50: pct(lat, 50), p99: pct(lat, 99), us };
}

async function endToEnd(redis: RedisProcess): Promise<void> {
  const limits = ['--max-signal-per-ip', '10000', '--verify-queue', '1000'];
  const args = (id: string) => ['--redis', redis.url, '--node-id', id, '--signal-url', CLUSTER_URL, ...limits];
  const [n0, n1, n2] = await Promise.all([startRelayProcess(limits), startRelayProcess(args('bench-1')), startRelayProcess(args('bench-2'))]);
  try {
    const lone = [await clients(n0, PAIRS, 4), await clients(n0, PAIRS, 5)] as const;
    const senders = await clients(n1, PAIRS, 1, CLUSTER_URL);
    const far = await clients(n2, PAIRS, 2, CLUSTER_URL);
    const near = await clients(n1, PAIRS, 3, CLUSTER_URL);
    console.log(`${PAIRS} senders × ${RATE}/s, ${SECONDS} s, 300-byte envelopes; µs = CPU per envelope of the sending node, the receiving node, Redis:`);
    const single = await round(lone[0], lone[1], { n1: n0.pid, n2: n0.pid, redis: 0 });
    const same = await round(senders, near, { n1: n1.pid, n2: n1.pid, redis: redis.pid() });
    const cross = await round(senders, far, { n1: n1.pid, n2: n2.pid, redis: redis.pid() });
    const row = (name: string, r: Round) =>
      `${name.padEnd(24)}${r.perSec.toFixed(0).padStart(10)}${r.p50.toFixed(2).padStart(9)}${r.p99.toFixed(2).padStart(9)}` +
      `${r.us.n1.toFixed(1).padStart(10)}${r.us.n2.toFixed(1).padStart(10)}${r.us.redis.toFixed(1).padStart(10)}`;
    console.log(`${''.padEnd(24)}${'env/s'.padStart(10)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'send µs'.padStart(10)}${'recv µs'.padStart(10)}${'redis µs'.padStart(10)}`);
    console.log(row('one node, no Redis', single));
    console.log(row('cluster, same node', same));
    console.log(row('cluster, across nodes', cross));
    const nodeUs = (r: Round) => r.us.n1 + r.us.n2;
    console.log(
      `across/one node: latency p50 ×${(cross.p50 / single.p50).toFixed(2)}, relay CPU per envelope (both nodes) ×${(nodeUs(cross) / nodeUs(single)).toFixed(2)}; ` +
        `delivered ${cross.delivered}/${PAIRS * RATE * SECONDS}`,
    );
    for (const c of [...lone[0], ...lone[1], ...senders, ...far, ...near]) c.close();
  } finally {
    await Promise.all([n0.stop(), n1.stop(), n2.stop()]);
  }
}

async function redisAlone(redis: RedisProcess): Promise<void> {
  const HELD = QUICK ? 2000 : 10_000;
  const PUBLISHERS = 4;
  const BATCH = 64;
  const TOTAL = QUICK ? 100_000 : 400_000;
  const mk = () => createClient({ url: redis.url });
  const subs = [mk(), mk()];
  const pubs = Array.from({ length: PUBLISHERS }, mk);
  await Promise.all([...subs, ...pubs].map((c) => c.connect()));
  let received = 0;
  const listener = () => void received++;
  const mailboxes = (node: number) => Array.from({ length: HELD }, (_, i) => `${node}${i.toString(16).padStart(31, '0')}`);
  const mem0 = Number(/used_memory:(\d+)/.exec(await pubs[0]!.info('memory'))![1]);
  for (const [n, s] of subs.entries()) {
    const chans = mailboxes(n).map((m) => mailboxChannel('hush', m));
    for (let i = 0; i < chans.length; i += 500) await s.sSubscribe(chans.slice(i, i + 500), listener);
  }
  const mem1 = Number(/used_memory:(\d+)/.exec(await pubs[0]!.info('memory'))![1]);
  const message = encodeClusterMessage('bench-1', 'a'.repeat(32), ENVELOPE);
  const targets = [...mailboxes(0), ...mailboxes(1)].map((m) => mailboxChannel('hush', m));
  const cpu0 = cpuSeconds(redis.pid());
  const t0 = performance.now();
  await Promise.all(
    pubs.map(async (p, k) => {
      for (let sent = k; sent < TOTAL; ) {
        const batch: Array<Promise<unknown>> = [];
        for (let j = 0; j < BATCH && sent < TOTAL; j++, sent += PUBLISHERS) batch.push(p.sPublish(targets[sent % targets.length]!, message));
        await Promise.all(batch);
      }
    }),
  );
  await waitFor(() => received >= TOTAL, { timeout: Math.max(0, t0 + 60_000 - performance.now()), interval: 10, what: () => `${TOTAL} messages at the subscribers (got ${received})` }).catch((e: Error) => console.warn(e.message));
  const secs = (performance.now() - t0) / 1000;
  const us = ((cpuSeconds(redis.pid()) - cpu0) * 1e6) / TOTAL;
  console.log(
    `Redis alone: ${TOTAL} SPUBLISH of ${message.length} B to ${2 * HELD} mailbox channels held by 2 subscriber connections: ` +
      `${(TOTAL / secs).toFixed(0)} messages/s here (load generator on the same cores), Redis CPU ${us.toFixed(2)} µs per message ` +
      `→ ~${(1e6 / us / 1000).toFixed(0)}k messages/s per Redis core`,
  );
  console.log(`Redis memory per held mailbox (subscription): ${((mem1 - mem0) / (2 * HELD)).toFixed(0)} B`);

  // Presence churn: a client arriving and leaving = SSUBSCRIBE + SUNSUBSCRIBE on its node's connection.
  const CHURN = QUICK ? 10_000 : 40_000;
  const churner = subs[0]!;
  const c0 = cpuSeconds(redis.pid());
  const t1 = performance.now();
  for (let i = 0; i < CHURN; i += 200) {
    const chans = Array.from({ length: 200 }, (_, j) => mailboxChannel('hush', `c${(i + j).toString(16).padStart(31, '0')}`));
    await Promise.all(chans.map((ch) => churner.sSubscribe(ch, listener)));
    await Promise.all(chans.map((ch) => churner.sUnsubscribe(ch, listener)));
  }
  const churnUs = ((cpuSeconds(redis.pid()) - c0) * 1e6) / CHURN;
  console.log(
    `presence churn: ${CHURN} connect+leave pairs in ${((performance.now() - t1) / 1000).toFixed(1)} s, Redis CPU ${churnUs.toFixed(2)} µs per pair ` +
      `→ ~${(1e6 / churnUs / 1000).toFixed(0)}k arrivals/s per Redis core`,
  );
  await Promise.all([...subs, ...pubs].map((c) => c.close()));
}

export async function run(): Promise<void> {
  const redis = await startRedis();
  try {
    await endToEnd(redis);
    await redisAlone(redis);
  } finally {
    await redis.dispose();
  }
}
