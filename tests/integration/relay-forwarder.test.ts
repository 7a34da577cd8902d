/**
 * The native forwarder (`--forwarder on`, relay-server/native/hush_forward.c,
 * issue 16) on real loopback sockets: the relay's TURN shell in this process
 * with the forwarder's C threads reading its UDP sockets. Everything a client
 * and a peer exchange is checked byte for byte, and the forwarder's own
 * counters say which path each datagram took:
 *  - before ChannelBind, Send and Data indications go through JavaScript;
 *  - after it, ChannelData both ways goes through the C threads (0 lost);
 *  - an entry whose expiry passed is not used by the C threads any more
 *    (JavaScript, which still holds the channel, relays instead);
 *  - a denied peer is never installed;
 *  - an allocation that ends removes its entry and its socket;
 *  - stopping the forwarder hands the sockets back to libuv: calls go on;
 *  - the real CLI with `--forwarder on --threads 2` under coturn's
 *    turnutils_uclient (a foreign TURN client, channels, relay to relay):
 *    none lost, every ChannelData through the C threads, /metrics says so.
 */
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULTS, type RelayConfig } from '../../relay-server/src/config';
import { TurnShell } from '../../relay-server/src/net/turn-shell';
import { startDatapath, type Datapath } from '../../relay-server/src/offload/start-offload';
import { relayAddresses, turnShellOptions } from '../../relay-server/src/relay-options';
import { TurnTestClient } from '../harness/turn-client';
import { waitFor } from '../harness/wait';
import { REPO_ROOT, startRelayProcess } from '../harness/relay';
import { runUclient } from '../harness/uclient';
import { scrapeMetrics } from '../harness/metrics';

const SECRET = 'forwarder-test-secret-0123456789abcdef';
const CH = 0x4001;

let turn: TurnShell;
let dp: Datapath;
let port: number;

function payload(i: number, size = 160): Buffer {
  const b = Buffer.alloc(size);
  for (let k = 0; k < size; k++) b[k] = (i * 31 + k * 7) & 0xff;
  b.writeUInt32BE(i, 0);
  return b;
}

async function udpPeer(address = '127.0.0.1'): Promise<{ sock: dgram.Socket; got: Array<{ data: Buffer; port: number }>; addr: { family: 4; address: string; port: number } }> {
  const sock = dgram.createSocket('udp4');
  const got: Array<{ data: Buffer; port: number }> = [];
  sock.on('message', (m, r) => got.push({ data: m, port: r.port }));
  await new Promise<void>((r) => sock.bind(0, address, () => r()));
  return { sock, got, addr: { family: 4, address, port: sock.address().port } };
}

/** Sends n datagrams in bursts of 50, waiting for each burst to arrive (loopback buffers, not the relay, would drop a 1 000-datagram burst). */
async function pump(n: number, send: (i: number) => void, arrived: () => number, what: string, burst = 50): Promise<void> {
  const base = arrived();
  for (let i = 0; i < n; i += burst) {
    for (let k = i; k < Math.min(n, i + burst); k++) send(k);
    await waitFor(() => arrived() - base >= Math.min(n, i + burst), { timeout: 10_000, interval: 5, what: () => `${what}: ${arrived() - base} of ${Math.min(n, i + burst)}` });
  }
}

/** A TURN shell on loopback whose datapath is the native forwarder with two threads; `onLost` gets what the relay would log. */
async function startForwarderRelay(onLost: (line: string) => void = () => {}): Promise<{ turn: TurnShell; dp: Datapath; port: number }> {
  const cfg: RelayConfig = { ...DEFAULTS, listen: '127.0.0.1', port: 0, altPort: null, tlsPort: null, signalPort: null, allowPeer: ['127.0.0.1/32'], authSecret: [SECRET], allowSelfPeer: true, forwarder: true };
  const addresses = relayAddresses(cfg);
  const turn = new TurnShell(turnShellOptions(cfg, [SECRET], null, addresses));
  const port = (await turn.start()).port;
  const dp = await startDatapath(turn.core, { enabled: false, listenIp: '127.0.0.1', listenPort: port, relayIp: addresses.relayIp, threads: 1, mode: 'auto', maxMessage: cfg.maxMessage, forwarder: { threads: 2, listener: turn.mainUdp() } }, onLost);
  return { turn, dp, port };
}

