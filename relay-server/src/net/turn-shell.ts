/**
 * The I/O shell around TurnCore: UDP listeners, TCP/TLS listeners, relay
 * sockets. It hands bytes to the core and carries out the actions it
 * returns. The two hot paths (ChannelData client→peer, peer→client) live
 * here as straight-line code: one table lookup in the core, one send, no
 * closure or action object per packet, no logging.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import type { RelayRequest, TurnAction } from '../turn/actions';
import { tupleKey, type ClientTuple } from '../turn/allocation';
import { CHANNEL_DATA_HEADER_LEN } from '../stun/constants';
import { channelDataStreamLen, writeChannelDataHeader } from '../turn/channel-data';
import type { TurnCoreConfig } from '../turn/config';
import { TurnCore } from '../turn/core';
import { StreamFramer } from '../turn/stream-framer';
import { literalLookup, RelaySockets, type RelayIO } from './relay-sockets';
import { RelayError } from '../errors';
import { FastUdp } from './fast-udp';

/** Per-stream bytes queued before media to that client is dropped (not buffered). */
const STREAM_HIGH_WATER = 256 * 1024;
const STREAM_IDLE_MS = 120_000;
const MAX_STREAMS = 8192;
const UDP_BUFFER = 4 * 1024 * 1024;

export interface TurnShellOptions {
  core: Partial<TurnCoreConfig> & Pick<TurnCoreConfig, 'realm' | 'authSecret'>;
  listen: string;
  port: number;
  altPort: number | null;
  tlsPort: number | null;
  tls: { cert: Buffer; key: Buffer } | null;
  relayBind: { 4: string | null; 6: string | null };
  relayAnnounce: { 4: string | null; 6: string | null };
  minPort: number;
  maxPort: number;
  maxMessage: number;
  /** Key of the stateless nonces; shared by all TURN threads so a nonce from one is good in another. */
  nonceKey?: Uint8Array;
  /** Set SO_REUSEADDR on the main UDP listener so TURN threads can connect sockets on its port. */
  shareListenPort?: boolean;
  /** Main thread with TURN threads: offer an authenticated UDP Allocate to a thread; true if taken. */
  handoff?: (req: RelayRequest) => boolean;
}

/** A shell's aggregate counts (summed over TURN threads by turn-threads.ts). */
export interface TurnStats {
  allocations: number;
  allocationsPeak: number;
  allocationsCreated: number;
  relayedDatagrams: number;
  relayedBytes: number;
  /** Unauthenticated answers + peers denied + quota refusals (the log's "requests rejected"). */
  rejected: number;
  challenged: number;
  authFailed: number;
  peerDenied: number;
  quotaRejected: number;
  drainRefused: number;
  rateLimited: number;
  malformed: number;
  dropped: number;
  tcpConnections: number;
}

export const ZERO_TURN_STATS: TurnStats = {
  allocations: 0, allocationsPeak: 0, allocationsCreated: 0, relayedDatagrams: 0, relayedBytes: 0, rejected: 0, challenged: 0,
  authFailed: 0, peerDenied: 0, quotaRejected: 0, drainRefused: 0, rateLimited: 0, malformed: 0, dropped: 0, tcpConnections: 0,
};

export interface BoundPorts {
  port: number;
  altPort: number | null;
  tlsPort: number | null;
}

export class TurnShell {
  readonly core: TurnCore<RelayIO>;
  readonly relays: RelaySockets;
  /** Client-facing UDP sockets by listener index: listeners, and (in TURN threads) one connected socket per adopted allocation. */
  private readonly udp = new Map<number, dgram.Socket>();
  private readonly udpOut = new Map<number, FastUdp>();
  private nextListener = 0;
  /** Connected client sockets of adopted allocations, by allocation id. */
  private readonly adoptedSockets = new Map<number, number>();
  private readonly servers: net.Server[] = [];
  private readonly streams = new Map<number, net.Socket>();
  private nextConn = 1;
  private tickTimer: NodeJS.Timeout | undefined;
  private tlsServer: tls.Server | undefined;
  relayedDatagrams = 0;
  relayedBytes = 0;
  dropped = 0;

  constructor(private readonly o: TurnShellOptions) {
    this.core = new TurnCore<RelayIO>(o.core, o.nonceKey);
    this.relays = new RelaySockets(o.relayBind, o.relayAnnounce, o.minPort, o.maxPort, (io, msg, rinfo) => this.fromPeer(io, msg, rinfo));
  }

