/**
 * EVEN-PORT reservations (issue 22, point 4) on the real CLI: a reserved port
 * counts against the per-user and total quotas like an allocation, and is
 * freed when the allocation that reserved it is deleted, so allocate/delete
 * cycles leave the relay's open files where they were (before: +1 socket per
 * cycle for 30 s). turnutils_uclient's RTCP pairs (EVEN-PORT, then
 * RESERVATION-TOKEN) keep working.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readdirSync } from 'node:fs';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { TurnTestClient } from '../harness/turn-client';
import { runUclient } from '../harness/uclient';
import { Attr, Class, Method } from '../../relay-server/src/stun/constants';

const SECRET = 'even-port-test-secret';
const UDP = new Uint8Array([17, 0, 0, 0]);
const RESERVE = new Uint8Array([0x80]);
let relay: RelayProcess;
const clients: TurnTestClient[] = [];

beforeAll(async () => {
  relay = await startRelayProcess(['--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8', '--user-quota', '4', '--total-quota', '60']);
});
afterAll(async () => {
  for (const c of clients) c.close();
  await relay?.stop();
});

const openFiles = () => readdirSync(`/proc/${relay.pid}/fd`).length;

async function client(id?: string): Promise<TurnTestClient> {
  const c = TurnTestClient.withSecret({ host: '127.0.0.1', port: relay.turnPort }, SECRET, id);
  await c.open();
  clients.push(c);
  return c;
}

const reserve = (c: TurnTestClient) => c.authed(Method.Allocate, [[Attr.RequestedTransport, UDP], [Attr.EvenPort, RESERVE]]);

describe('EVEN-PORT reservations', () => {
  test('count against the per-user quota: two reserving Allocates fill a quota of 4', async () => {
    const id = 'evenquota';
    const [a, b, c] = [await client(id), await client(id), await client(id)];
    expect((await reserve(a))?.cls).toBe(Class.Success);
    expect((await reserve(b))?.cls).toBe(Class.Success);
    const third = await c.authed(Method.Allocate, [[Attr.RequestedTransport, UDP]]);
    expect(third?.code).toBe(486);
    // Deleting one frees its allocation and its reservation at once.
    await a.refresh(0);
    expect((await reserve(c))?.cls).toBe(Class.Success);
    await b.refresh(0);
    await c.refresh(0);
  });

  test('1,000 allocate (R=1) / delete cycles: open files stay bounded', async () => {
    const before = openFiles();
    let ok = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        const c = await client();
        for (let i = 0; i < 100; i++) {
          if ((await reserve(c))?.cls === Class.Success) ok++;
          await c.refresh(0);
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 300)); // socket closes complete in libuv's next turn
    const after = openFiles();
    expect(ok).toBe(1000);
    // Without the fix: +1,000 (a reserved socket per cycle, held 30 s). Now nothing is left but noise.
    expect(after - before).toBeLessThanOrEqual(10);
  }, 60_000);

  test('turnutils_uclient with RTCP pairs (EVEN-PORT, RESERVATION-TOKEN) relays everything', async () => {
    // A relay with the default quota (10 per user): uclient's pairs need more than the 4 above.
    const other = await startRelayProcess(['--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8']);
    const u = await runUclient(['-y', '-W', SECRET, '-u', 'evenuclient', '-m', '2', '-n', '20', '-z', '10', '-l', '160', '-p', String(other.turnPort), '127.0.0.1']).finally(() => other.stop());
    expect(u.errors, u.output).toEqual([]);
    expect(u.received, u.output).toBe(u.sent);
  });
});