beforeAll(async () => {
  execFileSync('make', ['-s', '-C', resolve(REPO_ROOT, 'relay-server/native')], { stdio: 'pipe' });
  ({ turn, dp, port } = await startForwarderRelay());
});

afterAll(async () => {
  await dp?.close();
  await turn?.close();
});

describe('the native forwarder relays ChannelData in its C threads', () => {
  test('it runs, says so, and counts', () => {
    expect(dp.path, dp.describe()).toBe('forwarder');
    expect(dp.describe()).toMatch(/native forwarder, 2 thread/);
    const fam = Object.fromEntries(dp.families().map((f) => [f.name, f.samples[0]!.value]));
    expect(fam.hush_relay_forwarder).toBe(1);
    expect(fam.hush_relay_forwarder_threads).toBe(2);
    expect(fam.hush_relay_offload_kernel).toBe(0);
  });

  test('indications before the bind in JavaScript, ChannelData after it in C, byte for byte, both ways, none lost', async () => {
    const fwd = dp.forwarder!;
    const peer = await udpPeer();
    const client = TurnTestClient.withSecret({ host: '127.0.0.1', port }, SECRET);
    await client.open();
    const relayed = await client.allocate();
    expect((await client.createPermission(peer.addr))?.cls).toBe(0x100);

    // Send indication → peer, and the peer's answer → Data indication: JavaScript's.
    const js0 = fwd.totals().toJs;
    client.sendIndication(peer.addr, payload(1));
    await waitFor(() => peer.got.length === 1, { timeout: 5000, what: 'the Send indication at the peer' });
    expect(peer.got[0]!.data.equals(payload(1))).toBe(true);
    expect(peer.got[0]!.port).toBe(relayed.port);
    peer.sock.send(payload(2), relayed.port, '127.0.0.1');
    await waitFor(() => client.received.length === 1, { timeout: 5000, what: 'the Data indication at the client' });
    expect(client.received[0]!.channel).toBeUndefined();
    expect(client.received[0]!.data.equals(payload(2))).toBe(true);
    expect(fwd.totals().toJs - js0).toBeGreaterThanOrEqual(2);
    expect(fwd.totals().forwarded).toBe(0);

    expect((await client.channelBind(peer.addr, CH))?.cls).toBe(0x100);
    await waitFor(() => fwd.totals().entries === 1, { timeout: 5000, what: 'the entry in the forwarder' });
    const f0 = fwd.totals().forwarded;
    const jsRelayed0 = turn.relayedDatagrams;
    const N = 1000;
    peer.got.length = 0;
    await pump(N, (i) => client.sendChannel(CH, payload(i)), () => peer.got.length, 'client → peer');
    client.received.length = 0;
    await pump(N, (i) => peer.sock.send(payload(i), relayed.port, '127.0.0.1'), () => client.received.length, 'peer → client');

    // In the order sent, both ways, with two threads sharing the listener (one reads it at a time).
    expect(peer.got.map((g) => g.data.readUInt32BE(0))).toEqual([...Array(N).keys()]);
    expect(client.received.map((r) => r.data.readUInt32BE(0))).toEqual([...Array(N).keys()]);
    for (const g of peer.got) expect(g.data.equals(payload(g.data.readUInt32BE(0)))).toBe(true);
    for (const r of client.received) {
      expect(r.channel).toBe(CH);
      expect(r.data.equals(payload(r.data.readUInt32BE(0)))).toBe(true);
    }
    expect(new Set(client.received.map((r) => r.data.readUInt32BE(0))).size).toBe(N);
    // All 2 000 by the C threads, none by JavaScript.
    expect(fwd.totals().forwarded - f0).toBe(2 * N);
    expect(turn.relayedDatagrams - jsRelayed0).toBe(0);
    // Counted per entry and handed to the allocation (draining reads it) by the once-a-second poll.
    await dp.offload!.poll();
    expect(dp.offload!.totals.packets).toBeGreaterThanOrEqual(2 * N);
    client.close();
    peer.sock.close();
  });

  test('a client\'s datagrams keep their order with two threads on the listener (4 000 in bursts of 200)', async () => {
    const peer = await udpPeer();
    const client = TurnTestClient.withSecret({ host: '127.0.0.1', port }, SECRET);
    await client.open();
    await client.allocate();
    expect((await client.channelBind(peer.addr, CH))?.cls).toBe(0x100);
    await waitFor(() => dp.offload!.totals.entries >= 1 && dp.forwarder!.totals().entries >= 1, { timeout: 5000, what: 'the entry' });
    const f0 = dp.forwarder!.totals().forwarded;
    await pump(4000, (i) => client.sendChannel(CH, payload(i, 60)), () => peer.got.length, 'client → peer', 200);
    expect(dp.forwarder!.totals().forwarded - f0).toBe(4000);
    const seq = peer.got.map((g) => g.data.readUInt32BE(0));
    const late = seq.filter((v, i) => i > 0 && v < seq[i - 1]!).length;
    expect(late, 'datagrams that arrived after a later one').toBe(0);
    client.close();
    peer.sock.close();
  });

  test('an entry past its expiry is not used by the C threads', async () => {
    const fwd = dp.forwarder!;
    const peer = await udpPeer();
    const client = TurnTestClient.withSecret({ host: '127.0.0.1', port }, SECRET);
    await client.open();
    await client.allocate();
    expect((await client.channelBind(peer.addr, CH))?.cls).toBe(0x100);
    await waitFor(() => dp.offload!.totals.entries >= 1 && fwd.totals().entries >= 1, { timeout: 5000, what: 'the entry' });
    // The same entry again, expiring in 50 ms (as KernelOffload sends it when the channel or the permission nears its end).
    const key = `127.0.0.1 ${client.socket.address().port} 127.0.0.1 ${port} ${CH} 127.0.0.1 ${(await relayPortOf(client))} 127.0.0.1 ${peer.addr.port}`;
    expect(await fwd.command(`add ${key} 50`)).toEqual(['ok']);
    await new Promise((r) => setTimeout(r, 120));
    const f0 = fwd.totals().forwarded;
    const js0 = turn.relayedDatagrams;
    await pump(20, (i) => client.sendChannel(CH, payload(i)), () => peer.got.length, 'after the expiry');
    expect(fwd.totals().forwarded - f0).toBe(0);
    // JavaScript still holds the channel (its 10 minutes have not passed) and relays them itself.
    expect(turn.relayedDatagrams - js0).toBe(20);
    client.close();
    peer.sock.close();
  });

  test('closing a socket twice never stops the next socket that got its number', async () => {
    const fwd = dp.forwarder!;
    const peer = await udpPeer();
    const c1 = TurnTestClient.withSecret({ host: '127.0.0.1', port }, SECRET);
    const c2 = TurnTestClient.withSecret({ host: '127.0.0.1', port }, SECRET);
    await c1.open();
    await c2.open();
    await c1.allocate();
    const io1 = [...turn.core.table.all()].find((a) => a.tuple.port === c1.socket.address().port)!.io!;
    const fd1 = io1.out.fd;
    expect((await c1.refresh(0))?.cls).toBe(0x100);
    // The lowest free descriptor goes to the next socket: c2's relay socket gets c1's old number.
    const relayed2 = await c2.allocate();
    const io2 = [...turn.core.table.all()].find((a) => a.tuple.port === c2.socket.address().port)!.io!;
    expect(io2.out.fd, 'the same descriptor number').toBe(fd1);
    expect((await c2.createPermission(peer.addr))?.cls).toBe(0x100);
    // c1's socket closed again (as a careless path might): harmless.
    try {
      io1.socket.close();
    } catch {
      // ERR_SOCKET_DGRAM_NOT_RUNNING, as expected
    }
    const toJs0 = fwd.totals().toJs;
    peer.sock.send(payload(3), relayed2.port, '127.0.0.1');
    await waitFor(() => c2.received.length === 1, { timeout: 5000, what: 'the Data indication through the second socket' });
    expect(fwd.totals().toJs - toJs0, 'still read by the forwarder').toBe(1);
    c1.close();
    c2.close();
    peer.sock.close();
  });

  test('a denied peer is never installed', async () => {
    const fwd = dp.forwarder!;
    const before = fwd.totals().entries;
    const client = TurnTestClient.withSecret({ host: '127.0.0.1', port }, SECRET);
    await client.open();
    await client.allocate();
    const a = await client.channelBind({ family: 4, address: '10.9.8.7', port: 5000 }, CH);
    expect(a?.code).toBe(403);
    await dp.offload!.poll();
    expect(fwd.totals().entries).toBe(before);
    client.close();
  });

  test('an allocation that ends takes its entry with it', async () => {
    const fwd = dp.forwarder!;
    const peer = await udpPeer();
    const client = TurnTestClient.withSecret({ host: '127.0.0.1', port }, SECRET);
    await client.open();
    await client.allocate();
    const before = fwd.totals().entries;
    expect((await client.channelBind(peer.addr, CH))?.cls).toBe(0x100);
    await waitFor(() => fwd.totals().entries === before + 1, { timeout: 5000, what: 'the entry' });
    expect((await client.refresh(0))?.cls).toBe(0x100);
    await waitFor(() => fwd.totals().entries === before, { timeout: 5000, what: 'the entry removed' });
    const f0 = fwd.totals().forwarded;
    client.sendChannel(CH, payload(7));
    await new Promise((r) => setTimeout(r, 100));
    expect(fwd.totals().forwarded).toBe(f0);
    expect(peer.got.length).toBe(0);
    client.close();
    peer.sock.close();
  });
});

