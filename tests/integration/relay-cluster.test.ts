/**
 * Two relay nodes and one Redis on loopback, through the real CLI
 * (`--redis`, `--node-id`): clients on different nodes reach each other;
 * a mailbox held on both nodes gets an envelope once per connection; Redis
 * stores nothing (no key, ever: presence is the node's subscription); a
 * departed client is unreachable at once (seen in the sender node's
 * aggregate counters: since signalling v2 every sender hears `sent`, issue
 * 15); the nodes share one signalling URL (`--signal-url`, as behind one
 * name or load balancer), so a mailbox is the same on both; TURN credentials
 * handed out by one node do not work on the other (they are tied to the
 * signalling connection that got them, issue 15) and a call's media crosses
 * between them; with Redis
 * down local delivery goes on and cross-node sends are answered
 * unreachable, and when it is back the nodes reconnect and route again; a
 * node that dies takes its clients' presence with it at once.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Attr, Class, Method } from '../../relay-server/src/stun/constants';
import { identityFromSeed, type Identity } from '../../lib/crypto/identity';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { startRedis, type RedisProcess } from '../harness/redis';
import { SignalTestClient, type Frame } from '../harness/signal-client';
import { TurnTestClient } from '../harness/turn-client';
import { scrapeMetrics } from '../harness/metrics';
import { sleep, waitFor } from '../harness/wait';

const SECRET = 'cluster-test-secret';
/** The deployment's one signalling URL: mailboxes and proofs are per URL, so every node announces the same one. */
const SHARED_URL = 'ws://relay.cluster.test:80/signal';
let redis: RedisProcess;
let n1: RelayProcess;
let n2: RelayProcess;
const open: SignalTestClient[] = [];
const turns: TurnTestClient[] = [];

const ALICE = identityFromSeed(new Uint8Array(32).fill(51));
const BOB = identityFromSeed(new Uint8Array(32).fill(52));
const CAROL = identityFromSeed(new Uint8Array(32).fill(53));
const DAN = identityFromSeed(new Uint8Array(32).fill(54));
const ERIN = identityFromSeed(new Uint8Array(32).fill(55));

beforeAll(async () => {
  redis = await startRedis();
  const args = (id: string) => ['--redis', redis.url, '--node-id', id, '--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8', '--signal-url', SHARED_URL];
  // One after the other: two relays starting at once on a loaded 2-core machine can miss the 20 s start window.
  n1 = await startRelayProcess(args('node-1'));
  n2 = await startRelayProcess(args('node-2'));
  await Promise.all([redisUp(n1), redisUp(n2)]);
});
afterAll(async () => {
  for (const c of open) c.close();
  for (const t of turns) t.close();
  await Promise.all([n1?.stop(), n2?.stop()]);
  await redis?.dispose();
});

async function redisUp(n: RelayProcess, up = true, timeoutMs = 15_000): Promise<void> {
  await waitFor(async () => (await scrapeMetrics(`http://127.0.0.1:${n.signalPort}`)).hush_relay_cluster_redis_up === (up ? 1 : 0), {
    timeout: timeoutMs,
    interval: 100,
    what: () => `the node to see redis ${up ? 'up' : 'down'}:\n${n.output()}`,
  });
}

/** How many nodes subscribe to a mailbox's channel (each node subscribes once, for all its local connections). */
const subscribers = (mailbox: string) => redis.cli('PUBSUB', 'SHARDNUMSUB', `hush:hush:mb:${mailbox}`).trim().split('\n').at(-1)?.trim();

type Online = SignalTestClient & { mailbox: string; node: RelayProcess };

async function online(node: RelayProcess, id: Identity): Promise<Online> {
  const c = await SignalTestClient.connect(node.signalUrl);
  open.push(c);
  const r = await c.auth(id, SHARED_URL);
  expect(r.t).toBe('ready');
  return Object.assign(c, { mailbox: r.mailbox as string, node });
}

const counters = async (n: RelayProcess) => {
  const m = await scrapeMetrics(`http://127.0.0.1:${n.signalPort}`);
  return { delivered: m.hush_relay_envelopes_delivered_total ?? 0, unreachable: m.hush_relay_envelopes_unreachable_total ?? 0 };
};

let nextId = 1;
/**
 * Send and say whether any holder took it. The sender hears `sent` either way (no presence
 * oracle); the sender node's aggregate counters tell the test which it was.
 */
