/**
 * FastUdp on real loopback sockets: the handle fast path is active on this
 * Node, datagrams arrive intact, and when the send buffer fills (libuv
 * queues sends) reused request objects and header buffers never corrupt a
 * queued datagram. Many sockets share one receiver, told apart by owner;
 * literal-address sockets share one lookup and still bind, connect and send.
 */
import { afterEach, expect, test } from 'vitest';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { createLiteralSocket, FastUdp } from './fast-udp';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const sockets: dgram.Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

async function bound(opts: Partial<dgram.SocketOptions> = {}): Promise<dgram.Socket> {
  const s = dgram.createSocket({ type: 'udp4', ...opts });
  sockets.push(s);
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

test('fast path is active and delivers plain datagrams and ChannelData', async () => {
  const rx = await bound();
  const tx = new FastUdp(await bound());
  expect(tx.fast).toBe(true);
  const got: Buffer[] = [];
  new FastUdp(rx).onMessage((m) => got.push(m));
  tx.send(Buffer.from('hello'), rx.address().port, '127.0.0.1');
  tx.sendChannelData(0x4001, Buffer.from('media'), rx.address().port, '127.0.0.1');
  // A client's ChannelData (header, payload, UDP padding) relayed to its peer: the payload alone.
  const fromClient = Buffer.from('40010005' + Buffer.from('voice').toString('hex') + '000000', 'hex');
  tx.sendSlice(fromClient, 4, 5, rx.address().port, '127.0.0.1');
  tx.sendSlice(Buffer.from('x'.repeat(2000) + 'long'), 2000, 4, rx.address().port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 100));
  expect(got.map((b) => b.toString('hex'))).toEqual(['hello', '\u0040\u0001\u0000\u0005media', 'voice', 'long'].map((t) => Buffer.from(t, 'latin1').toString('hex')));
});

test('queued sends keep their own bytes (node --test-udp-no-try-send forces the queued path)', () => {
  const fixture = fileURLToPath(new URL('./fast-udp.fixture.ts', import.meta.url));
  const tsx = pathToFileURL(resolve(fileURLToPath(import.meta.url), '../../../../node_modules/tsx/dist/loader.mjs')).href;
  const r = spawnSync(process.execPath, ['--test-udp-no-try-send', '--import', tsx, fixture], { encoding: 'utf8', timeout: 20_000 });
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { fast: boolean; queued: number; received: number; bad: number };
  expect(out.fast).toBe(true);
  expect(out.queued).toBe(2000);
  expect(out.received).toBeGreaterThan(1000);
  expect(out.bad).toBe(0);
}, 30_000); // a child Node with tsx: over vitest's 5 s default on a loaded machine

test('one receiver for many sockets, each datagram with its own socket\'s owner', async () => {
  const got: string[] = [];
  const receiver = (m: Buffer, _r: dgram.RemoteInfo, owner: string) => got.push(`${owner}:${m.toString()}`);
  const a = new FastUdp<string>(await bound());
  const b = new FastUdp<string>(await bound());
  a.onMessage(receiver, 'a');
  b.onMessage(receiver, 'b');
  const tx = await bound();
  tx.send('1', a.sock.address().port, '127.0.0.1');
  tx.send('2', b.sock.address().port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 100));
  expect(got.sort()).toEqual(['a:1', 'b:2']);
});

test('sockets for IP literals (one shared lookup per family) bind, connect and send through the public API', async () => {
  const rx = await bound();
  const got: string[] = [];
  rx.on('message', (m) => got.push(m.toString()));
  const s = createLiteralSocket({ type: 'udp4' });
  sockets.push(s);
  // Listen first: with a synchronous lookup, bind and connect emit at once.
  const listening = once(s, 'listening');
  s.bind(0, '127.0.0.1');
  await listening;
  expect(s.address().address).toBe('127.0.0.1');
  s.send('public', rx.address().port, '127.0.0.1');
  const c = createLiteralSocket({ type: 'udp4' });
  sockets.push(c);
  const cListening = once(c, 'listening');
  c.bind(0, '127.0.0.1');
  await cListening;
  const connected = once(c, 'connect');
  c.connect(rx.address().port, '127.0.0.1');
  await connected;
  c.send('connected');
  await new Promise((r) => setTimeout(r, 100));
  expect(got.sort()).toEqual(['connected', 'public']);
});