/** The relayed port of the client's allocation, as the core holds it. */
async function relayPortOf(client: TurnTestClient): Promise<number> {
  const cport = client.socket.address().port;
  for (const a of turn.core.table.all()) if (a.tuple.port === cport) return a.relayedAddress.port;
  throw new Error('no allocation for the client');
}

describe('when the forwarder stops', () => {
  test('libuv reads the sockets again and the call goes on in JavaScript', async () => {
    const peer = await udpPeer();
    const client = TurnTestClient.withSecret({ host: '127.0.0.1', port }, SECRET);
    await client.open();
    const relayed = await client.allocate();
    expect((await client.channelBind(peer.addr, CH))?.cls).toBe(0x100);
    await waitFor(() => dp.forwarder!.totals().entries >= 1, { timeout: 5000, what: 'the entry' });
    await dp.close();
    expect(dp.path).toBe('userspace');
    const js0 = turn.relayedDatagrams;
    await pump(100, (i) => client.sendChannel(CH, payload(i)), () => peer.got.length, 'client → peer after the stop');
    await pump(100, (i) => peer.sock.send(payload(i), relayed.port, '127.0.0.1'), () => client.received.length, 'peer → client after the stop');
    expect(turn.relayedDatagrams - js0).toBe(200);
    client.close();
    peer.sock.close();
  });

  test('a forwarder thread that fails stops the forwarder: libuv reads every socket again, the log and /metrics say so, the call goes on', async () => {
    // One forwarder per process (the addon's state is global): the shared one stops first (the test above already stopped it).
    await dp.close();
    const lost: string[] = [];
    const own = await startForwarderRelay((line) => lost.push(line));
    const peer = await udpPeer();
    const client = TurnTestClient.withSecret({ host: '127.0.0.1', port: own.port }, SECRET);
    try {
      expect(own.dp.path).toBe('forwarder');
      await client.open();
      const relayed = await client.allocate();
      expect((await client.channelBind(peer.addr, CH))?.cls).toBe(0x100);
      await waitFor(() => own.dp.forwarder!.totals().entries >= 1 && own.dp.offload!.totals.entries === 1, { timeout: 5000, what: 'the entry' });
      const f0 = own.dp.forwarder!.totals().forwarded;
      await pump(50, (i) => client.sendChannel(CH, payload(i)), () => peer.got.length, 'client → peer in C');
      await pump(50, (i) => peer.sock.send(payload(i), relayed.port, '127.0.0.1'), () => client.received.length, 'peer → client in C');
      expect(own.dp.forwarder!.totals().forwarded - f0).toBe(100);
      // Thread 1 reads the relay sockets (thread 0 the listener): without the fallback, the peer's
      // datagrams would wait in a socket nobody reads.
      const errors0 = own.dp.forwarder!.totals().threadErrors;
      own.dp.forwarder!.failThreadForTest(1);
      await waitFor(() => own.dp.path === 'userspace', { timeout: 5000, what: () => `the forwarder to stop (path ${own.dp.path})` });
      await waitFor(() => lost.length > 0, { timeout: 5000, what: 'the line the relay logs' });
      expect(lost).toEqual([expect.stringMatching(/^native forwarder stopped: 1 of its threads failed; every socket is read by JavaScript again/)]);
      expect(own.dp.describe()).toMatch(/^datapath: userspace \(--forwarder: native forwarder stopped: 1 of its threads failed/);
      const js0 = own.turn.relayedDatagrams;
      const got0 = peer.got.length;
      await pump(100, (i) => client.sendChannel(CH, payload(1000 + i)), () => peer.got.length, 'client → peer after the failure');
      await pump(100, (i) => peer.sock.send(payload(1000 + i), relayed.port, '127.0.0.1'), () => client.received.length, 'peer → client after the failure');
      expect(own.turn.relayedDatagrams - js0).toBe(200);
      expect(peer.got.slice(got0).map((g) => g.data.readUInt32BE(0))).toEqual(Array.from({ length: 100 }, (_, i) => 1000 + i));
      const fam = Object.fromEntries(own.dp.families().map((f) => [f.name, f.samples[0]!.value]));
      expect(fam.hush_relay_forwarder).toBe(0);
      expect(fam.hush_relay_forwarder_threads).toBe(0);
      expect(fam.hush_relay_forwarder_thread_errors_total).toBe(errors0 + 1);
    } finally {
      client.close();
      peer.sock.close();
      await own.dp.close();
      await own.turn.close();
    }
  });
});

describe('the relay CLI with --forwarder on, under coturn\'s turnutils_uclient', () => {
  test('UDP channels: none lost, every ChannelData through the C threads, /metrics says so', async () => {
    const relay = await startRelayProcess(['--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8', '--forwarder', 'on', '--threads', '2']);
    try {
      expect(relay.output()).toMatch(/^datapath: native forwarder, 2 thread\(s\), for ChannelData over UDP\/IPv4/m);
      const r = await runUclient(['-c', '-y', '-W', SECRET, '-u', 'forwarder', '-m', '4', '-n', '100', '-z', '5', '-l', '160', '-p', String(relay.turnPort), '127.0.0.1'], 60_000);
      expect(r.errors, r.output).toEqual([]);
      expect(r.sent, r.output).toBe(400);
      expect(r.received, r.output).toBe(r.sent);
      expect(r.lost, r.output).toBe(0);
      // Counted per entry, read once a second, and an allocation's last count when it ends.
      const m = await waitFor(async () => {
        const m = await scrapeMetrics(`http://127.0.0.1:${relay.signalPort}`);
        return (m.hush_relay_offload_packets_total ?? 0) >= 2 * r.sent ? m : false;
      }, { timeout: 10_000, what: 'the forwarder\'s counters in /metrics' });
      expect(m.hush_relay_offload_packets_total).toBe(2 * r.sent);
      expect(m.hush_relay_offload_bytes_total).toBe(2 * r.sent * 160);
      expect(m.hush_relay_relayed_packets_total).toBe(0);
      expect(m.hush_relay_forwarder).toBe(1);
      expect(m.hush_relay_forwarder_threads).toBe(2);
      expect(m.hush_relay_forwarder_dropped_total).toBe(0);
      expect(m.hush_relay_offload_kernel).toBe(0);
    } finally {
      await relay.stop();
    }
    // Nothing from the relay's log names an address of a client or a peer.
    expect(relay.output()).not.toMatch(/127\.0\.0\.1:\d+.*(client|peer)|(client|peer).*127\.0\.0\.1:\d+/);
  });
});

describe('a flood for JavaScript while its thread is busy', () => {
  test('junk to a relay port does not crowd out the listener: a Binding request sent during it is answered', async () => {
    const { spawn } = await import('node:child_process');
    await dp.close();
    const SECRET3 = 'forwarder-starve-secret-0123456789abcd';
    const cfg: RelayConfig = { ...DEFAULTS, listen: '127.0.0.1', port: 0, altPort: null, tlsPort: null, signalPort: null, allowPeer: ['127.0.0.1/32'], authSecret: [SECRET3], forwarder: true };
    const addresses = relayAddresses(cfg);
    const t3 = new TurnShell(turnShellOptions(cfg, [SECRET3], null, addresses));
    const p3 = (await t3.start()).port;
    const d3 = await startDatapath(t3.core, { enabled: false, listenIp: '127.0.0.1', listenPort: p3, relayIp: addresses.relayIp, threads: 1, mode: 'auto', maxMessage: cfg.maxMessage, forwarder: { threads: 1, listener: t3.mainUdp() } }, () => {});
    const a = TurnTestClient.withSecret({ host: '127.0.0.1', port: p3 }, SECRET3);
    try {
      expect(d3.path).toBe('forwarder');
      await a.open();
      const relayed = await a.allocate();
      // A stranger: 40 000 datagrams of 1 200 bytes to the relay port (48 MB, three times the bound).
      const flood = `const d=require('dgram');const s=d.createSocket('udp4');const b=Buffer.alloc(1200,7);let n=0;` +
        `(function go(){if(n>=40000){s.close();return}for(let k=0;k<40;k++,n++)s.send(b,${relayed.port},'127.0.0.1');setTimeout(go,1)})();`;
      // A client: a Binding request to the listener 0.8 s into the flood, while this thread is still blocked.
      const binding = `const d=require('dgram');const s=d.createSocket('udp4');s.bind(0,'127.0.0.1',()=>{setTimeout(()=>{` +
        `const m=Buffer.alloc(20);m.writeUInt16BE(1,0);m.writeUInt32BE(0x2112a442,4);require('crypto').randomFillSync(m,8,12);s.send(m,${p3},'127.0.0.1')},800);` +
        `s.on('message',(x)=>{process.stdout.write('answer '+x.readUInt16BE(0));process.exit(0)});setTimeout(()=>{process.stdout.write('none');process.exit(0)},6000)});`;
      const f = spawn(process.execPath, ['-e', flood], { stdio: 'ignore' });
      const b = spawn(process.execPath, ['-e', binding], { stdio: ['ignore', 'pipe', 'ignore'] });
      let said = '';
      b.stdout!.on('data', (d: Buffer) => (said += d.toString()));
      await new Promise((r) => setTimeout(r, 100));
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
      await new Promise((r) => b.once('exit', r));
      f.kill();
      expect(said, 'the Binding request was answered (success: 0x0101 = 257)').toBe('answer 257');
      expect(d3.forwarder!.totals().jsDropped, 'the junk past the relay socket\'s bound was dropped').toBeGreaterThan(0);
    } finally {
      a.close();
      await d3.close();
      await t3.close();
    }
  });


  test('what waits for JavaScript is bounded (16 MiB): the rest is dropped and counted, not queued', async () => {
    const { spawn } = await import('node:child_process');
    // One forwarder per process (the addon's threads and tables are the process's): the shared one stops first.
    await dp.close();
    const SECRET2 = 'forwarder-flood-secret-0123456789abcdef';
    const cfg: RelayConfig = { ...DEFAULTS, listen: '127.0.0.1', port: 0, altPort: null, tlsPort: null, signalPort: null, allowPeer: ['127.0.0.1/32'], authSecret: [SECRET2], forwarder: true, maxMessage: 65_535 };
    const addresses = relayAddresses(cfg);
    const t2 = new TurnShell(turnShellOptions(cfg, [SECRET2], null, addresses));
    const p2 = (await t2.start()).port;
    const d2 = await startDatapath(t2.core, { enabled: false, listenIp: '127.0.0.1', listenPort: p2, relayIp: addresses.relayIp, threads: 1, mode: 'auto', maxMessage: cfg.maxMessage, forwarder: { threads: 1, listener: t2.mainUdp() } }, () => {});
    try {
      expect(d2.path).toBe('forwarder');
      // 3 000 datagrams of 60 000 bytes (180 MB of junk, not STUN) from another process while this thread is blocked.
      const script = `const d=require('dgram');const s=d.createSocket('udp4');const b=Buffer.alloc(60000,7);let n=0;` +
        `(function go(){if(n>=3000){s.close();return}for(let k=0;k<20;k++,n++)s.send(b,${p2},'127.0.0.1');setTimeout(go,1)})();`;
      const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
      const rss0 = process.memoryUsage.rss();
      const t0 = d2.forwarder!.totals();
      // Block this thread (the relay's JavaScript) while the flood runs: batches can only queue.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 4000);
      const grown = process.memoryUsage.rss() - rss0;
      await new Promise((r) => child.once('exit', r));
      const t1 = d2.forwarder!.totals();
      const readByC = t1.toJs - t0.toJs + (t1.jsDropped - t0.jsDropped);
      expect(readByC, 'the C thread read the flood').toBeGreaterThan(1000);
      expect(t1.jsDropped - t0.jsDropped, 'dropped past the bound').toBeGreaterThan(0);
      // 16 MiB waiting (in batches) plus the thread's own batch buffer; without the bound it was the whole flood.
      expect(grown, `RSS grew ${grown} bytes while JavaScript was blocked`).toBeLessThan(48 << 20);
    } finally {
      await d2.close();
      await t2.close();
    }
  });
});
