/**
 * `--threads 2`: a second TURN shell in a worker thread on its own port.
 * coturn's uclient must relay through it with no loss, its allocations must
 * show in the aggregate metrics, and signalling must hand out both ports.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { identityFromSeed } from '../../lib/crypto/identity';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { SignalTestClient } from '../harness/signal-client';
import { runUclient } from '../harness/uclient';

const SECRET = 'threads-test-secret';
let relay: RelayProcess;
let threadPort: number;

beforeAll(async () => {
  relay = await startRelayProcess(['--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8', '--threads', '2']);
  threadPort = Number(/^listening stun\+turn udp [^\s]+:(\d+) \(thread 2\)$/m.exec(relay.output())?.[1]);
});
afterAll(async () => {
  await relay?.stop();
});

test('the second thread relays: uclient through its port, no loss', async () => {
  expect(threadPort).toBeGreaterThan(0);
  expect(threadPort).not.toBe(relay.turnPort);
  const r = await runUclient(['-c', '-y', '-W', SECRET, '-u', 'threaded', '-m', '4', '-n', '30', '-z', '10', '-p', String(threadPort), '127.0.0.1']);
  expect(r.errors, r.output).toEqual([]);
  expect(r.sent).toBe(120);
  expect(r.lost).toBe(0);
  await new Promise((res) => setTimeout(res, 1200)); // threads report counts every second
  const m = (await (await fetch(`http://127.0.0.1:${relay.signalPort}/metrics`)).json()) as Record<string, number>;
  expect(m.allocationsCreated).toBeGreaterThanOrEqual(4);
  expect(m.relayedDatagrams).toBeGreaterThanOrEqual(240);
});

test('signalling spreads TURN credentials over both ports', async () => {
  const c = await SignalTestClient.connect(relay.signalUrl);
  const ready = await c.auth(identityFromSeed(new Uint8Array(32).fill(9)));
  const ports = new Set<string>([(ready.turn as { urls: string[] }).urls[1]!]);
  c.send({ t: 'turn' });
  ports.add(((await c.next((f) => f.t === 'turn')).turn as { urls: string[] }).urls[1]!);
  expect([...ports].sort()).toEqual([`turn:127.0.0.1:${relay.turnPort}?transport=udp`, `turn:127.0.0.1:${threadPort}?transport=udp`].sort());
  c.close();
  await relay.stop();
  expect(relay.output()).toMatch(/^final: allocations 0 /m);
});
