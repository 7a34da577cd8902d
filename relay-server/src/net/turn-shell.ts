/**
 * The I/O shell around TurnCore: UDP clients, relay sockets, and the
 * actions the core returns. It hands bytes to the core and carries out what
 * it answers. The two UDP hot paths (ChannelData client→peer, peer→client)
 * live here as straight-line code: one table lookup in the core, one send,
 * no closure or action object per packet, no logging.
 *
 * Around it: listeners.ts binds the sockets, stream-clients.ts serves TCP
 * and TLS clients, thread-adoption.ts takes over allocations handed to a
 * TURN thread (turn-threads.ts), turn-stats.ts sums the counts. Just over
 * 300 lines because both hot paths and the action runner they share stay in
 * one file, each readable straight through.
 */
import type dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { CHANNEL_DATA_HEADER_LEN } from '../stun/constants';
import type { RelayRequest, TurnAction } from '../turn/actions';
import type { ClientTuple } from '../turn/allocation';
import { channelDataStreamLen, writeChannelDataHeader } from '../turn/channel-data';
import type { TurnCoreConfig } from '../turn/config';
import { TurnCore } from '../turn/core';
import type { SelfPeerConfig } from '../turn/self-peer';
import { FastUdp } from './fast-udp';
import { bindPair, listenTcp } from './listeners';
import { RelaySockets, type RelayIO } from './relay-sockets';
import type { QueuedReader } from './send-budget';
import { StreamClients } from './stream-clients';
import { FIRST_ADOPTED_LISTENER, ThreadAdoption, type AdoptionHost } from './thread-adoption';
import type { AdoptResult } from './turn-thread-messages';
import type { TurnStats } from './turn-stats';
import type { UdpSharing } from './udp-sharing';

/** A TLS client must finish its handshake within this (issue 22: idle handshakes held every TLS slot). */
export const TLS_HANDSHAKE_MS = 5_000;

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
  /** Share the main UDP listener's port so TURN threads can connect sockets on it (udp-sharing.ts); unset: not shared. */
  shareListenPort?: UdpSharing;
  /**
   * The relay's own addresses (self-peer.ts); the shell adds its UDP listener
   * ports once bound. In a TURN thread: the main shell's, with its ports.
   */
  self?: SelfPeerConfig;
  /**
   * One byte per port, 1 while one of this relay's relay sockets holds it; a
   * SharedArrayBuffer so every TURN thread marks the same map. A datagram to
   * a UDP listener from the relay's own address and such a port is dropped.
   */
  ownRelayPorts?: SharedArrayBuffer;
  /** In a TURN thread: how its connected sockets share the main listener's port. */
  udpSharing?: UdpSharing;
  /** Main thread with TURN threads: offer an authenticated UDP Allocate to a thread; true if taken. */
  handoff?: (req: RelayRequest) => boolean;
}

export interface BoundPorts {
  port: number;
  altPort: number | null;
  tlsPort: number | null;
}

export class TurnShell implements AdoptionHost {
  readonly core: TurnCore<RelayIO>;
  readonly relays: RelaySockets;
  /**
   * Client-facing UDP sockets by listener index: listeners, and (in TURN
   * threads) one connected socket per adopted allocation, which all share
   * one receiver and one 'error' listener (the listener index is the
   * receiver's owner): nothing per socket but its FastUdp (issue 16).
   */
  private readonly udpOut = new Map<number, FastUdp<number>>();
  /** The alternate port's UDP listener (Binding only), -1 without one. */
  private stunOnlyListener = -1;
  private listenerCount = 0;
  private readonly servers: net.Server[] = [];
  private readonly streams: StreamClients;
  /** In a TURN thread: the allocations handed over by the main thread. */
  private adoption: ThreadAdoption | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private tlsServer: tls.Server | undefined;
  private readonly ownPorts: Uint8Array;
  /** The relay's own addresses and listener ports, once bound (handed to TURN threads). */
  selfConfig: SelfPeerConfig | undefined;
  relayedDatagrams = 0;
  relayedBytes = 0;
  dropped = 0;
  /** Datagrams to a listener from one of the relay's own relay sockets (a loop through itself), dropped. */
  selfLoopDropped = 0;

  constructor(private readonly o: TurnShellOptions) {
    this.core = new TurnCore<RelayIO>(o.core, o.nonceKey);
    this.ownPorts = new Uint8Array(o.ownRelayPorts ?? new SharedArrayBuffer(65536));
    this.relays = new RelaySockets(o.relayBind, o.relayAnnounce, o.minPort, o.maxPort, (io, msg, rinfo) => this.fromPeer(io, msg, rinfo), this.ownPorts);
    this.streams = new StreamClients(this, o.maxMessage, o.core.sourcePrefix6);
  }

