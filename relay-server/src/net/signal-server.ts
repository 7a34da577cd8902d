/**
 * Over 300 lines because every limit that guards a socket from accept to close (per-source and
 * total counts, deadlines, the send budget) sits next to the socket handling it guards.
 *
 * WebSocket shell around the signalling router: HTTP(S) server with
 * /signal (WebSocket, 64 KiB frames: bigger closes with 1009), /c (the contact
 * page, contact-page.ts), /healthz and
 * /metrics (ops-http.ts, aggregate counts only). With a certificate it is
 * HTTPS and `wss:` on the same port; `setTls` swaps the certificate for new
 * handshakes without touching live connections (SIGHUP). Connection limits
 * in total and per source IP; ws-level ping every 30 s drops dead sockets.
 * The source IP is used only for those limits, in memory, and is gone with
 * the connection.
 *
 * Every accepted TCP socket counts against the limits from its first moment,
 * HTTP before an upgrade too (issue 22: 2,100 half-sent requests from one IP
 * were not counted): over the per-source (source-key.ts: IPv6 by prefix) or
 * total limit it is destroyed at once. A request must arrive whole within
 * HTTP_DEADLINE_MS of the connection (headersTimeout, requestTimeout: bytes
 * trickled do not renew them), a TLS handshake within TLS_HANDSHAKE_MS. An
 * upgrade refused over the WebSocket limits gets ERR_BUSY and a close frame,
 * then its TCP socket is ended at once and destroyed REFUSED_LINGER_MS later,
 * instead of waiting 30 s for the close handshake. WebSocket pings take a
 * message token like any message (router.ts `ping`). With a Cluster (Redis) the router's cluster actions are
 * carried out here.
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { RelayError } from '../errors';
import type { CredentialLedger } from '../turn/credential-ledger';
import { SIGNAL_MAX_FRAME_BYTES, type TurnCredentials } from '../../../lib/signal/wire';
import { CLOSE, SignalRouter, type SignalAction } from '../signal/router';
import { ownSignalUrls } from '../signal/own-urls';
import { VerifierPool } from './verifier-pool';
import type { Cluster } from './cluster';
import { serveOps, type OpsSource } from './ops-http';
import { serveContactPage } from './contact-page';
import { sourceKey } from '../source-key';
import type { QueuedReader } from './send-budget';

const PING_MS = 30_000;
/** An HTTP request (an upgrade included) must be complete this long after its connection opened. */
export const HTTP_DEADLINE_MS = 10_000;
/** How often Node checks HTTP deadlines (its default, 30 s, would let them run over by that much). */
const HTTP_CHECK_MS = 1_000;
/** A TLS client that sends no ClientHello is cut after this (Node's default is 120 s). */
const TLS_HANDSHAKE_MS = 5_000;
/** A refused upgrade's socket: ended at once, destroyed this long after if the client does not close. */
const REFUSED_LINGER_MS = 1_000;
const SEND_HIGH_WATER = 1024 * 1024;
const HOST_RE = /^(?:[A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}$|^\[[0-9A-Fa-f:.]+\]$/;

export interface SignalServerOptions {
  listen: string;
  port: number;
  realm: string;
  tls: { cert: Buffer; key: Buffer } | null;
  turnSecret: string;
  /** One TURN credential per connection, ended with it (turn/credential-ledger.ts; its TTL is --credential-ttl). */
  credentials: CredentialLedger;
  publicHost: string | null;
  /** The URL clients dial when it is not scheme://publicHost:port/signal (a TLS proxy): `--signal-url`. */
  signalUrl?: string | null;
  /** `members`: refuse deliveries from connections that did not log in here (--deliveries). */
  deliveries?: 'anyone' | 'members';
  turnPort: number;
  altPort: number | null;
  tlsPort: number | null;
  maxConnections: number;
  maxPerIp: number;
  /** IPv6 sources in one prefix of this length share the per-source limits (default 64). */
  sourcePrefix6?: number;
  verifyWorkers: number;
  verifyQueue: number;
  ops: OpsSource;
  /** The contact page /c (contact-page.ts): where it says to install Hush; null: the stores named. */
  contactInstallUrl?: string | null;
  /** Other relay nodes, through Redis (net/cluster.ts); undefined for one node. */
  cluster?: Cluster;
}

interface Live {
  ws: WebSocket;
  ip: string;
  host: string;
  /** The URLs a mailbox proof on this connection may sign (own-urls.ts). */
  urls: string[];
  alive: boolean;
}

export class SignalServer {
  readonly router: SignalRouter;
  private readonly live = new Map<number, Live>();
  private readonly perIp = new Map<string, number>();
  /** Accepted TCP sockets (before and after upgrade) per source key, and in total. */
  private readonly socketsPerSource = new Map<string, number>();
  private sockets = 0;
  /** TCP sockets destroyed at once over the per-source or total limit. */
  refusedSockets = 0;
  private server: http.Server | https.Server | undefined;
  private wss: WebSocketServer | undefined;
  private pool: VerifierPool | undefined;
  private pinger: NodeJS.Timeout | undefined;
  private authTimer: NodeJS.Timeout | undefined;
  private nextConn = 1;
  private turnSecret: string;

  constructor(private readonly o: SignalServerOptions) {
    this.turnSecret = o.turnSecret;
    this.router = new SignalRouter({
      acceptNonMembers: o.deliveries !== 'members',
      cluster: !!o.cluster,
      turnInfo: (conn, now, mailbox) => this.turnInfo(conn, now, mailbox),
      randomBytes: (n) => randomBytes(n),
      writable: (conn) => {
        const l = this.live.get(conn);
        return !!l && l.ws.readyState === l.ws.OPEN && l.ws.bufferedAmount < SEND_HIGH_WATER;
      },
    });
  }

  /** Bytes queued to each connection, for the global send budget (send-budget.ts). */
  *readers(): IterableIterator<QueuedReader> {
    for (const l of this.live.values()) {
      const ws = l.ws;
      yield { buffered: ws.bufferedAmount, close: () => ws.terminate() };
    }
  }

  get connectionCount(): number {
    return this.live.size;
  }

  /** New TLS handshakes use this certificate; live connections keep theirs (SIGHUP). */
  setTls(tls: { cert: Buffer; key: Buffer }): void {
    if (this.server && 'setSecureContext' in this.server) (this.server as https.Server).setSecureContext({ cert: tls.cert, key: tls.key });
  }

  /** The secret that signs TURN credentials handed out from now on (SIGHUP). */
  setTurnSecret(secret: string): void {
    this.turnSecret = secret;
  }

  /** Shutdown: every client is told to go to another node (1012); new ones are told the same. */
  drain(): void {
    this.run(this.router.drain());
    // A client that does not answer the close handshake is cut after 2 s (ws would wait 30).
    setTimeout(() => {
      for (const l of this.live.values()) l.ws.terminate();
    }, 2000).unref();
  }

  /** An envelope from another node (cluster.ts) for a mailbox held here. */
  deliverRemote(to: string, from: string, data: string): void {
    this.run(this.router.remote(to, from, data));
  }

  async start(): Promise<number> {
    this.pool = new VerifierPool(this.o.verifyWorkers, this.o.verifyQueue);
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.http(req, res);
    const limits = { headersTimeout: HTTP_DEADLINE_MS, requestTimeout: HTTP_DEADLINE_MS, connectionsCheckingInterval: HTTP_CHECK_MS };
    this.server = this.o.tls
      ? https.createServer({ ...limits, cert: this.o.tls.cert, key: this.o.tls.key, handshakeTimeout: TLS_HANDSHAKE_MS }, handler)
      : http.createServer(limits, handler);
    this.server.on('connection', (socket: net.Socket) => this.admit(socket));
    this.server.on('clientError', (_e, socket) => socket.destroy());
    // autoPong off: pings are answered only within the message rate (router.ts `ping`).
    this.wss = new WebSocketServer({ server: this.server, path: '/signal', maxPayload: SIGNAL_MAX_FRAME_BYTES, perMessageDeflate: false, autoPong: false });
    this.wss.on('connection', (ws, req) => this.onConnection(ws, req));
    this.wss.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      const onErr = (e: NodeJS.ErrnoException) => reject(new RelayError('ERR_LISTEN', `cannot listen for signalling on ${this.o.listen} port ${this.o.port}: ${e.code ?? 'error'}`));
      this.server!.once('error', onErr);
      this.server!.listen({ port: this.o.port, host: this.o.listen, exclusive: true }, () => {
        this.server!.off('error', onErr);
        resolve();
      });
    });
    this.pinger = setInterval(() => this.ping(), PING_MS);
    this.pinger.unref();
    this.authTimer = setInterval(() => {
      this.run(this.router.expire(Date.now()));
      this.o.credentials.sweep(Date.now());
    }, 2_000);
    this.authTimer.unref();
    return (this.server.address() as { port: number }).port;
  }

  /** Count a new TCP socket under its source; destroy it at once over a limit. */
  private admit(socket: net.Socket): void {
    const address = socket.remoteAddress;
    const key = address ? sourceKey(address, this.o.sourcePrefix6) : '';
    const n = this.socketsPerSource.get(key) ?? 0;
    if (!address || this.sockets >= this.o.maxConnections || n >= this.o.maxPerIp) {
      this.refusedSockets++;
      socket.destroy();
      return;
    }
    this.sockets++;
    this.socketsPerSource.set(key, n + 1);
    socket.once('close', () => {
      this.sockets--;
      const m = (this.socketsPerSource.get(key) ?? 1) - 1;
      if (m > 0) this.socketsPerSource.set(key, m);
      else this.socketsPerSource.delete(key);
    });
  }

  private http(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (serveContactPage(req, res, { installUrl: this.o.contactInstallUrl ?? null })) return;
    if (!serveOps(req, res, this.o.ops, 'signal')) res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }

  private onConnection(ws: WebSocket, req: http.IncomingMessage): void {
    ws.on('error', () => undefined);
    const address = req.socket.remoteAddress ?? '';
    const ip = address ? sourceKey(address, this.o.sourcePrefix6) : '';
    const n = this.perIp.get(ip) ?? 0;
    if (!ip || this.live.size >= this.o.maxConnections || n >= this.o.maxPerIp) {
      ws.send(JSON.stringify({ t: 'error', code: 'ERR_BUSY', message: 'too many connections: try again later' }));
      ws.close(CLOSE.tryAgainLater, 'busy');
      // Not through the 30 s close handshake: FIN after the close frame, cut soon after.
      const raw = req.socket;
      raw.end();
      setTimeout(() => raw.destroy(), REFUSED_LINGER_MS).unref();
      return;
    }
    this.perIp.set(ip, n + 1);
    const conn = this.nextConn++;
    const hostHeader = (req.headers.host ?? '').replace(/:[0-9]+$/, '');
    const host = this.o.publicHost ?? (HOST_RE.test(hostHeader) ? hostHeader : this.o.listen);
    const urls = ownSignalUrls({
      signalUrl: this.o.signalUrl ?? null,
      publicHost: this.o.publicHost,
      tls: this.o.tls !== null,
      port: req.socket.localPort ?? this.o.port,
      localAddress: req.socket.localAddress ?? this.o.listen,
    });
    const l: Live = { ws, ip, host, urls, alive: true };
    this.live.set(conn, l);
    ws.on('pong', () => {
      l.alive = true;
    });
    ws.on('ping', (data) => this.run(this.router.ping(conn, data, Date.now())));
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        this.run([{ kind: 'send', conn, msg: { t: 'error', code: 'ERR_BAD_MESSAGE', message: 'send JSON text frames, not binary' } }]);
        return;
      }
      this.run(this.router.message(conn, data.toString(), Date.now()));
    });
    ws.on('close', () => {
      this.live.delete(conn);
      const m = (this.perIp.get(ip) ?? 1) - 1;
      if (m > 0) this.perIp.set(ip, m);
      else this.perIp.delete(ip);
      this.run(this.router.closed(conn));
      this.o.credentials.closed(conn, Date.now());
    });
    this.run(this.router.open(conn, Date.now()));
  }

  private run(actions: SignalAction[]): void {
    for (const a of actions) {
      const l = this.live.get(a.conn);
      switch (a.kind) {
        case 'send':
          if (l && l.ws.readyState === l.ws.OPEN) l.ws.send(JSON.stringify(a.msg));
          break;
        case 'close':
          l?.ws.close(a.code, a.reason);
          break;
        case 'pong':
          if (l && l.ws.readyState === l.ws.OPEN) l.ws.pong(a.data);
          break;
        case 'verify': {
          if (!l) break;
          void this.pool!.verify(l.ip, a.challenge, l.urls, a.mailbox, a.key, a.sig).then((v) =>
            this.run(this.router.verified(a.conn, v, Date.now())),
          );
          break;
        }
        case 'hold':
          this.o.cluster?.hold(a.mailbox);
          break;
        case 'release':
          this.o.cluster?.release(a.mailbox);
          break;
        case 'publish': {
          const cluster = this.o.cluster;
          if (!cluster) {
            this.run(this.router.published(a.conn, a.id, a.to, a.local, null));
            break;
          }
          void cluster.publish(a.to, a.from, a.data).then((others) => this.run(this.router.published(a.conn, a.id, a.to, a.local, others)));
          break;
        }
        default: {
          const never: never = a;
          void never;
        }
      }
    }
  }

  private ping(): void {
    for (const l of this.live.values()) {
      if (!l.alive) {
        l.ws.terminate();
        continue;
      }
      l.alive = false;
      l.ws.ping();
    }
  }

  private turnInfo(conn: number, now: number, mailbox?: string): TurnCredentials {
    const l = this.live.get(conn);
    const host = l?.host ?? this.o.listen;
    const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    // The same credential for the connection's whole life, or a refresh of it (credential-ledger.ts).
    const cred = this.o.credentials.credential(conn, this.turnSecret, now, mailbox);
    const port = this.o.turnPort;
    const urls = [`stun:${h}:${port}`, `turn:${h}:${port}?transport=udp`, `turn:${h}:${port}?transport=tcp`];
    if (this.o.tlsPort !== null) urls.push(`turns:${h}:${this.o.tlsPort}?transport=tcp`);
    const info: TurnCredentials = { username: cred.username, credential: cred.credential, ttl: cred.ttl, urls };
    if (this.o.altPort !== null) info.stunAlt = `stun:${h}:${this.o.altPort}`;
    return info;
  }

  async close(): Promise<void> {
    if (this.pinger) clearInterval(this.pinger);
    if (this.authTimer) clearInterval(this.authTimer);
    for (const l of this.live.values()) l.ws.terminate();
    await this.pool?.close();
    await new Promise<void>((r) => (this.wss ? this.wss.close(() => r()) : r()));
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
