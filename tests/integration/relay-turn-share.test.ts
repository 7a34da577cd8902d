/**
 * Issue 15, TURN part: TURN is for the relay's own calls. Through the real
 * CLI on real sockets, with real mailbox proofs on the signalling WebSocket
 * and TURN clients on UDP (coturn's turnutils_uclient, and the repo's test
 * client for counting answers):
 *
 *  - one signalling connection gets one credential, however often it asks;
 *    that credential takes its share of allocations (--user-quota) and no more;
 *  - many connections from one source address take the source's share
 *    (--source-quota) and no more, while a client from another source still
 *    allocates and relays through the relay;
 *  - a credential whose connection closed keeps working for the grace
 *    (--credential-grace), then is refused for new allocations and
 *    refreshes; deleting still works;
 *  - a reconnect for the same mailbox gets the same credential back, so a
 *    call's allocation goes on refreshing past the grace;
 *  - with --threads 2 the per-source cap counts every thread's allocations.
 *
 * 127.0.0.2 and 127.0.0.3 are other sources on loopback (Linux routes all of
 * 127.0.0.0/8 to lo): the relay keys per-source limits by the client's address.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { identityFromSeed } from '../../lib/crypto/identity';
import { Attr, Class, Method } from '../../relay-server/src/stun/constants';
import { attrValue, getAttr } from '../../relay-server/src/stun/message';
import { decodeXorAddress, type TransportAddress } from '../../relay-server/src/stun/xor-address';
import { scrapeMetrics } from '../harness/metrics';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { SignalTestClient } from '../harness/signal-client';
import { TurnTestClient } from '../harness/turn-client';
import { runUclient } from '../harness/uclient';
import { waitFor } from '../harness/wait';

const SECRET = 'turn-share-test-secret';
const USER_QUOTA = 3;
const SOURCE_QUOTA = 8;
const GRACE_SEC = 8;
const UDP = new Uint8Array([17, 0, 0, 0]);

interface Turn {
  username: string;
  credential: string;
}

let relay: RelayProcess;
const sockets: SignalTestClient[] = [];
const turns: TurnTestClient[] = [];
let seed = 1;

beforeAll(async () => {
  relay = await startRelayProcess([
    '--auth-secret', SECRET,
    '--allow-peer', '127.0.0.0/8',
    '--user-quota', String(USER_QUOTA),
    '--source-quota', String(SOURCE_QUOTA),
    '--total-quota', '100',
    '--credential-grace', String(GRACE_SEC),
  ]);
});
afterAll(async () => {
  for (const t of turns) t.close();
  for (const s of sockets) s.ws.terminate();
  await relay?.stop();
});

/** A signed-in signalling connection from `source`, and the TURN credential it was given. */
async function signIn(source = '127.0.0.1'): Promise<{ sig: SignalTestClient; turn: Turn }> {
  const sig = await SignalTestClient.connect(relay.signalUrl, { localAddress: source });
  sockets.push(sig);
  const ready = await sig.auth(identityFromSeed(new Uint8Array(32).fill(seed++)));
  expect(ready.t).toBe('ready');
  return { sig, turn: ready.turn as Turn };
}

async function turnClient(t: Turn, source = '127.0.0.1'): Promise<TurnTestClient> {
  const c = new TurnTestClient({ host: '127.0.0.1', port: relay.turnPort }, t.username, t.credential);
  turns.push(c);
  await c.open(source);
  return c;
}

/** The code of an authenticated Allocate's answer: 0 for success. */
async function allocateCode(c: TurnTestClient): Promise<number> {
  return (await allocateResult(c)).code;
}

/** An authenticated Allocate: code 0 and the relayed address, or the error code. */
async function allocateResult(c: TurnTestClient): Promise<{ code: number; relayed?: TransportAddress }> {
  const a = await c.authed(Method.Allocate, [[Attr.RequestedTransport, UDP]]);
  if (!a) throw new Error('no answer to Allocate');
  if (a.cls !== Class.Success) return { code: a.code ?? -1 };
  const x = decodeXorAddress(attrValue(a.msg, getAttr(a.msg, Attr.XorRelayedAddress)!), a.msg.transactionId);
  if (!x.ok) throw new Error('bad XOR-RELAYED-ADDRESS');
  return { code: 0, relayed: x.value };
}

async function releaseAll(cs: TurnTestClient[]): Promise<void> {
  for (const c of cs) await c.refresh(0);
}