  async start(): Promise<BoundPorts> {
    const main = await this.listenPair(this.o.port, false);
    let alt: number | null = null;
    if (this.o.altPort !== null) alt = await this.listenPair(this.o.altPort, true);
    let tlsPort: number | null = null;
    if (this.o.tls && this.o.tlsPort !== null) {
      // A client that sends no ClientHello is cut after TLS_HANDSHAKE_MS (Node's default: 120 s).
      const server = tls.createServer({ cert: this.o.tls.cert, key: this.o.tls.key, minVersion: 'TLSv1.2', handshakeTimeout: TLS_HANDSHAKE_MS });
      server.on('connection', (raw: net.Socket) => this.streams.admit(raw));
      server.on('secureConnection', (s) => this.streams.accept(s, 'tls', 2, false));
      server.on('tlsClientError', () => this.dropped++);
      tlsPort = await listenTcp(server, this.o.listen, this.o.tlsPort, () => this.dropped++);
      this.servers.push(server);
      this.tlsServer = server;
    }
    if (this.o.self) {
      this.selfConfig = { ...this.o.self, listenerPorts: alt === null ? [main] : [main, alt] };
      this.core.setSelf(this.selfConfig);
    }
    this.startTicks();
    return { port: main, altPort: alt, tlsPort };
  }

  /** In a TURN thread: housekeeping only; sockets come with adopted allocations. */
  startAdopter(): void {
    this.listenerCount = FIRST_ADOPTED_LISTENER;
    this.adoption = new ThreadAdoption(this, this.o.listen, this.o.port, this.o.udpSharing ?? 'reuseaddr');
    if (this.o.self) this.core.setSelf(this.o.self);
    this.startTicks();
  }

  /** In a TURN thread: take over an authenticated UDP Allocate from the main thread (thread-adoption.ts). */
  adopt(handed: RelayRequest): Promise<AdoptResult> {
    if (!this.adoption) return Promise.resolve('failed');
    return this.adoption.adopt(handed);
  }

  private startTicks(): void {
    this.tickTimer = setInterval(() => {
      const now = Date.now();
      this.run(this.core.tick(now));
      this.streams.sweep(now);
    }, 1000);
    this.tickTimer.unref();
  }

  /** New TURN-over-TLS handshakes use this certificate; connections already up keep theirs (SIGHUP). */
  setTls(material: { cert: Buffer; key: Buffer }): void {
    this.tlsServer?.setSecureContext({ cert: material.cert, key: material.key, minVersion: 'TLSv1.2' });
  }

  /** UDP and TCP listeners on one port number; `stunOnly` for the alternate port (Binding only). */
  private async listenPair(port: number, stunOnly: boolean): Promise<number> {
    const pair = await bindPair(
      this.o.listen,
      port,
      // With TURN threads, connected per-client sockets share this port (turn-threads.ts).
      this.o.shareListenPort ?? null,
      () => {
        const server = net.createServer({ noDelay: true });
        server.on('connection', (s) => {
          if (this.streams.admit(s)) this.streams.accept(s, 'tcp', stunOnly ? 1 : 0, stunOnly);
        });
        return server;
      },
      () => this.dropped++,
    );
    this.servers.push(pair.server);
    this.addUdp(this.nextListener(), pair.sock, false, stunOnly);
    return pair.port;
  }

  nextListener(): number {
    return this.listenerCount++;
  }

  // ─────────────────────────────── UDP clients ───────────────────────────────

  addUdp(listener: number, sock: dgram.Socket, connected: boolean, stunOnly = false): void {
    const out = new FastUdp<number>(sock, connected);
    this.udpOut.set(listener, out);
    if (stunOnly) this.stunOnlyListener = listener;
    sock.on('error', this.countSocketError);
    out.onMessage(this.fromClient, listener);
  }

  private readonly countSocketError = (): void => {
    this.dropped++;
  };

  /** The main listener's UDP socket (listener 0, bound first by start()), for the native forwarder. */
  mainUdp(): FastUdp<number> | undefined {
    return this.udpOut.get(0);
  }

