/**
 * The relay never relays to itself (issue 22, point 1; docs/hardening.md):
 * an allocation chain through the relay fails at its first hop. A peer on the
 * relay's own address is refused (403) on its TURN and alternate ports, and a
 * datagram reaching the TURN port from one of its own relay sockets is dropped
 * and counted, even where the operator allowed self peers. Relay-to-relay
 * between two allocations of the same relay (both callers in privacy mode)
 * keeps working, with our client and with coturn's turnutils_uclient.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { TurnTestClient } from '../harness/turn-client';
import { runUclient } from '../harness/uclient';
import { scrapeMetrics } from '../harness/metrics';
import { Attr, Class, Method } from '../../relay-server/src/stun/constants';
import { StunWriter } from '../../relay-server/src/stun/message';
import { fingerprintOf } from '../../relay-server/src/stun/fingerprint';

const SECRET = 'self-loop-test-secret';
const relays: RelayProcess[] = [];
const clients: TurnTestClient[] = [];

async function client(relay: RelayProcess): Promise<TurnTestClient> {
  const c = TurnTestClient.withSecret({ host: '127.0.0.1', port: relay.turnPort }, SECRET);
  await c.open();
  clients.push(c);
  return c;
}

async function relay(extra: string[] = []): Promise<RelayProcess> {
  // 127/8 allowed as peers: what denies the relay's own address here is the self rule alone.
  const r = await startRelayProcess(['--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8', ...extra]);
  relays.push(r);
  return r;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(relays.map((r) => r.stop()));
});

describe('an allocation chain through the relay itself', () => {
  test('peers on the relay\'s own TURN and alternate ports get 403; its relay ports work', async () => {
    const r = await relay();
    const [a, b] = [await client(r), await client(r)];
    await a.allocate();
    const relayedB = await b.allocate();
    for (const port of [r.turnPort, r.altPort]) {
      const self = { family: 4 as const, address: '127.0.0.1', port };
      expect((await a.createPermission(self))?.code).toBe(403);
      expect((await a.channelBind(self, 0x4001))?.code).toBe(403);
    }
    // Relay-to-relay on one relay: A's peer is B's relayed address.
    const ok = await a.channelBind(relayedB, 0x4002);
    expect(ok?.cls).toBe(Class.Success);
  });

  test('a datagram from a relay socket to the TURN port is dropped and counted, even with --allow-self-peer on', async () => {
    const r = await relay(['--allow-self-peer', 'on']);
    const a = await client(r);
    await a.allocate();
    const turn = { family: 4 as const, address: '127.0.0.1', port: r.turnPort };
    // The operator allowed self peers: the permission is granted...
    expect((await a.createPermission(turn))?.cls).toBe(Class.Success);
    const before = await scrapeMetrics(`http://127.0.0.1:${r.signalPort}`);
    // ...but a request sent from A's relay socket to the TURN port (a second hop) is never answered.
    const allocate = new StunWriter(Method.Allocate, Class.Request, Buffer.alloc(12, 7));
    allocate.add(Attr.RequestedTransport, new Uint8Array([17, 0, 0, 0]));
    const got: Buffer[] = [];
    a.onData = (d) => got.push(d);
    for (let i = 0; i < 20; i++) a.sendIndication(turn, allocate.finish({ fingerprint: fingerprintOf }));
    await sleep(500);
    const after = await scrapeMetrics(`http://127.0.0.1:${r.signalPort}`);
    expect(got).toEqual([]); // no 401 came back through the loop
    expect(after.hush_relay_dropped_total! - before.hush_relay_dropped_total!).toBeGreaterThanOrEqual(20);
    expect(after.hush_relay_turn_unauthenticated_total ?? 0).toBe(before.hush_relay_turn_unauthenticated_total ?? 0);
  });

  test('a real TURN client (turnutils_uclient, relay to relay on the same relay) keeps working', async () => {
    const r = relays[0]!;
    const u = await runUclient(['-c', '-y', '-W', SECRET, '-u', 'selfloop', '-m', '2', '-n', '20', '-z', '10', '-l', '160', '-p', String(r.turnPort), '127.0.0.1']);
    expect(u.errors, u.output).toEqual([]);
    expect(u.received, u.output).toBe(u.sent);
    expect(u.lost, u.output).toBe(0);
  });
});
