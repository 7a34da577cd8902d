/**
 * One TURN allocation (RFC 8656 §2.2, §5): the relayed transport address the
 * server holds for a client 5-tuple, with its permissions (peer IPs, §9) and
 * channel bindings (channel number <-> peer transport address, §12).
 *
 * Everything here is keyed by cheap values for the hot path: permissions by
 * the peer IP string exactly as the OS reports it, channels by number and,
 * the other way, by peer port with a short chain for equal ports. The `io`
 * slot belongs to the shell (its relay socket); the core never touches it.
 */
import type { TransportAddress } from '../stun/xor-address';

export type ClientTransport = 'udp' | 'tcp' | 'tls';

/** The client side of the 5-tuple as the shell saw it. */
export interface ClientTuple {
  transport: ClientTransport;
  /** Index of the listening endpoint that received it. */
  listener: number;
  /** Stream connection id (TCP/TLS), 0 for UDP. */
  conn: number;
  family: 4 | 6;
  address: string;
  port: number;
}

/** A ClientTuple as a string: the key of pending Allocates (TurnCore.pending). */
export function tupleKey(t: ClientTuple): string {
  return `${t.transport}|${t.listener}|${t.conn}|${t.address}|${t.port}`;
}

export class Channel<IO = unknown> {
  /** Next channel of the same allocation whose peer has the same port. */
  nextSamePort: Channel<IO> | undefined = undefined;
  constructor(
    readonly number: number,
    readonly peerAddress: string,
    readonly peerPort: number,
    public expiresAt: number,
    readonly allocation: Allocation<IO>,
  ) {}
}

/**
 * Peers per allocation. A call needs a handful (one permission per remote
 * candidate IP, one channel per remote candidate in use); without a bound an
 * authenticated client could install ~300 permissions per 4 KB request and
 * grow the relay's memory by tens of MB a second (docs/hardening.md). Beyond
 * it, CreatePermission and ChannelBind answer 508 (RFC 8656 §9.2, §12.2).
 */
export const MAX_PERMISSIONS = 256;
export const MAX_CHANNELS = 256;

export class Allocation<IO = unknown> {
  /** Peer IP -> permission expiry (ms). */
  readonly permissions = new Map<string, number>();
  readonly channels = new Map<number, Channel<IO>>();
  /** Peer port -> first channel with that port (chained by nextSamePort). */
  readonly channelsByPort = new Map<number, Channel<IO>>();
  io: IO | undefined = undefined;
  /** Datagrams relayed, both directions (aggregate counters only). */
  relayedCount = 0;

  constructor(
    readonly id: number,
    readonly tuple: ClientTuple,
    readonly username: string,
    /** Long-term key: responses carry MESSAGE-INTEGRITY made with it. */
    readonly key: Uint8Array,
    /** The relayed transport address announced to the client (XOR-RELAYED-ADDRESS). */
    readonly relayedAddress: TransportAddress,
    public expiresAt: number,
    /** Transaction id (hex) of the Allocate that created it, and its answer, for retransmits. */
    readonly createdBy: string,
    readonly createdResponse: Uint8Array,
  ) {}

  hasPermission(peerIp: string, now: number): boolean {
    const exp = this.permissions.get(peerIp);
    return exp !== undefined && exp > now;
  }

  installPermission(peerIp: string, expiresAt: number): void {
    this.permissions.set(peerIp, expiresAt);
  }

  channelByPeer(address: string, port: number): Channel<IO> | undefined {
    let c = this.channelsByPort.get(port);
    while (c !== undefined && c.peerAddress !== address) c = c.nextSamePort;
    return c;
  }

  bindChannel(ch: Channel<IO>): void {
    this.channels.set(ch.number, ch);
    const head = this.channelsByPort.get(ch.peerPort);
    ch.nextSamePort = head;
    this.channelsByPort.set(ch.peerPort, ch);
  }

  unbindChannel(ch: Channel<IO>): void {
    this.channels.delete(ch.number);
    let c = this.channelsByPort.get(ch.peerPort);
    if (c === ch) {
      if (ch.nextSamePort) this.channelsByPort.set(ch.peerPort, ch.nextSamePort);
      else this.channelsByPort.delete(ch.peerPort);
      return;
    }
    while (c && c.nextSamePort !== ch) c = c.nextSamePort;
    if (c) c.nextSamePort = ch.nextSamePort;
  }

  /** Drop expired permissions and channels (RFC 8656 §9, §12: 300 s and 600 s). */
  expire(now: number): void {
    for (const [ip, exp] of this.permissions) if (exp <= now) this.permissions.delete(ip);
    // Deleting the entry being visited is safe in a Map iteration: no copy per tick.
    for (const ch of this.channels.values()) if (ch.expiresAt <= now) this.unbindChannel(ch);
  }
}
