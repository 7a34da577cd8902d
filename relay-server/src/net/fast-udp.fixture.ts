/**
 * Run by fast-udp.test.ts under `node --test-udp-no-try-send`, which makes
 * every UDP send take libuv's queued path: checks that reused request
 * objects, header buffers and sendSlice's scratch never corrupt a queued
 * datagram (nor does the caller reusing its buffer after sendSlice), also when two
 * sockets share them (they are per thread, not per socket). Prints JSON.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { FastUdp } from './fast-udp';

const rx = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
const txSock = dgram.createSocket('udp4');
const txSock2 = dgram.createSocket('udp4');
rx.bind(0, '127.0.0.1');
txSock.bind(0, '127.0.0.1');
txSock2.bind(0, '127.0.0.1');
await Promise.all([once(rx, 'listening'), once(txSock, 'listening'), once(txSock2, 'listening')]);
const tx = new FastUdp(txSock);
const tx2 = new FastUdp(txSock2);
let received = 0;
let bad = 0;
new FastUdp(rx).onMessage((m) => {
  received++;
  const len = m.readUInt16BE(2);
  const body = m.subarray(4);
  if (m.readUInt16BE(0) !== 0x4002 || len !== body.length || body.some((x) => x !== body[0]) || body[0] !== (len - 1) % 256) bad++;
});
// sendSlice's source: 4 bytes before the slice, a ChannelData message, padding after; overwritten after each send.
const source = Buffer.alloc(4 + 4 + 300 + 16);
for (let i = 0; i < 2000; i++) {
  const len = (i % 300) + 1;
  const out = i % 2 === 0 ? tx : tx2;
  if (i % 4 < 2) out.sendChannelData(0x4002, Buffer.alloc(len, (len - 1) % 256), rx.address().port, '127.0.0.1');
  else {
    source.fill(0xee);
    source.writeUInt16BE(0x4002, 4);
    source.writeUInt16BE(len, 6);
    source.fill((len - 1) % 256, 8, 8 + len);
    out.sendSlice(source, 4, 4 + len, rx.address().port, '127.0.0.1');
    source.fill(0xdd);
  }
  if (i % 100 === 0) await new Promise((r) => setImmediate(r));
}
await new Promise((r) => setTimeout(r, 500));
process.stdout.write(JSON.stringify({ fast: tx.fast && tx2.fast, queued: tx.queued + tx2.queued, received, bad }) + '\n');
rx.close();
txSock.close();
txSock2.close();
