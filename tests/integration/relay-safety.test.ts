/**
 * Safe-by-default promises on real sockets against the real CLI: no state
 * before authentication, peers denied in every spelling (403), quotas,
 * bounded and malformed input dropped without harm on UDP and TCP, and a
 * failed send to a peer that leaves the allocation standing.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { TurnTestClient } from '../harness/turn-client';
import { Attr, Method } from '../../relay-server/src/stun/constants';
import { scrapeMetrics } from '../harness/metrics';
import { sleep } from '../harness/wait';

const SECRET = 'safety-test-secret';
let relay: RelayProcess;
const clients: TurnTestClient[] = [];

async function client(id?: string): Promise<TurnTestClient> {
  const c = TurnTestClient.withSecret({ host: '127.0.0.1', port: relay.turnPort }, SECRET, id);
  await c.open();
  clients.push(c);
  return c;
}

async function metrics(): Promise<{ allocations: number }> {
  return { allocations: (await scrapeMetrics(`http://127.0.0.1:${relay.signalPort}`)).hush_relay_allocations! };
}

beforeAll(async () => {
  relay = await startRelayProcess(['--auth-secret', SECRET, '--allow-peer', '255.255.255.255/32', '--user-quota', '2', '--max-message', '1200']);
});
afterAll(async () => {
  for (const c of clients) c.close();
  await relay?.stop();
});

describe('relay safety on real sockets', () => {
  test('an unauthenticated Allocate gets 401 and leaves no allocation', async () => {
    const c = await client();
    const a = await c.request(Method.Allocate, [[Attr.RequestedTransport, new Uint8Array([17, 0, 0, 0])]], false);
    expect(a?.code).toBe(401);
    expect((await metrics()).allocations).toBe(0);
  });

  test.each(['127.0.0.1', '0.0.0.0', '10.0.0.1', '169.254.169.254', '100.64.0.1', '::ffff:127.0.0.1', '::1', '::', '64:ff9b::7f00:1', 'fe80::1'])(
    'CreatePermission and ChannelBind to %s: 403',
    async (addr) => {
      const c = await client();
      await c.allocate();
      const peer = { family: (addr.includes(':') ? 6 : 4) as 4 | 6, address: addr, port: 3478 };
      expect((await c.createPermission(peer))?.code).toBe(403);
      expect((await c.channelBind(peer, 0x4000))?.code).toBe(403);
      await c.refresh(0);
    },
  );

  test('per-user quota: the third allocation of one username gets 486', async () => {
    const id = randomBytes(4).toString('hex');
    const [a, b, c] = [await client(id), await client(id), await client(id)];
    await a.allocate();
    await b.allocate();
    await expect(c.allocate()).rejects.toThrow(/486/);
    await a.refresh(0);
    await b.refresh(0);
  });

  test('garbage, truncated and oversized datagrams are dropped; the relay keeps answering', async () => {
    const c = await client();
    for (let i = 0; i < 300; i++) c.raw(randomBytes(1 + (i % 200)));
    c.raw(Buffer.concat([Buffer.from('000100002112a442', 'hex'), randomBytes(8)])); // truncated header
    c.raw(Buffer.from('4000ffff0102', 'hex')); // ChannelData claiming 65535 bytes
    c.raw(Buffer.alloc(9000, 1)); // over --max-message
    await sleep(200); // intent: the relay has the garbage in hand before it is asked to answer
    expect(await c.binding()).toMatchObject({ address: '127.0.0.1' });
  });

  test('TCP: garbage closes that connection only; framing bounds hold', async () => {
    const closed = await new Promise<boolean>((resolve) => {
      const s = net.connect(relay.turnPort, '127.0.0.1', () => s.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3])));
      s.on('close', () => resolve(true));
      s.on('error', () => undefined);
      setTimeout(() => resolve(false), 3000);
    });
    expect(closed).toBe(true);
    const big = await new Promise<boolean>((resolve) => {
      const s = net.connect(relay.turnPort, '127.0.0.1', () => s.write(Buffer.from('0001fffc2112a442', 'hex')));
      s.on('close', () => resolve(true));
      s.on('error', () => undefined);
      setTimeout(() => resolve(false), 3000);
    });
    expect(big).toBe(true);
    expect(await (await client()).binding()).toBeDefined();
  });

  test('a send to a peer that fails (EACCES on broadcast) does not tear down the allocation', async () => {
    const c = await client();
    await c.allocate();
    const peer = { family: 4 as const, address: '255.255.255.255', port: 9 };
    expect((await c.createPermission(peer))?.cls).toBe(0x0100);
    for (let i = 0; i < 20; i++) c.sendIndication(peer, randomBytes(50));
    expect((await c.channelBind(peer, 0x4001))?.cls).toBe(0x0100);
    for (let i = 0; i < 20; i++) c.sendChannel(0x4001, randomBytes(50));
    await sleep(200); // intent: the failing sends happen before the allocation is checked
    expect((await c.refresh(600))?.cls).toBe(0x0100);
    await c.refresh(0);
  });

  test('the alternate port answers Binding with the same mapping, and refuses TURN', async () => {
    const c = await client();
    const main = await c.binding(relay.turnPort);
    const alt = await c.binding(relay.altPort);
    expect(alt).toEqual(main);
    const other = new TurnTestClient({ host: '127.0.0.1', port: relay.altPort }, 'x', 'y');
    await other.open();
    clients.push(other);
    expect((await other.request(Method.Allocate, [[Attr.RequestedTransport, new Uint8Array([17, 0, 0, 0])]], false))?.code).toBe(400);
  });

  test('the process survived all of it', async () => {
    expect(relay.output()).toMatch(/^ready$/m);
    expect((await metrics()).allocations).toBe(0);
  });
});
