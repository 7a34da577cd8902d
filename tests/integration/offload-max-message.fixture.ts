/**
 * Runs inside a network namespace (relay-offload-max-message.test.ts starts it with
 * `ip netns exec`): the relay's TURN shell with the kernel offload on and
 * `--max-message 600`, on the namespace's loopback. A client binds a channel to a
 * plain UDP peer and sends ChannelData of three sizes: 504 bytes (under the bound:
 * the kernel forwards it), 804 bytes (over the bound, under the 1480 bytes the
 * program checksums: before issue 16 the kernel forwarded it although the
 * userspace relay drops it), 1404 bytes; then one small marker, and prints
 * one JSON line of what reached the peer and what the kernel and userspace counted.
 */
import dgram from 'node:dgram';
import { DEFAULTS, type RelayConfig } from '../../relay-server/src/config';
import { TurnShell } from '../../relay-server/src/net/turn-shell';
import { startDatapath } from '../../relay-server/src/offload/start-offload';
import { relayAddresses, turnShellOptions } from '../../relay-server/src/relay-options';
import { TurnTestClient } from '../harness/turn-client';
import { waitFor } from '../harness/wait';

const SECRET = 'offload-max-message-secret-0123456789';
const MAX = 600;
const cfg: RelayConfig = { ...DEFAULTS, listen: '127.0.0.1', port: 0, altPort: null, tlsPort: null, signalPort: null, allowPeer: ['127.0.0.1/32'], authSecret: [SECRET], allowSelfPeer: true, offload: true, maxMessage: MAX };
const addresses = relayAddresses(cfg);
const turn = new TurnShell(turnShellOptions(cfg, [SECRET], null, addresses));
const bound = await turn.start();
const dp = await startDatapath(turn.core, { enabled: true, listenIp: '127.0.0.1', listenPort: bound.port, relayIp: addresses.relayIp, threads: 1, mode: 'auto', maxMessage: MAX }, () => {});
const off = dp.offload;
if (!off) throw new Error(`no kernel offload: ${dp.describe()}`);

const peer = dgram.createSocket('udp4');
const sizes: number[] = [];
await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
peer.on('message', (m) => sizes.push(m.length));
const peerAddr = { family: 4 as const, address: '127.0.0.1', port: peer.address().port };

const client = TurnTestClient.withSecret({ host: '127.0.0.1', port: bound.port }, SECRET);
await client.open();
await client.allocate();
const bind = await client.channelBind(peerAddr, 0x4000);
// The kernel entry is installed by the offload helper after the bind's answer (asynchronously: until
// then the channel's datagrams go through userspace, as they should); the bound is the kernel's to hold.
await waitFor(async () => (await off.kernelEntries()).c2p >= 1, { timeout: 10_000, interval: 20, what: 'the channel in the kernel maps' });
const droppedBefore = turn.dropped;
for (let i = 0; i < 10; i++) client.sendChannel(0x4000, Buffer.alloc(500, 1));
for (let i = 0; i < 10; i++) client.sendChannel(0x4000, Buffer.alloc(800, 2));
for (let i = 0; i < 10; i++) client.sendChannel(0x4000, Buffer.alloc(1400, 3));
client.sendChannel(0x4000, Buffer.alloc(8, 4));
await waitFor(() => sizes.includes(8), { timeout: 10_000, what: () => `the marker (peer got ${sizes.join(',')})` });
await off.poll();

console.log(JSON.stringify({
  datapath: dp.path,
  bind: bind?.cls ?? null,
  atPeer: { small: sizes.filter((s) => s === 500).length, over: sizes.filter((s) => s === 800).length, large: sizes.filter((s) => s === 1400).length },
  kernelPackets: off.totals.packets,
  userspaceRelayed: turn.relayedDatagrams,
  dropped: turn.dropped - droppedBefore,
}));
client.close();
peer.close();
await dp.close();
await turn.close();
process.exit(0);