async function send(from: Online, to: string, data: string): Promise<Frame> {
  const id = nextId++;
  const before = await counters(from.node);
  from.send({ t: 'send', to, id, data: Buffer.from(data).toString('base64') });
  const answer = await from.next((f) => (f.t === 'sent' || f.t === 'error') && f.id === id);
  expect(answer.t).toBe('sent');
  const after = await counters(from.node);
  return { t: after.delivered > before.delivered ? 'sent' : after.unreachable > before.unreachable ? 'unreachable' : 'unknown' };
}

const delivered = (c: SignalTestClient, data: string) => c.next((f) => f.t === 'deliver' && f.data === Buffer.from(data).toString('base64'), 3000);

/** Until a send's answer is `want` (subscriptions settle within milliseconds). */
async function until(from: Online, to: string, want: 'sent' | 'unreachable', timeoutMs = 3000): Promise<void> {
  let i = 0;
  await waitFor(async () => (await send(from, to, `probe-${i++}`)).t === want, { timeout: timeoutMs, what: `a send to ${to} to be answered ${want}` });
}

describe('signalling across nodes', () => {
  test('a client on node 1 and one on node 2 reach each other; a delivery names no sender', async () => {
    const alice = await online(n1, ALICE);
    const bob = await online(n2, BOB);
    await until(alice, bob.mailbox, 'sent');
    expect((await send(alice, bob.mailbox, 'hello bob')).t).toBe('sent');
    expect(await delivered(bob, 'hello bob')).toEqual({ t: 'deliver', data: Buffer.from('hello bob').toString('base64') });
    expect((await send(bob, alice.mailbox, 'hello alice')).t).toBe('sent');
    expect(await delivered(alice, 'hello alice')).toEqual({ t: 'deliver', data: Buffer.from('hello alice').toString('base64') });
    expect((await send(alice, 'e'.repeat(32), 'nobody')).t).toBe('unreachable');
    // Redis holds no key: presence is the subscription, which names the mailbox's channel only while it is online.
    expect(redis.cli('DBSIZE').trim()).toBe('0');
    expect(redis.cli('PUBSUB', 'SHARDNUMSUB', `hush:hush:mb:${bob.mailbox}`)).toContain('1');
    bob.close();
    alice.close();
  });

  test('one mailbox on both nodes: each connection gets the envelope exactly once', async () => {
    const alice = await online(n1, ALICE);
    const bobHere = await online(n1, BOB);
    const bobThere = await online(n2, BOB);
    await until(alice, bobHere.mailbox, 'sent');
    await waitFor(() => subscribers(bobHere.mailbox) === '2', { timeout: 3000, what: "both nodes' subscriptions to Bob's mailbox" });
    expect((await send(alice, bobHere.mailbox, 'to both')).t).toBe('sent');
    await delivered(bobHere, 'to both');
    await delivered(bobThere, 'to both');
    await sleep(300); // intent: a window in which no second copy may arrive
    for (const c of [bobHere, bobThere]) expect(c.frames.filter((f) => f.t === 'deliver' && f.data === Buffer.from('to both').toString('base64'))).toEqual([]);
    // The local one leaves: the remote one still gets it.
    bobHere.close();
    await waitFor(() => subscribers(bobThere.mailbox) === '1', { timeout: 3000, what: "node 1 to drop its subscription to Bob's mailbox" });
    expect((await send(alice, bobThere.mailbox, 'remote only')).t).toBe('sent');
    await delivered(bobThere, 'remote only');
    // And when the last one leaves, the mailbox is unreachable from the other node.
    bobThere.close();
    await until(alice, bobThere.mailbox, 'unreachable');
    expect(redis.cli('PUBSUB', 'SHARDNUMSUB', `hush:hush:mb:${bobThere.mailbox}`)).toMatch(/\n0\n?$/);
    alice.close();
  });

  test("node 1's TURN credentials are refused on node 2, and a relayed call crosses between the nodes", async () => {
    const alice = await online(n1, ALICE);
    const bob = await online(n2, BOB);
    const ta = (await (alice.send({ t: 'turn', id: 1 }), alice.next((f) => f.t === 'turn'))).turn as { username: string; credential: string };
    const tb = (await (bob.send({ t: 'turn', id: 1 }), bob.next((f) => f.t === 'turn'))).turn as { username: string; credential: string };
    const a = new TurnTestClient({ host: '127.0.0.1', port: n1.turnPort }, ta.username, ta.credential);
    const b = new TurnTestClient({ host: '127.0.0.1', port: n2.turnPort }, tb.username, tb.credential);
    const elsewhere = new TurnTestClient({ host: '127.0.0.1', port: n2.turnPort }, ta.username, ta.credential);
    turns.push(a, b, elsewhere);
    await Promise.all([a.open(), b.open(), elsewhere.open()]);
    // Node 1's credential, node 2's TURN: node 2 has no signalling connection it belongs to.
    expect((await elsewhere.authed(Method.Allocate, [[Attr.RequestedTransport, new Uint8Array([17, 0, 0, 0])]]))?.code).toBe(401);
    const ra = await a.allocate();
    const rb = await b.allocate();
    expect((await a.channelBind(rb, 0x4000))?.cls).toBe(Class.Success);
    expect((await b.channelBind(ra, 0x4000))?.cls).toBe(Class.Success);
    const got = new Promise<string>((r) => (b.onData = (d) => r(d.toString())));
    const back = new Promise<string>((r) => (a.onData = (d) => r(d.toString())));
    a.sendChannel(0x4000, Buffer.from('media a→b'));
    b.sendChannel(0x4000, Buffer.from('media b→a'));
    expect(await got).toBe('media a→b');
    expect(await back).toBe('media b→a');
    alice.close();
    bob.close();
  });
});