  /** Every client-facing UDP socket's receiver: a datagram from a client on listener `listener`. */
  private readonly fromClient = (msg: Buffer, rinfo: dgram.RemoteInfo, listener: number): void => {
    if (msg.length > this.o.maxMessage || msg.length < CHANNEL_DATA_HEADER_LEN) {
      this.dropped++;
      return;
    }
    const stunOnly = listener === this.stunOnlyListener;
    if ((msg[0]! & 0xc0) === 0x40) {
      // Hot path: ChannelData from a client (RFC 8656 §12.5).
      if (stunOnly) return;
      const ch = this.core.channelFromUdpClient(listener, rinfo.address, rinfo.port, (msg[0]! << 8) | msg[1]!, Date.now());
      const len = (msg[2]! << 8) | msg[3]!;
      const peerOut = ch?.allocation.io?.out;
      if (ch === undefined || peerOut === undefined || len + CHANNEL_DATA_HEADER_LEN > msg.length) {
        this.dropped++;
        return;
      }
      peerOut.sendSlice(msg, CHANNEL_DATA_HEADER_LEN, len, ch.peerPort, ch.peerAddress);
      this.relayedDatagrams++;
      this.relayedBytes += len;
      return;
    }
    // A request from one of this relay's own relay sockets: an allocation chained through the relay itself.
    if (this.ownPorts[rinfo.port] === 1 && this.fromRelayAddress(rinfo.address)) {
      this.selfLoopDropped++;
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
    this.guard(() => this.run(this.core.handleMessage(tuple, msg, Date.now(), stunOnly)));
  };

  /**
   * Whether `address` is one relay sockets send from: the relay bind address
   * (its ::ffff: spelling too), or any of the relay's own with a wildcard bind.
   */
  private fromRelayAddress(address: string): boolean {
    const bare = address.startsWith('::ffff:') ? address.slice(7) : address;
    const bind = this.o.relayBind;
    if (bare === bind[4] || bare === bind[6]) return true;
    const wildcard = bind[4] === '0.0.0.0' || bind[6] === '::';
    return wildcard && this.core.isOwnAddress(address);
  }

  dropUdp(listener: number): void {
    const s = this.udpOut.get(listener)?.sock;
    this.udpOut.delete(listener);
    try {
      s?.close();
    } catch {
      // already closed
    }
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
      if (t.transport === 'udp') {
        this.udpOut.get(t.listener)?.sendChannelData(ch.number, msg, t.port, t.address);
      } else {
        // Over a stream the message is padded to 4 bytes (RFC 8656 §12.5), zeroed.
        const out = Buffer.alloc(channelDataStreamLen(msg.length));
        writeChannelDataHeader(out, ch.number, msg.length);
        msg.copy(out, CHANNEL_DATA_HEADER_LEN);
        this.streams.send(t.conn, out);
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
          this.adoption?.released(act.allocation.id);
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

  private toClient(t: ClientTuple, bytes: Uint8Array): void {
    if (t.transport === 'udp') this.udpOut.get(t.listener)?.send(bytes, t.port, t.address);
    else this.streams.send(t.conn, bytes);
  }

  /** Nothing from the network may throw out of a handler and stop the process. */
  guard(fn: () => void): void {
    try {
      fn();
    } catch {
      this.dropped++;
    }
  }

  countDropped(): void {
    this.dropped++;
  }

  /** TCP/TLS clients with what is queued to them (send-budget.ts). */
  streamReaders(): Iterable<QueuedReader> {
    return this.streams.readers();
  }

  get streamCount(): number {
    return this.streams.size;
  }

  stats(): TurnStats {
    const c = this.core.counters;
    const s = this.streams;
    return {
      allocations: this.core.table.size,
      allocationsPeak: c.allocationsPeak,
      allocationsCreated: c.allocationsCreated,
      relayedDatagrams: this.relayedDatagrams + s.relayedDatagrams,
      relayedBytes: this.relayedBytes + s.relayedBytes,
      rejected: c.rejectedUnauthenticated + c.peerDenied + c.quotaRejected,
      challenged: c.rejectedUnauthenticated,
      authFailed: c.authFailed,
      peerDenied: c.peerDenied,
      quotaRejected: c.quotaRejected,
      sourceQuotaRejected: c.sourceQuotaRejected,
      credentialGone: c.credentialGone,
      drainRefused: c.drainRefused,
      rateLimited: c.rateLimited,
      malformed: c.malformed,
      dropped: this.dropped + s.dropped + s.timedOut + s.refused + this.relays.sendErrors + this.selfLoopDropped,
      tcpConnections: s.size,
    };
  }

  async close(): Promise<void> {
    if (this.tickTimer) clearInterval(this.tickTimer);
    for (const a of [...this.core.table.all()]) this.run(this.core.release(a));
    this.relays.closeAll();
    this.streams.destroyAll();
    for (const u of this.udpOut.values()) u.sock.close();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