describe('TURN is for the relay’s own calls', () => {
  test('one connection: asking again gives the same credential, which takes its share and no more (uclient too)', async () => {
    const { sig, turn } = await signIn();
    const names = new Set([turn.username]);
    for (let i = 0; i < 20; i++) {
      sig.send({ t: 'turn', id: i });
      names.add(((await sig.next((f) => f.t === 'turn' && f.id === i)).turn as Turn).username);
    }
    expect([...names]).toEqual([turn.username]);

    const clients = await Promise.all(Array.from({ length: 10 }, () => turnClient(turn)));
    const codes = [];
    for (const c of clients) codes.push(await allocateCode(c));
    expect(codes.filter((x) => x === 0).length).toBe(USER_QUOTA);
    expect(codes.filter((x) => x !== 0)).toEqual(Array(10 - USER_QUOTA).fill(486));

    // coturn's client, given the same credential, is refused too.
    const u = await runUclient(['-c', '-y', '-u', turn.username, '-w', turn.credential, '-m', '2', '-n', '5', '-z', '10', '-p', String(relay.turnPort), '127.0.0.1'], 20_000);
    expect(u.output).toMatch(/486/);
    expect(u.received, u.output).toBeLessThanOrEqual(0);

    await releaseAll(clients);
    // With its allocations given back, the same credential serves uclient: the cap counted them, nothing else.
    const ok = await runUclient(['-c', '-y', '-u', turn.username, '-w', turn.credential, '-m', '1', '-n', '10', '-z', '10', '-p', String(relay.turnPort), '127.0.0.1']);
    expect(ok.errors, ok.output).toEqual([]);
    expect(ok.sent, ok.output).toBe(20); // -y -m 1: two clients, each its own allocation
    expect(ok.received, ok.output).toBe(ok.sent);
    sig.close();
  });

  test('many connections from one source take the source’s share; a client from another source still allocates and relays', async () => {
    const FULL = '127.0.0.4'; // a source of its own: allocations uclient left in the first test count for 127.0.0.1
    const before = await scrapeMetrics(`http://127.0.0.1:${relay.signalPort}`);
    const mine: Array<{ c: TurnTestClient; relayed: TransportAddress }> = [];
    const codes: number[] = [];
    for (let k = 0; k < 6; k++) {
      const { turn } = await signIn(FULL);
      for (let i = 0; i < USER_QUOTA; i++) {
        const c = await turnClient(turn, FULL);
        const r = await allocateResult(c);
        codes.push(r.code);
        if (r.relayed) mine.push({ c, relayed: r.relayed });
      }
    }
    expect(codes.filter((x) => x === 0).length).toBe(SOURCE_QUOTA);
    expect(codes.filter((x) => x !== 0)).toEqual(Array(6 * USER_QUOTA - SOURCE_QUOTA).fill(486));

    // Another source: its own signalling connection and TURN client, both from 127.0.0.2.
    const other = await signIn('127.0.0.2');
    const b = await turnClient(other.turn, '127.0.0.2');
    const rb = await b.allocate();
    // Media between the other source's allocation and one of the full source's, both ways, through the relay.
    const { c: a, relayed: ra } = mine[0]!;
    expect((await b.channelBind(ra, 0x4000))?.cls).toBe(Class.Success);
    expect((await a.channelBind(rb, 0x4001))?.cls).toBe(Class.Success);
    const got = new Promise<string>((r) => (a.onData = (d) => r(d.toString())));
    const back = new Promise<string>((r) => (b.onData = (d) => r(d.toString())));
    b.sendChannel(0x4000, Buffer.from('hello from another source'));
    a.sendChannel(0x4001, Buffer.from('and back'));
    expect(await got).toBe('hello from another source');
    expect(await back).toBe('and back');

    const after = await scrapeMetrics(`http://127.0.0.1:${relay.signalPort}`);
    expect(after.hush_relay_source_quota_rejected_total! - before.hush_relay_source_quota_rejected_total!).toBe(6 * USER_QUOTA - SOURCE_QUOTA);
    await releaseAll([...mine.map((x) => x.c), b]);
  });

  test('a credential whose connection closed works for the grace, then is refused for new allocations and refreshes', async () => {
    const { sig, turn } = await signIn('127.0.0.3');
    const held = await turnClient(turn, '127.0.0.3');
    await held.allocate();
    sig.close();
    await sig.closed;
    // Within the grace (a call across a signalling reconnect): the allocation refreshes, and a new one can be made.
    expect((await held.refresh(600))?.cls).toBe(Class.Success);
    const second = await turnClient(turn, '127.0.0.3');
    expect(await allocateCode(second)).toBe(0);
    await second.refresh(0);
    // After the grace: refused. (Each allocation made meanwhile is given back: the quota stays clear.)
    const code = await waitFor(
      async () => {
        const c = await turnClient(turn, '127.0.0.3');
        const x = await allocateCode(c);
        if (x === 0) await c.refresh(0);
        return x !== 0 && x;
      },
      { timeout: (GRACE_SEC + 20) * 1000, interval: 500, what: 'the closed connection’s credential to be refused' },
    );
    expect(code).toBe(401);
    const refused = await held.refresh(600);
    expect(refused?.code).toBe(401);
    expect((await held.refresh(0))?.cls).toBe(Class.Success);
    const m = await scrapeMetrics(`http://127.0.0.1:${relay.signalPort}`);
    expect(m.hush_relay_turn_credential_gone_total).toBeGreaterThanOrEqual(2);
  });
});