describe('Redis down, then back', () => {
  test('local delivery goes on, cross-node sends are unreachable; after Redis returns, routing resumes', async () => {
    const alice = await online(n1, ALICE);
    const carol = await online(n1, CAROL);
    const bob = await online(n2, BOB);
    const erin = await online(n2, ERIN);
    await until(alice, bob.mailbox, 'sent');
    await until(alice, erin.mailbox, 'sent');

    await redis.stop();
    await Promise.all([redisUp(n1, false), redisUp(n2, false)]);
    expect((await send(alice, carol.mailbox, 'same node')).t).toBe('sent');
    await delivered(carol, 'same node');
    expect((await send(alice, bob.mailbox, 'across')).t).toBe('unreachable');
    expect(n1.output()).toMatch(/^cluster: redis unreachable: envelopes for other nodes are answered unreachable until it is back; retrying$/m);
    // Meanwhile dan arrives on node 2 and erin leaves it.
    const dan = await online(n2, DAN);
    erin.close();
    await erin.closed;

    const t0 = Date.now();
    await redis.start();
    await Promise.all([redisUp(n1), redisUp(n2)]);
    // The subscribers re-subscribe on their own: bob (node 2) is reachable again without reconnecting.
    await until(alice, bob.mailbox, 'sent', 5000);
    console.log(`redis back: nodes routing again ${Date.now() - t0} ms after it restarted`);
    expect((await send(alice, bob.mailbox, 'across again')).t).toBe('sent');
    await delivered(bob, 'across again');
    // Node 2 caught up with what happened while Redis was away.
    await until(alice, dan.mailbox, 'sent', 3000);
    await until(alice, erin.mailbox, 'unreachable', 3000);
    dan.close();
    const m = await scrapeMetrics(`http://127.0.0.1:${n1.signalPort}`);
    expect(m.hush_relay_cluster_publish_failures_total).toBeGreaterThanOrEqual(1);
    for (const c of [alice, carol, bob]) c.close();
  });
});

describe('a node dies', () => {
  test('its clients are unreachable at once (no stale presence); they come back on the other node', async () => {
    const alice = await online(n1, ALICE);
    const bob = await online(n2, BOB);
    await until(alice, bob.mailbox, 'sent');
    process.kill(n2.pid, 'SIGKILL');
    await n2.exited;
    const t0 = Date.now();
    expect((await send(alice, bob.mailbox, 'into the void')).t).toBe('unreachable');
    // Bob's client fails over to node 1, and is reachable there.
    const bobAgain = await online(n1, BOB);
    expect((await send(alice, bobAgain.mailbox, 'found you')).t).toBe('sent');
    await delivered(bobAgain, 'found you');
    console.log(`node killed: unreachable answered at once, bob reachable on node 1 ${Date.now() - t0} ms later`);
    alice.close();
    bobAgain.close();
  });
});
