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

/**
 * Memory: a relay holds one of these per allocation for as long as the call
 * lasts, so it is kept small (issue 16: ≤ 4 KB of RSS per allocation, its
 * relay socket included). A call needs one or two permissions and channels:
 * the first of each is kept in fields of the allocation, and only a second
 * one makes the Map that holds the rest (an empty Map with its table is
 * ~170 bytes, three of them were a sixth of an allocation). The key and the
 * Allocate's answer are kept together as one byte string (a JS string of
 * char codes 0-255: ~0.14 KB, where a Uint8Array with its ArrayBuffer and
 * backing store took ~0.3 KB), and the Allocate's transaction id is read
 * back from that answer (bytes 8-20) instead of kept as hex text.
 */
export class Allocation<IO = unknown> {
  /** The first permission: peer IP and expiry (ms); undefined when none is in this slot. */
  private perm0: string | undefined = undefined;
  private perm0Expires = 0;
  /** Peer IP -> permission expiry (ms), for permissions beyond the first; made on first need. */
  private morePerms: Map<string, number> | undefined = undefined;
  /** The first channel; undefined when none is in this slot. */
  private ch0: Channel<IO> | undefined = undefined;
  /** Channels beyond the first, by number, and by peer port (first with that port, chained by nextSamePort); made on first need. */
  private moreChannels: Map<number, Channel<IO>> | undefined = undefined;
  private moreByPort: Map<number, Channel<IO>> | undefined = undefined;
  io: IO | undefined = undefined;
  /** Datagrams relayed, both directions (aggregate counters only). */
  relayedCount = 0;
  /** The long-term key, then the Allocate's answer, as a byte string (latin1). */
  private readonly saved: string;
  private readonly keyLength: number;

  constructor(
    readonly id: number,
    readonly tuple: ClientTuple,
    readonly username: string,
    /** Long-term key: responses carry MESSAGE-INTEGRITY made with it. */
    key: Uint8Array,
    /** The relayed transport address announced to the client (XOR-RELAYED-ADDRESS). */
    readonly relayedAddress: TransportAddress,
    public expiresAt: number,
    /** The answer to the Allocate that created it (a STUN message: its transaction id is bytes 8-20), for retransmits. */
    createdResponse: Uint8Array,
  ) {
    this.saved = Buffer.concat([key, createdResponse]).toString('latin1');
    this.keyLength = key.length;
  }

  /** Long-term key (a fresh copy: control path only). */
  get key(): Uint8Array {
    return Buffer.from(this.saved.slice(0, this.keyLength), 'latin1');
  }

  /** The answer to the Allocate that created it (a fresh copy: control path only). */
  get createdResponse(): Uint8Array {
    return Buffer.from(this.saved.slice(this.keyLength), 'latin1');
  }

  /** Whether `transactionId` is that of the Allocate that created this allocation (RFC 8489 §5: bytes 8-20 of its answer). */
  createdBy(transactionId: Uint8Array): boolean {
    const at = this.keyLength + 8;
    if (this.saved.length < at + 12 || transactionId.length !== 12) return false;
    for (let i = 0; i < 12; i++) if (this.saved.charCodeAt(at + i) !== transactionId[i]) return false;
    return true;
  }

  // ───────────────────────────── permissions ─────────────────────────────

  /** Expiry (ms) of the permission for `peerIp`, if one is installed (expired or not). */
  permission(peerIp: string): number | undefined {
    if (this.perm0 === peerIp) return this.perm0Expires;
    return this.morePerms?.get(peerIp);
  }

  get permissionCount(): number {
    return (this.perm0 === undefined ? 0 : 1) + (this.morePerms?.size ?? 0);
  }

  hasPermission(peerIp: string, now: number): boolean {
    const exp = this.permission(peerIp);
    return exp !== undefined && exp > now;
  }

  installPermission(peerIp: string, expiresAt: number): void {
    if (this.perm0 === peerIp) this.perm0Expires = expiresAt;
    else if (this.morePerms?.has(peerIp)) this.morePerms.set(peerIp, expiresAt);
    else if (this.perm0 === undefined) {
      this.perm0 = peerIp;
      this.perm0Expires = expiresAt;
    } else (this.morePerms ??= new Map()).set(peerIp, expiresAt);
  }

  // ─────────────────────────────── channels ───────────────────────────────

  channel(number: number): Channel<IO> | undefined {
    const c = this.ch0;
    if (c !== undefined && c.number === number) return c;
    return this.moreChannels?.get(number);
  }

  get channelCount(): number {
    return (this.ch0 === undefined ? 0 : 1) + (this.moreChannels?.size ?? 0);
  }

  /** Every bound channel (expired ones too, until the next expire()). */
  *channels(): IterableIterator<Channel<IO>> {
    if (this.ch0 !== undefined) yield this.ch0;
    if (this.moreChannels !== undefined) yield* this.moreChannels.values();
  }

  channelByPeer(address: string, port: number): Channel<IO> | undefined {
    const c0 = this.ch0;
    if (c0 !== undefined && c0.peerPort === port && c0.peerAddress === address) return c0;
    let c = this.moreByPort?.get(port);
    while (c !== undefined && c.peerAddress !== address) c = c.nextSamePort;
    return c;
  }

  bindChannel(ch: Channel<IO>): void {
    if (this.ch0 === undefined) {
      this.ch0 = ch;
      return;
    }
    (this.moreChannels ??= new Map()).set(ch.number, ch);
    const byPort = (this.moreByPort ??= new Map());
    ch.nextSamePort = byPort.get(ch.peerPort);
    byPort.set(ch.peerPort, ch);
  }

  unbindChannel(ch: Channel<IO>): void {
    if (this.ch0 === ch) {
      this.ch0 = undefined;
      return;
    }
    const more = this.moreChannels;
    const byPort = this.moreByPort;
    if (more === undefined || byPort === undefined || more.get(ch.number) !== ch) return;
    more.delete(ch.number);
    let c = byPort.get(ch.peerPort);
    if (c === ch) {
      if (ch.nextSamePort) byPort.set(ch.peerPort, ch.nextSamePort);
      else byPort.delete(ch.peerPort);
    } else {
      while (c && c.nextSamePort !== ch) c = c.nextSamePort;
      if (c) c.nextSamePort = ch.nextSamePort;
    }
    ch.nextSamePort = undefined;
    if (more.size === 0) {
      this.moreChannels = undefined;
      this.moreByPort = undefined;
    }
  }

  /** Drop expired permissions and channels (RFC 8656 §9, §12: 300 s and 600 s). */
  expire(now: number): void {
    if (this.perm0 !== undefined && this.perm0Expires <= now) this.perm0 = undefined;
    const perms = this.morePerms;
    if (perms !== undefined) {
      for (const [ip, exp] of perms) if (exp <= now) perms.delete(ip);
      if (perms.size === 0) this.morePerms = undefined;
    }
    if (this.ch0 !== undefined && this.ch0.expiresAt <= now) this.ch0 = undefined;
    // Deleting the entry being visited is safe in a Map iteration: no copy per tick.
    if (this.moreChannels !== undefined) for (const ch of this.moreChannels.values()) if (ch.expiresAt <= now) this.unbindChannel(ch);
  }
}
