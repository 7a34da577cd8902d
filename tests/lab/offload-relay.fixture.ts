/**
 * Runs inside a network namespace (tests/lab/relay-offload.test.ts starts it
 * with `ip netns exec`): the relay's TURN shell with the kernel offload on,
 * on the namespace's own loopback (the peer socket is on the relay's own
 * address: --allow-self-peer), with a 3 s permission lifetime (the core's
 * config, which the CLI does not expose) so expiry can be watched. Drives it
 * with the test TURN client and a plain UDP peer, and prints one JSON line:
 *   - a ChannelBind to a peer the policy denies: its answer and the kernel
 *     installs before and after (must not change);
 *   - 20 datagrams each way on an allowed channel: delivered, and the
 *     kernel's counters (the fast path) against the userspace relay's;
 *   - the permission expires: the kernel entries go; 20 more datagrams from
 *     the client; then a CreatePermission refresh re-installs the channel
 *     and one marker datagram follows: the peer must see the marker only;
 *   - hairpin: a second client and the first bind channels to each other's
 *     relayed address (two relay-only clients of one relay); 20 datagrams
 *     each way arrive, each counted by the kernel for both of its hops.
 */
import dgram from 'node:dgram';
import { DEFAULTS, type RelayConfig } from '../../relay-server/src/config';
import { TurnShell } from '../../relay-server/src/net/turn-shell';
import { startDatapath } from '../../relay-server/src/offload/start-offload';
import { relayAddresses, turnShellOptions } from '../../relay-server/src/relay-options';
import { TurnTestClient } from '../harness/turn-client';
import { waitFor } from '../harness/wait';

const SECRET = 'offload-fixture-secret-0123456789';
const PERMISSION_SEC = 3;

const cfg: RelayConfig = { ...DEFAULTS, listen: '127.0.0.1', port: 0, altPort: null, tlsPort: null, signalPort: null, allowPeer: ['127.0.0.1/32'], authSecret: [SECRET], allowSelfPeer: true, offload: true };
const addresses = relayAddresses(cfg);
const options = turnShellOptions(cfg, [SECRET], null, addresses);
options.core = { ...options.core, permissionLifetimeSec: PERMISSION_SEC };
const turn = new TurnShell(options);
const bound = await turn.start();
const dp = await startDatapath(turn.core, { enabled: true, listenIp: '127.0.0.1', listenPort: bound.port, relayIp: addresses.relayIp, threads: 1, mode: 'auto' }, () => {});
const off = dp.offload;
if (!off) throw new Error(`no kernel offload: ${dp.describe()}`);

const peer = dgram.createSocket('udp4');
const atPeer: string[] = [];
await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
peer.on('message', (m) => atPeer.push(m.toString()));
const peerAddr = { family: 4 as const, address: '127.0.0.1', port: peer.address().port };

const client = TurnTestClient.withSecret({ host: '127.0.0.1', port: bound.port }, SECRET);
await client.open();
const relayed = await client.allocate();

const installsBefore = off.totals.installs;
const denied = await client.channelBind({ family: 4, address: '127.0.0.2', port: 9 }, 0x4001);
const deniedEntries = await off.kernelEntries();
const installsAfterDenied = off.totals.installs;

const bind = await client.channelBind(peerAddr, 0x4000);
const entriesBound = await off.kernelEntries();
for (let i = 0; i < 20; i++) client.sendChannel(0x4000, Buffer.from(`c2p-${i}`));
for (let i = 0; i < 20; i++) peer.send(Buffer.from(`p2c-${i}`), relayed.port, '127.0.0.1');
await waitFor(() => atPeer.length >= 20 && client.received.filter((r) => r.channel === 0x4000).length >= 20, { timeout: 10_000, what: () => `20 datagrams each way: peer ${atPeer.length}, client ${JSON.stringify(client.received.slice(0, 3))}, denied ${denied?.code}, bind ${bind?.cls} ${bind?.code}` });
await off.poll();
const kernelAfterTraffic = off.totals.packets;
const userspaceBytesAfterTraffic = turn.relayedBytes;

// The permission lapses (3 s): the once-a-second sweep takes the entries out of the kernel.
const expired = await waitFor(async () => {
  const e = await off.kernelEntries();
  return e.c2p === 0 && e.p2c === 0 ? e : false;
}, { timeout: 10_000, what: 'the kernel entries to go after the permission expired' });
for (let i = 0; i < 20; i++) client.sendChannel(0x4000, Buffer.from(`late-${i}`));
const refresh = await client.createPermission(peerAddr);
const entriesRefreshed = await off.kernelEntries();
client.sendChannel(0x4000, Buffer.from('marker'));
await waitFor(() => atPeer.includes('marker'), { timeout: 10_000, what: 'the marker after the refresh' });
await off.poll();
const kernelPacketsEnd = off.totals.packets;
const installsEnd = off.totals.installs;

// Hairpin: a second client whose peer is the first one's relayed address, and back (two relay-only
// clients of one relay): each datagram crosses both allocations in the kernel. On loopback a second
// pass would do it too (XDP_TX puts the first hop back in); on an interface the first hop's address
// is local (no next hop), so the program does both hops in one pass (ice-scenarios.test.ts, scenario 7).
const client2 = TurnTestClient.withSecret({ host: '127.0.0.1', port: bound.port }, SECRET);
await client2.open();
const relayed2 = await client2.allocate();
await client.channelBind(relayed2, 0x4002);
await client2.channelBind(relayed, 0x4001);
await off.kernelEntries(); // the helper answers in order: both entries are in the maps once this returns
const hairpinUserspaceBytes = turn.relayedBytes;
for (let i = 0; i < 20; i++) client.sendChannel(0x4002, Buffer.from(`to2-${i}`));
for (let i = 0; i < 20; i++) client2.sendChannel(0x4001, Buffer.from(`to1-${i}`));
const at = (c: TurnTestClient, ch: number, prefix: string) => c.received.filter((r) => r.channel === ch && r.data.toString().startsWith(prefix)).length;
await waitFor(() => at(client2, 0x4001, 'to2-') >= 20 && at(client, 0x4002, 'to1-') >= 20, { timeout: 10_000, what: () => `20 datagrams each way between two allocations: ${at(client2, 0x4001, 'to2-')} and ${at(client, 0x4002, 'to1-')}` });
await off.poll();

console.log(JSON.stringify({
  datapath: dp.path,
  denied: { code: denied?.code ?? null, installsBefore, installsAfter: installsAfterDenied, entries: deniedEntries },
  bound: { cls: bind?.cls, entries: entriesBound },
  traffic: { atPeer: atPeer.filter((m) => m.startsWith('c2p-')).length, atClient: client.received.filter((r) => r.channel === 0x4000).length, kernelPackets: kernelAfterTraffic, userspaceBytes: userspaceBytesAfterTraffic },
  expired,
  refresh: { code: refresh?.code ?? null, entries: entriesRefreshed },
  late: atPeer.filter((m) => m.startsWith('late-')).length,
  kernelPacketsEnd,
  installsEnd,
  hairpin: { at2: at(client2, 0x4001, 'to2-'), at1: at(client, 0x4002, 'to1-'), kernelPackets: off.totals.packets - kernelPacketsEnd, userspaceBytes: turn.relayedBytes - hairpinUserspaceBytes },
}));
client.close();
client2.close();
peer.close();
await dp.close();
await turn.close();
process.exit(0);
