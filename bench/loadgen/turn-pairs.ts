/**
 * The TURN side of hush-loadgen's load, done in Node with the test TURN
 * client (tests/harness/turn-client.ts): for each pair of clients, two
 * allocations with long-term (shared-secret) credentials and a ChannelBind
 * each way, client A's channel pointing at client B's relayed address and
 * B's at A's, as turnutils_uclient -y does. Each client is its own source
 * address on loopback (127.20.x.y) and every client uses the one local
 * port P, so the C generator can later send for all of them from one socket
 * bound to 0.0.0.0:P (see hush-loadgen.c for why).
 *
 * The Node sockets are closed at the end: the server keeps each allocation,
 * keyed by its 5-tuple, for its lifetime (600 s, RFC 8656 §7.2), its
 * permission for 300 s and its channel for 600 s (§9, §12). Nothing is
 * refreshed, so a round must end within the permission's 300 s
 * (loadgen.ts checks it before it starts).
 * Caveat: with many clients on loopback source addresses, a per-source-address
 * quota on the server does not apply as it would to one host's clients.
 */
import dgram from 'node:dgram';
import { Class } from '../../relay-server/src/stun/constants';
import { TurnTestClient } from '../../tests/harness/turn-client';
import { LoadgenError } from './errors';

/** Every client binds this channel on its own allocation (channel numbers are per allocation). */
export const LOAD_CHANNEL = 0x4000;
/** Permissions last 300 s (RFC 8656 §9) and are not refreshed: a round must end before. */
export const PERMISSION_LIFETIME_S = 300;
/** Local ports below Linux's ephemeral range (32768-60999) and the relays' 49152-65535. */
const PORT_RANGE = [20000, 32000] as const;
const SETUP_CONCURRENCY = 32;

export interface LoadClient {
  address: string;
  serverHost: string;
  serverPort: number;
  /** The channel this client bound (its datagrams to the partner go on it, the partner's come back on it). */
  channel: number;
  partner: number;
}

/** Client i's loopback source address: 127.20.0.1, …, 127.20.0.250, 127.20.1.1, … */
export function clientAddress(i: number): string {
  return `127.20.${Math.floor(i / 250)}.${1 + (i % 250)}`;
}

/** A UDP port free on 0.0.0.0 in PORT_RANGE, for the clients and then the generator. */
export async function freeLoadPort(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = PORT_RANGE[0] + Math.floor(Math.random() * (PORT_RANGE[1] - PORT_RANGE[0]));
    const s = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((r) => {
      s.once('error', () => r(false));
      s.bind(port, '0.0.0.0', () => r(true));
    });
    s.close();
    if (ok) return port;
  }
  throw new LoadgenError('ERR_LOADGEN_NO_PORT', `No free UDP port between ${PORT_RANGE[0]} and ${PORT_RANGE[1]} for the load clients: free some, or run the bench in its own network namespace (as root).`);
}

async function pair(host: string, port: number, secret: string, localPort: number, ia: number): Promise<[LoadClient, LoadClient]> {
  const a = TurnTestClient.withSecret({ host, port }, secret);
  const b = TurnTestClient.withSecret({ host, port }, secret);
  try {
    await a.open(clientAddress(ia), localPort);
    await b.open(clientAddress(ia + 1), localPort);
    const [ra, rb] = await Promise.all([a.allocate(), b.allocate()]);
    const [ba, bb] = await Promise.all([a.channelBind(rb, LOAD_CHANNEL), b.channelBind(ra, LOAD_CHANNEL)]);
    for (const x of [ba, bb]) {
      if (x?.cls !== Class.Success) throw new LoadgenError('ERR_LOADGEN_SETUP', `ChannelBind for load clients ${ia} and ${ia + 1} failed (${x?.code ?? 'no answer'}): check the server's peer policy and quotas.`);
    }
  } catch (e) {
    if (e instanceof LoadgenError) throw e;
    throw new LoadgenError('ERR_LOADGEN_SETUP', `TURN set-up of load clients ${ia} and ${ia + 1} on port ${port} failed: ${(e as Error).message}.`);
  } finally {
    a.close();
    b.close();
  }
  return [
    { address: clientAddress(ia), serverHost: host, serverPort: port, channel: LOAD_CHANNEL, partner: ia + 1 },
    { address: clientAddress(ia + 1), serverHost: host, serverPort: port, channel: LOAD_CHANNEL, partner: ia },
  ];
}

/**
 * `clients` (even) allocations in pairs on `host`, pair k on `ports[k % ports.length]`,
 * every client on local port `localPort`; their sockets are closed when this returns.
 */
export async function setUpPairs(host: string, ports: number[], secret: string, clients: number, localPort: number): Promise<LoadClient[]> {
  if (clients < 2 || clients % 2 !== 0) throw new LoadgenError('ERR_LOADGEN_SETUP', `The load generator runs clients in pairs: ${clients} is not an even number of at least 2.`);
  const out: LoadClient[] = new Array(clients);
  let next = 0;
  const worker = async () => {
    while (next < clients / 2) {
      const k = next++;
      const [a, b] = await pair(host, ports[k % ports.length]!, secret, localPort, 2 * k);
      out[2 * k] = a;
      out[2 * k + 1] = b;
    }
  };
  await Promise.all(Array.from({ length: Math.min(SETUP_CONCURRENCY, clients / 2) }, worker));
  return out;
}
