/**
 * `--threads 2`: UDP allocations are handed to a worker thread that owns a
 * socket connected to the client on the same port (turn-threads.ts). Real
 * clients on the one TURN port must not notice: coturn's uclient relays with
 * no loss, allocations land on both threads, and media flows between
 * allocations on different threads.
 */
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { TurnTestClient } from '../harness/turn-client';
import { runUclient } from '../harness/uclient';
import { scrapeMetrics } from '../harness/metrics';
import { waitFor } from '../harness/wait';
import { threadSlot } from '../../relay-server/src/net/turn-threads';
import { Attr, Class, Method } from '../../relay-server/src/stun/constants';

const SECRET = 'threads-test-secret';
let relay: RelayProcess;

beforeAll(async () => {
  relay = await startRelayProcess(['--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8', '--threads', '2']);
});
afterAll(async () => {
  await relay?.stop();
});

async function metrics(): Promise<{ threadAllocations: number[]; relayedDatagrams: number }> {
  const m = await scrapeMetrics(`http://127.0.0.1:${relay.signalPort}`);
  const threadAllocations = Object.keys(m).filter((k) => k.startsWith('hush_relay_thread_allocations_created_total{')).sort().map((k) => m[k]!);
  return { threadAllocations, relayedDatagrams: m.hush_relay_relayed_packets_total! };
}

test('allocations spread over both threads; media crosses between them', async () => {
  // This machine's Node: 20 has no dgram reusePort (SO_REUSEADDR then); 22.12+ and 24 do (relay-node24.test.ts).
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  const reusePort = major > 22 || (major === 22 && minor >= 12);
  expect(relay.output()).toMatch(new RegExp(`^TURN threads: 2 on port \\d+ .*port shared with ${reusePort ? 'SO_REUSEPORT' : 'SO_REUSEADDR'}`, 'm'));
  const clients: TurnTestClient[] = [];
  const relayed = [];
  for (let i = 0; i < 16; i++) {
    const c = TurnTestClient.withSecret({ host: '127.0.0.1', port: relay.turnPort }, SECRET, `user${i}`);
    await c.open();
    clients.push(c);
    relayed.push(await c.allocate());
  }
  let got = 0;
  for (let i = 0; i < 16; i += 2) {
    expect((await clients[i]!.channelBind(relayed[i + 1]!, 0x4000))?.cls).toBe(0x0100);
    expect((await clients[i + 1]!.channelBind(relayed[i]!, 0x4000))?.cls).toBe(0x0100);
    clients[i + 1]!.onData = () => got++;
    for (let k = 0; k < 5; k++) clients[i]!.sendChannel(0x4000, Buffer.from(`m${k}`));
  }
  await waitFor(() => got >= 40, { timeout: 5_000, what: () => `40 relayed channel messages (got ${got})` });
  expect(got).toBe(40);
  // Threads report every second: wait for a report that counts this test's allocations.
  const m = await waitFor(
    async () => {
      const x = await metrics();
      return x.threadAllocations.length === 2 && x.threadAllocations.every((n) => n > 0) && x;
    },
    { timeout: 5_000, interval: 100, what: 'both threads to report their allocations in /metrics' },
  );
  expect(m.threadAllocations.length).toBe(2);
  expect(m.threadAllocations.every((n) => n > 0)).toBe(true);
  for (const c of clients) {
    await c.refresh(0);
    c.close();
  }
});

test.concurrent.each([0, 1, 2, 3])('uclient user %i on the one port: no loss', async (i) => {
  const r = await runUclient(['-c', '-y', '-W', SECRET, '-u', `threaded${i}`, '-m', '4', '-n', '30', '-z', '10', '-p', String(relay.turnPort), '127.0.0.1']);
  expect(r.sent).toBe(120);
  expect(r.lost, r.output).toBe(0);
});

