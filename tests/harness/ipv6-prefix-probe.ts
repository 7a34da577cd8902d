/**
 * Run inside a network namespace that routes 2001:db8:1:2::/64 and
 * 2001:db8:1:3::/64 to `lo` (tests/integration/relay-ipv6-prefix.test.ts
 * makes it): starts the relay on 2001:db8:1:2::1 and connects from many
 * addresses of one /64, then from another /64, printing what it saw as one
 * JSON line. Nothing here leaves the namespace.
 */
import dgram from 'node:dgram';
import WebSocket from 'ws';
import { startRelayProcess } from './relay';
import { Attr, Class, Method } from '../../relay-server/src/stun/constants';
import { fingerprintOf } from '../../relay-server/src/stun/fingerprint';
import { StunWriter } from '../../relay-server/src/stun/message';
import { randomBytes } from 'node:crypto';

const HOST = '2001:db8:1:2::1';
const PER_IP = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function first(url: string, localAddress: string): Promise<{ t: string; ws: WebSocket }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { localAddress, handshakeTimeout: 5000 });
    ws.on('error', (e) => resolve({ t: process.env.PROBE_DEBUG ? `refused ${(e as NodeJS.ErrnoException).code ?? e.message}` : 'refused', ws }));
    ws.on('close', () => resolve({ t: 'refused', ws }));
    setTimeout(() => resolve({ t: 'no answer', ws }), 6000);
    ws.once('message', (d) => resolve({ t: (JSON.parse(String(d)) as { t: string }).t, ws }));
  });
}

async function main(): Promise<void> {
  const relay = await startRelayProcess(['--listen', HOST, '--auth-secret', 'ipv6-prefix-secret', '--max-signal-per-ip', String(PER_IP), '--unauth-rate', '2']);
  const url = `ws://[${HOST}]:${relay.signalPort}/signal`;
  if (process.env.PROBE_DEBUG) console.log('relay up', url);
  const out: Record<string, unknown> = {};
  try {
    const sameNet = await Promise.all(Array.from({ length: 40 }, (_, i) => first(url, `2001:db8:1:2::${(0x100 + i).toString(16)}`)));
    out.sameNetChallenged = sameNet.filter((r) => r.t === 'challenge').length;
    if (process.env.PROBE_DEBUG) console.log(sameNet.map((r) => r.t).join(','));
    const otherNet = await Promise.all(Array.from({ length: 3 }, (_, i) => first(url, `2001:db8:1:3::${(0x100 + i).toString(16)}`)));
    out.otherNetChallenged = otherNet.filter((r) => r.t === 'challenge').length;
    for (const r of [...sameNet, ...otherNet]) r.ws.terminate();
    // Unauthenticated TURN: one Allocate from each of 40 addresses of one /64 (burst 4 per source).
    let answered = 0;
    const socks = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        new Promise<dgram.Socket>((resolve) => {
          const s = dgram.createSocket('udp6');
          s.on('message', () => answered++);
          s.bind(0, `2001:db8:1:2::${(0x200 + i).toString(16)}`, () => resolve(s));
        }),
      ),
    );
    for (const s of socks) {
      const w = new StunWriter(Method.Allocate, Class.Request, randomBytes(12));
      w.add(Attr.RequestedTransport, new Uint8Array([17, 0, 0, 0]));
      s.send(w.finish({ fingerprint: fingerprintOf }), relay.turnPort, HOST);
    }
    await sleep(500);
    out.unauthAnswered = answered;
    for (const s of socks) s.close();
  } finally {
    await relay.stop();
  }
  console.log(`RESULT ${JSON.stringify(out)}`);
}

void main().catch((e) => {
  console.log(`RESULT ${JSON.stringify({ error: String(e) })}`);
  process.exit(1);
});