describe('a call across a signalling reconnect', () => {
  test('a reconnect for the same mailbox gets the same credential back: its allocation refreshes past the grace, a client that left does not', async () => {
    const id = identityFromSeed(new Uint8Array(32).fill(200));
    const first = await SignalTestClient.connect(relay.signalUrl, { localAddress: '127.0.0.5' });
    sockets.push(first);
    const turn = (await first.auth(id)).turn as Turn;
    const call = await turnClient(turn, '127.0.0.5');
    await call.allocate();
    // Another client that leaves at the same time and does not come back: its refusal shows the grace is over.
    const gone = await signIn('127.0.0.6');
    const left = await turnClient(gone.turn, '127.0.0.6');
    await left.allocate();
    first.ws.terminate();
    gone.sig.ws.terminate();
    await Promise.all([first.closed, gone.sig.closed]);
    const again = await SignalTestClient.connect(relay.signalUrl, { localAddress: '127.0.0.5' });
    sockets.push(again);
    const back = (await again.auth(id)).turn as Turn;
    expect(back.username).toBe(turn.username);
    await waitFor(async () => (await left.refresh(600))?.code === 401, { timeout: (GRACE_SEC + 20) * 1000, interval: 500, what: 'the departed client’s credential to be refused' });
    expect((await call.refresh(600))?.cls).toBe(Class.Success);
    const more = await turnClient(back, '127.0.0.5');
    expect(await allocateCode(more)).toBe(0);
    await releaseAll([call, more, left]);
  });
});

describe('with --threads 2', () => {
  test('the per-source cap counts the allocations handed to other TURN threads, and frees them when they end', async () => {
    const r = await startRelayProcess(['--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8', '--threads', '2', '--source-quota', '6'], { timeoutMs: 60_000 });
    const cs: TurnTestClient[] = [];
    try {
      const codes: number[] = [];
      // Operator-minted credentials, a username each: spread over the threads by their id.
      for (let i = 0; i < 12; i++) {
        const c = TurnTestClient.withSecret({ host: '127.0.0.1', port: r.turnPort }, SECRET, `spread${i}`);
        cs.push(c);
        await c.open();
        codes.push(await allocateCode(c));
      }
      expect(codes.filter((x) => x === 0).length).toBe(6);
      expect(codes.filter((x) => x !== 0)).toEqual(Array(6).fill(486));
      const m = await waitFor(
        async () => {
          const x = await scrapeMetrics(`http://127.0.0.1:${r.signalPort}`);
          return x['hush_relay_thread_allocations_created_total{thread="1"}']! + x['hush_relay_thread_allocations_created_total{thread="0"}']! === 6 && x;
        },
        { timeout: 10_000, interval: 200, what: 'both threads to report their allocations' },
      );
      // Both threads hold some: the cap was not one thread's own count.
      expect(m['hush_relay_thread_allocations_created_total{thread="0"}']).toBeGreaterThan(0);
      expect(m['hush_relay_thread_allocations_created_total{thread="1"}']).toBeGreaterThan(0);
      // Deleting them (wherever they live) gives the places back: six more are made. (A Refresh with
      // LIFETIME 0 is not retransmission-safe, so its answer is not checked: what counts is the place.)
      for (let i = 0; i < 12; i++) if (codes[i] === 0) await cs[i]!.refresh(0);
      let made = 0;
      await waitFor(
        async () => {
          const c = TurnTestClient.withSecret({ host: '127.0.0.1', port: r.turnPort }, SECRET, `again${cs.length}`);
          cs.push(c);
          await c.open();
          if ((await allocateCode(c)) === 0) made++;
          return made === 6;
        },
        { timeout: 20_000, interval: 100, what: () => `six allocations once the others were deleted (made ${made})` },
      );
      expect(made).toBe(6);
      const c = TurnTestClient.withSecret({ host: '127.0.0.1', port: r.turnPort }, SECRET, 'one-too-many');
      cs.push(c);
      await c.open();
      expect(await allocateCode(c)).toBe(486);
    } finally {
      for (const c of cs) c.close();
      await r.stop();
    }
  });
});