  async start(): Promise<BoundPorts> {
    const main = await this.bindPair(this.o.port, false);
    let alt: number | null = null;
    if (this.o.altPort !== null) alt = await this.bindPair(this.o.altPort, true);
    let tlsPort: number | null = null;
    if (this.o.tls && this.o.tlsPort !== null) {
      const server = tls.createServer({ cert: this.o.tls.cert, key: this.o.tls.key, minVersion: 'TLSv1.2' });
      server.on('secureConnection', (s) => this.onStream(s, 'tls', 2, false));
      server.on('tlsClientError', () => this.dropped++);
      tlsPort = await this.listenTcp(server, this.o.tlsPort);
      this.tlsServer = server;
    }
    this.tickTimer = setInterval(() => this.run(this.core.tick(Date.now())), 1000);
    this.tickTimer.unref();
    return { port: main, altPort: alt, tlsPort };
  }

  /** New TURN-over-TLS handshakes use this certificate; connections already up keep theirs (SIGHUP). */
  setTls(material: { cert: Buffer; key: Buffer }): void {
    this.tlsServer?.setSecureContext({ cert: material.cert, key: material.key, minVersion: 'TLSv1.2' });
  }

  /** UDP and TCP on the same port number (any free one when port is 0). */
  private async bindPair(port: number, stunOnly: boolean): Promise<number> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const sock = await this.bindUdp(port);
      const bound = sock.address().port;
      const server = net.createServer({ noDelay: true });
      const listener = this.nextListener;
      server.on('connection', (s) => this.onStream(s, 'tcp', stunOnly ? 1 : 0, stunOnly));
      try {
        await this.listenTcp(server, bound);
      } catch (e) {
        sock.close();
        if (port === 0) continue;
        throw e;
      }
      this.nextListener++;
      this.udp.set(listener, sock);
      this.udpOut.set(listener, new FastUdp(sock));
      this.attachUdp(sock, listener, stunOnly);
      return bound;
    }
    throw new RelayError('ERR_LISTEN', 'could not find a port free for both UDP and TCP');
  }

  private async bindUdp(port: number): Promise<dgram.Socket> {
    const v6 = this.o.listen.includes(':');
    const sock = dgram.createSocket({
      type: v6 ? 'udp6' : 'udp4',
      lookup: literalLookup as never,
      recvBufferSize: UDP_BUFFER,
      sendBufferSize: UDP_BUFFER,
      // With TURN threads, connected per-client sockets share this port (turn-threads.ts).
      reuseAddr: this.o.shareListenPort === true,
    });
    try {
      // Register first: with a synchronous lookup, bind emits at once.
      const listening = once(sock, 'listening');
      sock.bind({ port, address: this.o.listen, exclusive: true });
      await listening;
    } catch (e) {
      sock.close();
      throw new RelayError('ERR_LISTEN', `cannot bind UDP port ${port}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    return sock;
  }

  private async listenTcp(server: net.Server, port: number): Promise<number> {
    server.maxConnections = MAX_STREAMS;
    server.on('error', () => this.dropped++);
    await new Promise<void>((resolve, reject) => {
      const onErr = (e: NodeJS.ErrnoException) => reject(new RelayError('ERR_LISTEN', `cannot listen on TCP port ${port}: ${e.code ?? 'error'}`));
      server.once('error', onErr);
      server.listen({ port, host: this.o.listen, exclusive: true }, () => {
        server.off('error', onErr);
        resolve();
      });
    });
    this.servers.push(server);
    return (server.address() as net.AddressInfo).port;
  }

  // ─────────────────────────────── UDP clients ───────────────────────────────

  private attachUdp(sock: dgram.Socket, listener: number, stunOnly: boolean): void {
    const core = this.core;
    const max = this.o.maxMessage;
    sock.on('error', () => this.dropped++);
    this.udpOut.get(listener)!.onMessage((msg, rinfo) => {
      if (msg.length > max || msg.length < 4) {
        this.dropped++;
        return;
      }
      if ((msg[0]! & 0xc0) === 0x40) {
        // Hot path: ChannelData from a client (RFC 8656 §12.5).
        if (stunOnly) return;
        const ch = core.channelFromUdpClient(listener, rinfo.address, rinfo.port, (msg[0]! << 8) | msg[1]!, Date.now());
        const len = (msg[2]! << 8) | msg[3]!;
        if (ch === undefined || len + 4 > msg.length) {
          this.dropped++;
          return;
        }
        ch.allocation.io!.out.send(msg.subarray(4, 4 + len), ch.peerPort, ch.peerAddress);
        this.relayedDatagrams++;
        this.relayedBytes += len;
        return;
      }
      const tuple: ClientTuple = {
        transport: 'udp',
        listener,
        conn: 0,
        family: rinfo.family === 'IPv6' ? 6 : 4,
        address: rinfo.address,
        port: rinfo.port,
      };
      this.guard(() => this.run(core.handleMessage(tuple, msg, Date.now(), stunOnly)));
    });
  }

  // ───────────────────────────── TCP/TLS clients ─────────────────────────────

  private onStream(s: net.Socket, transport: 'tcp' | 'tls', listener: number, stunOnly: boolean): void {
    s.on('error', () => this.dropped++);
    const address = s.remoteAddress;
    const port = s.remotePort;
    if (!address || port === undefined || this.streams.size >= MAX_STREAMS) {
      s.destroy();
      return;
    }
    const conn = this.nextConn++;
    this.streams.set(conn, s);
    const tuple: ClientTuple = { transport, listener, conn, family: s.remoteFamily === 'IPv6' ? 6 : 4, address, port };
    const framer = new StreamFramer(this.o.maxMessage);
    const core = this.core;
    const sink = (frame: Uint8Array, isChannel: boolean): void => {
      if (isChannel) {
        if (stunOnly) return;
        const ch = core.channelFromStreamClient(conn, (frame[0]! << 8) | frame[1]!, Date.now());
        if (ch === undefined) {
          this.dropped++;
          return;
        }
        ch.allocation.io!.out.send(frame.subarray(4), ch.peerPort, ch.peerAddress);
        this.relayedDatagrams++;
        this.relayedBytes += frame.length - 4;
        return;
      }
      this.guard(() => this.run(core.handleMessage(tuple, frame, Date.now(), stunOnly)));
    };
    s.setNoDelay(true);
    s.setTimeout(STREAM_IDLE_MS, () => s.destroy());
    s.on('data', (chunk: Buffer) => {
      if (!framer.push(chunk, sink)) {
        this.dropped++;
        s.destroy();
      }
    });
    s.on('close', () => {
      this.streams.delete(conn);
      this.guard(() => this.run(core.connectionClosed(conn)));
    });
  }

  // ───────────────────────────────── peers ─────────────────────────────────

  /** Hot path: a datagram from a peer to an allocation's relayed address. */
  private fromPeer(io: RelayIO, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const a = io.allocation;
    if (a === undefined) return;
    const ch = this.core.fromPeer(a, rinfo.address, rinfo.port, Date.now());
    if (ch === undefined) {
      this.dropped++;
      return;
    }
    const t = a.tuple;
    this.relayedDatagrams++;
    this.relayedBytes += msg.length;
    if (ch !== null) {
      const len = msg.length;
      if (t.transport === 'udp') {
        this.udpOut.get(t.listener)!.sendChannelData(ch.number, msg, t.port, t.address);
      } else {
        // Over a stream the message is padded to 4 bytes (RFC 8656 §12.5); zeroed padding.
        const out = Buffer.alloc(channelDataStreamLen(len));
        writeChannelDataHeader(out, ch.number, len);
        msg.copy(out, CHANNEL_DATA_HEADER_LEN);
        this.toStream(t.conn, out);
      }
      return;
    }
    this.toClient(t, this.core.dataIndication(a, rinfo.address, rinfo.port, msg));
  }

  // ──────────────────────────────── actions ────────────────────────────────

  run(actions: TurnAction<RelayIO>[]): void {
    for (const act of actions) {
      switch (act.kind) {
        case 'send':
          this.toClient(act.to, act.bytes);
          break;
        case 'to-peer':
          act.allocation.io?.out.send(act.data, act.port, act.address);
          this.relayedDatagrams++;
          this.relayedBytes += act.data.length;
          break;
        case 'release-relay':
          if (act.allocation.io) this.relays.close(act.allocation.io);
          this.closeAdopted(act.allocation.id);
          break;
        case 'bind-relay': {
          const req = act.request;
          if (req.tuple.transport === 'udp' && this.o.handoff?.(req)) break;
          void this.relays.bind(req).then((r) => {
            this.guard(() => {
              this.run(this.core.relayBound(req, r, Date.now()));
              if (r.ok) {
                const a = this.core.table.find(req.tuple);
                if (a && a.io === r.io) r.io.allocation = a;
              }
            });
          });
          break;
        }
        default: {
          const never: never = act;
          void never;
        }
      }
    }
  }

  // ────────────────────── TURN threads (turn-threads.ts) ──────────────────────

  /** In a TURN thread: housekeeping only; sockets come with adopted allocations. */
  startAdopter(): void {
    this.nextListener = 1000;
    this.tickTimer = setInterval(() => this.run(this.core.tick(Date.now())), 1000);
    this.tickTimer.unref();
  }

  /**
   * Take over an authenticated UDP Allocate from the main thread: a socket
   * bound to the shared listen port and connected to the client (the kernel
   * then delivers that client's datagrams here, not to the listener), a
   * relay socket, and the allocation in this thread's core. The answer goes
   * out through the connected socket: 'made', or 'refused' (an error answer
   * was sent), or 'failed' (nothing sent: the main thread answers 508).
   */
  async adopt(handed: RelayRequest): Promise<'made' | 'refused' | 'failed'> {
    const listener = this.nextListener++;
    const tuple: ClientTuple = { ...handed.tuple, listener };
    const req: RelayRequest = { ...handed, tuple, tupleKey: tupleKey(tuple) };
    const v6 = this.o.listen.includes(':');
    const sock = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4', lookup: literalLookup as never, reuseAddr: true });
    sock.on('error', () => this.dropped++);
    try {
      const listening = once(sock, 'listening');
      sock.bind({ port: this.o.port, address: this.o.listen });
      await listening;
      const connected = once(sock, 'connect');
      sock.connect(tuple.port, tuple.address);
      await connected;
    } catch {
      sock.close();
      return 'failed';
    }
    this.udp.set(listener, sock);
    this.udpOut.set(listener, new FastUdp(sock, true));
    this.attachUdp(sock, listener, false);
    this.core.pending.set(req.tupleKey, req);
    const r = await this.relays.bind(req);
    let made = false;
    this.guard(() => {
      this.run(this.core.relayBound(req, r, Date.now()));
      const a = r.ok ? this.core.table.find(tuple) : undefined;
      if (r.ok && a && a.io === r.io) {
        r.io.allocation = a;
        this.adoptedSockets.set(a.id, listener);
        made = true;
      }
    });
    if (!made) this.dropListener(listener);
    return made ? 'made' : 'refused';
  }

  private closeAdopted(allocationId: number): void {
    const l = this.adoptedSockets.get(allocationId);
    if (l === undefined) return;
    this.adoptedSockets.delete(allocationId);
    this.dropListener(l);
  }

  private dropListener(listener: number): void {
    const s = this.udp.get(listener);
    this.udp.delete(listener);
    this.udpOut.delete(listener);
    try {
      s?.close();
    } catch {
      // already closed
    }
  }

  private toClient(t: ClientTuple, bytes: Uint8Array): void {
    if (t.transport === 'udp') this.udpOut.get(t.listener)?.send(bytes, t.port, t.address);
    else this.toStream(t.conn, bytes);
  }

  private toStream(conn: number, bytes: Uint8Array): void {
    const s = this.streams.get(conn);
    if (!s || s.destroyed) return;
    if (s.writableLength > STREAM_HIGH_WATER) {
      this.dropped++;
      return;
    }
    s.write(bytes);
  }

  /** Nothing from the network may throw out of a handler and stop the process. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch {
      this.dropped++;
    }
  }

  get streamCount(): number {
    return this.streams.size;
  }

  stats(): TurnStats {
    const c = this.core.counters;
    return {
      allocations: this.core.table.size,
      allocationsPeak: c.allocationsPeak,
      allocationsCreated: c.allocationsCreated,
      relayedDatagrams: this.relayedDatagrams,
      relayedBytes: this.relayedBytes,
      rejected: c.rejectedUnauthenticated + c.peerDenied + c.quotaRejected,
      challenged: c.rejectedUnauthenticated,
      authFailed: c.authFailed,
      peerDenied: c.peerDenied,
      quotaRejected: c.quotaRejected,
      drainRefused: c.drainRefused,
      rateLimited: c.rateLimited,
      malformed: c.malformed,
      dropped: this.dropped + this.relays.sendErrors,
      tcpConnections: this.streams.size,
    };
  }

  async close(): Promise<void> {
    if (this.tickTimer) clearInterval(this.tickTimer);
    for (const a of [...this.core.table.all()]) this.run(this.core.release(a));
    this.relays.closeAll();
    for (const s of this.streams.values()) s.destroy();
    for (const u of this.udp.values()) u.close();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