/** A credential id that `--threads 2` hands to the worker thread (slot 1), not the main one. */
function workerId(prefix: string): string {
  for (let i = 0; ; i++) if (threadSlot(`${prefix}${i}`, 2) === 1) return `${prefix}${i}`;
}

test('the total quota holds for the relay, across threads (reservations made in a thread count too); a retransmitted delete in a thread gets its success again', async () => {
  const r = await startRelayProcess(['--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8', '--threads', '2', '--total-quota', '4']);
  const clients: TurnTestClient[] = [];
  const client = async (id: string) => {
    const c = TurnTestClient.withSecret({ host: '127.0.0.1', port: r.turnPort }, SECRET, id);
    await c.open();
    clients.push(c);
    return c;
  };
  try {
    // A reserving Allocate (EVEN-PORT R=1) in the worker thread: two places of four.
    const reserver = await client(workerId('reserve'));
    const res = await reserver.authed(Method.Allocate, [[Attr.RequestedTransport, new Uint8Array([17, 0, 0, 0])], [Attr.EvenPort, new Uint8Array([0x80])]]);
    expect(res?.cls).toBe(Class.Success);
    // Eight more users on both threads: exactly two more fit.
    const codes: Array<number | 'ok'> = [];
    for (let i = 0; i < 8; i++) {
      const c = await client(`quota${i}`);
      const a = await c.authed(Method.Allocate, [[Attr.RequestedTransport, new Uint8Array([17, 0, 0, 0])]]);
      codes.push(a?.cls === Class.Success ? 'ok' : (a?.code ?? -1));
    }
    expect(codes.filter((c) => c === 'ok').length, codes.join(' ')).toBe(2);
    expect(codes.filter((c) => c !== 'ok').every((c) => c === 508), codes.join(' ')).toBe(true);
    // Both threads made some (else this would not test the cross-thread count).
    const m = await waitFor(
      async () => {
        const x = await scrapeMetrics(`http://127.0.0.1:${r.signalPort}`);
        const per = Object.keys(x).filter((k) => k.startsWith('hush_relay_thread_allocations_created_total{')).map((k) => x[k]!);
        return per.length === 2 && per.every((n) => n > 0) && per;
      },
      { timeout: 5_000, interval: 100, what: 'allocations made on both threads' },
    );
    expect(m.length).toBe(2);
    // Deleting the worker's allocation frees its two places; the delete's retransmission
    // (the thread's connected socket is closed by then: the main thread gets it) is answered
    // with the same success, not 437.
    const [first, again] = await reserver.requestTwice(Method.Refresh, [[Attr.Lifetime, new Uint8Array(4)]]);
    expect(first?.cls).toBe(Class.Success);
    expect(again?.cls, `retransmitted delete answered ${again?.code}`).toBe(Class.Success);
    const fresh = await reserver.refresh(0);
    expect(fresh?.code).toBe(437); // a new transaction after the delete: the RFC's 437
    const after = await client('after0');
    expect((await after.authed(Method.Allocate, [[Attr.RequestedTransport, new Uint8Array([17, 0, 0, 0])]]))?.cls).toBe(Class.Success);
  } finally {
    for (const c of clients) c.close();
    await r.stop();
  }
});

test('by default, one TURN thread per core', async () => {
  const cores = availableParallelism();
  const r = await startRelayProcess(['--auth-secret', SECRET, '--threads', '0']);
  try {
    if (cores > 1) expect(r.output()).toMatch(new RegExp(`^TURN threads: ${cores} on port ${r.turnPort} `, 'm'));
    else expect(r.output()).toMatch(/^TURN threads: 1 \(one per core/m);
    const m = await scrapeMetrics(`http://127.0.0.1:${r.signalPort}`);
    expect(m.hush_relay_turn_threads).toBe(cores);
  } finally {
    await r.stop();
  }
});

test('stops cleanly with every thread', async () => {
  await relay.stop();
  expect(relay.output()).toMatch(/^final: allocations \d+ /m);
});
