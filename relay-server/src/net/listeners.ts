/**
 * Binding the TURN shell's client-facing sockets: a UDP socket and a TCP
 * server on the same port number (RFC 8656 §3.1: a client may use either at
 * the server's one address), a TLS server, and (in a TURN thread) a UDP
 * socket on the shared port connected to one client (turn-threads.ts).
 * Nothing here reads a datagram; turn-shell.ts attaches the handlers.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import type net from 'node:net';
import { RelayError } from '../errors';
import { createLiteralSocket } from './fast-udp';
import { MAX_STREAMS } from './stream-clients';
import { sharingOptions, type UdpSharing } from './udp-sharing';

/** Kernel buffers of the UDP listeners: a burst of media must not overflow them. */
const UDP_BUFFER = 4 * 1024 * 1024;

function udpType(listen: string): 'udp4' | 'udp6' {
  return listen.includes(':') ? 'udp6' : 'udp4';
}

/** A UDP listener on `listen`:`port`; `share` lets TURN threads connect sockets on the same port (udp-sharing.ts). */
export async function bindUdp(listen: string, port: number, share: UdpSharing | null): Promise<dgram.Socket> {
  const sock = createLiteralSocket({
    type: udpType(listen),
    recvBufferSize: UDP_BUFFER,
    sendBufferSize: UDP_BUFFER,
    ...(share ? sharingOptions(share) : {}),
  });
  try {
    // Register first: with a synchronous lookup, bind emits at once.
    const listening = once(sock, 'listening');
    sock.bind({ port, address: listen, exclusive: true });
    await listening;
  } catch (e) {
    sock.close();
    throw new RelayError('ERR_LISTEN', `cannot bind UDP port ${port}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return sock;
}

/** Start `server` on `listen`:`port`; every later server error calls `onError`. Resolves with the bound port. */
export async function listenTcp(server: net.Server, listen: string, port: number, onError: () => void): Promise<number> {
  server.maxConnections = MAX_STREAMS;
  server.on('error', onError);
  await new Promise<void>((resolve, reject) => {
    const onErr = (e: NodeJS.ErrnoException) => reject(new RelayError('ERR_LISTEN', `cannot listen on TCP port ${port}: ${e.code ?? 'error'}`));
    server.once('error', onErr);
    server.listen({ port, host: listen, exclusive: true }, () => {
      server.off('error', onErr);
      resolve();
    });
  });
  return (server.address() as net.AddressInfo).port;
}

/**
 * UDP and TCP on the same port number (any free one when `port` is 0: up
 * to 20 tries, as a UDP port the kernel picks may be taken for TCP).
 */
export async function bindPair(
  listen: string,
  port: number,
  share: UdpSharing | null,
  makeServer: () => net.Server,
  onError: () => void,
): Promise<{ sock: dgram.Socket; server: net.Server; port: number }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const sock = await bindUdp(listen, port, share);
    const bound = sock.address().port;
    const server = makeServer();
    try {
      await listenTcp(server, listen, bound, onError);
    } catch (e) {
      sock.close();
      if (port === 0) continue;
      throw e;
    }
    return { sock, server, port: bound };
  }
  throw new RelayError('ERR_LISTEN', 'could not find a port free for both UDP and TCP');
}

/**
 * A UDP socket bound to the shared TURN port and connected to one client:
 * the kernel then delivers that client's datagrams to it, not to the
 * listener (turn-threads.ts). Undefined if it cannot be made. `onError`
 * hears its errors until it is connected; then the caller must listen.
 */
export async function bindConnected(
  listen: string,
  port: number,
  client: { address: string; port: number },
  share: UdpSharing,
  onError: () => void,
): Promise<dgram.Socket | undefined> {
  const sock = createLiteralSocket({ type: udpType(listen), ...sharingOptions(share) });
  sock.on('error', onError);
  try {
    const listening = once(sock, 'listening');
    sock.bind({ port, address: listen });
    await listening;
    const connected = once(sock, 'connect');
    sock.connect(client.port, client.address);
    await connected;
  } catch {
    sock.close();
    return undefined;
  }
  // The caller listens for errors from here on (turn-shell.ts addUdp): one listener, not an array of two.
  sock.off('error', onError);
  return sock;
}
