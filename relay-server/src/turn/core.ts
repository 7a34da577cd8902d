/**
 * The sans-IO STUN/TURN server core (style.md §8). The shells in ../net feed
 * it what arrived, with the time; it answers with actions (send these bytes,
 * bind a relay socket, send to a peer, release a socket) and never touches a
 * socket or a clock itself. Hot-path lookups (ChannelData both ways, peer
 * data) are plain methods returning the channel to use, so the shells relay
 * media without allocating action objects per packet.
 *
 * Safe by default: nothing is stored for a request until it carries valid
 * MESSAGE-INTEGRITY (stateless nonce); unauthenticated answers are rate
 * limited per source IP in a bounded map; peers are checked by PeerPolicy;
 * allocations are bounded per credential, per source and in total, and a
 * credential handed out over signalling is served only while its connection
 * lives (plus a grace: credential-ledger.ts); any malformed input is
 * dropped or answered 400 and never throws out of here.
 *
 * Over 300 lines because it is the one place a datagram's whole control
 * path reads top to bottom (check, authenticate, dispatch, answer), next to
 * the hot-path lookups that share its tables. Each method's handler lives in
 * its own file and sees only a Pick of TurnContext (context.ts); the types
 * the shell and handlers share are in actions.ts, config.ts and bytes.ts,
 * which import nothing back, so nothing in turn/ imports this file.
 */
import { Attr, Class, ErrorCode, Method, isComprehensionRequired } from '../stun/constants';
import { fingerprintOf, fingerprintOk } from '../stun/fingerprint';
import { decodeStun, StunWriter, type StunMessage } from '../stun/message';
import { decodeXorAddress, encodeXorAddress, type TransportAddress } from '../stun/xor-address';
import { BucketMap, TokenBucket } from '../token-bucket';
import { sourceKey } from '../source-key';
import type { RelayRequest, TurnAction } from './actions';
import { handleAllocate } from './allocate';
import { Allocation, type Channel, type ClientTuple } from './allocation';
import { AllocationTable } from './allocation-table';
import { readLifetime } from './attributes';
import { authenticate } from './auth';
import type { CredentialLiveness } from './credential-ledger';
import { credentialKey, isSignalCredential } from './credentials';
import { hex, u32 } from './bytes';
import { handleChannelBind } from './channel-bind';
import { DEFAULT_TURN_CONFIG, type TurnCoreConfig } from './config';
import type { PeerAddresses, TurnContext, TurnCounters } from './context';
import { handleCreatePermission } from './create-permission';
import { NonceIssuer } from './nonce';
import { PeerPolicy } from './peer-policy';
import { SelfPeers, type SelfPeerConfig } from './self-peer';
import { handleRefresh } from './refresh';
import { RecentAnswers } from './recent-answers';
import { Reservations } from './reservations';
import { failure, success, type AttrList } from './responses';
import { handleSend } from './send-indication';

/**
 * Unauthenticated answers in total (all sources together) are limited to this
 * many times the per-source rate and burst. The per-source map holds
 * `unauthSources` buckets; past that many sources (spoofed UDP is cheap) each
 * one gets a fresh bucket, so only a total bound keeps the CPU spent on
 * answers, and the traffic reflected at anyone, bounded (docs/hardening.md).
 */
export const UNAUTH_TOTAL_FACTOR = 100;

/**
 * Requests whose MESSAGE-INTEGRITY fails (valid nonce, made-up username or
 * wrong password) per source, per second, and their burst. Each costs the
 * key derivation and an HMAC per secret before it is refused (issue 22:
 * 56 µs, 115 µs with 4 secrets, unlimited), so a source past this bound is
 * dropped before any of it. A client with good credentials never fails;
 * one with a wrong password gets its 401s at this rate. In total: this times
 * UNAUTH_TOTAL_FACTOR.
 */
export const AUTH_FAIL_RATE = 5;
export const AUTH_FAIL_BURST = 20;

/** Comprehension-required attributes this server understands (RFC 8489 §6.3.1: others → 420). */
const KNOWN_REQUIRED = new Set<number>([
  Attr.MappedAddress, Attr.Username, Attr.MessageIntegrity, Attr.ErrorCode, Attr.UnknownAttributes,
  Attr.ChannelNumber, Attr.Lifetime, Attr.XorPeerAddress, Attr.Data, Attr.Realm, Attr.Nonce,
  Attr.XorRelayedAddress, Attr.RequestedAddressFamily, Attr.EvenPort, Attr.RequestedTransport,
  Attr.DontFragment, Attr.MessageIntegritySha256, Attr.PasswordAlgorithm, Attr.Userhash,
  Attr.XorMappedAddress, Attr.ReservationToken, Attr.Priority, Attr.UseCandidate,
]);

/**
 * Told when an allocation's channels or permissions may have changed (after
 * ChannelBind, CreatePermission, and each second's expiry sweep) and when it
 * ends: the kernel offload (../offload/kernel-offload.ts) keeps its maps in
 * step. Called synchronously; it must not throw and must not call back in.
 */
export interface AllocationWatcher {
  changed(a: Allocation, now: number): void;
  ended(a: Allocation): void;
}

export class TurnCore<IO = unknown> implements TurnContext<IO> {
  readonly config: TurnCoreConfig;
  readonly table: AllocationTable<IO>;
  readonly nonces: NonceIssuer;
  readonly policy: PeerPolicy;
  readonly pending = new Map<string, RelayRequest>();
  /** Answers to deleting Refreshes, for their retransmissions (recent-answers.ts). */
  readonly recent = new RecentAnswers();
  /**
   * Told when a Refresh deleted an allocation, with the request and its answer: a TURN
   * thread tells the main thread, whose listener gets the retransmission once the
   * thread's connected socket is closed (net/turn-threads.ts).
   */
  onDeleted: ((address: string, port: number, request: Uint8Array, response: Uint8Array) => void) | undefined;
  /** EVEN-PORT reservations: counted against the quotas like allocations (reservations.ts). */
  readonly reservations = new Reservations();
  readonly counters: TurnCounters = {
    allocationsCreated: 0,
    allocationsPeak: 0,
    rejectedUnauthenticated: 0,
    authFailed: 0,
    drainRefused: 0,
    rateLimited: 0,
    peerDenied: 0,
    quotaRejected: 0,
    sourceQuotaRejected: 0,
    credentialGone: 0,
    malformed: 0,
  };
  private readonly unauthLimiter: BucketMap;
  private readonly unauthTotal: TokenBucket;
  private readonly authFailLimiter: BucketMap;
  private readonly authFailTotal: TokenBucket;
  private nextId = 1;
  /** The relay's own addresses, known once its listeners are bound (setSelf). */
  private self: SelfPeers | undefined;
  private secrets: readonly string[];
  /** Which credentials handed out over signalling are still usable (credential-ledger.ts); none set: all refused. */
  private liveness: CredentialLiveness | undefined;
  /** Shutting down: no new allocations (508), existing ones keep working while they relay (docs/operators.md). */
  draining = false;
  /** The kernel offload, when on (AllocationWatcher). */
  watcher: AllocationWatcher | undefined = undefined;
  /** Draining: per allocation id, its relayed count at the start of the current window, and when that was. */
  /** Draining: per allocation, its packet count at the last tick and how many quiet ticks in a row it had. */
  private readonly quiet = new Map<number, { count: number; at: number; quietTicks: number }>();

  constructor(config: Partial<TurnCoreConfig> & Pick<TurnCoreConfig, 'realm' | 'authSecret'>, nonceKey?: Uint8Array) {
    this.config = { ...DEFAULT_TURN_CONFIG, ...config };
    this.table = new AllocationTable<IO>(this.config.sourcePrefix6);
    this.nonces = new NonceIssuer(this.config.nonceTtlSec, nonceKey);
    this.policy = new PeerPolicy(this.config.allowPeers);
    this.unauthLimiter = new BucketMap(this.config.unauthRatePerSec, this.config.unauthBurst, this.config.unauthSources);
    this.unauthTotal = new TokenBucket(this.config.unauthRatePerSec * UNAUTH_TOTAL_FACTOR, this.config.unauthBurst * UNAUTH_TOTAL_FACTOR, 0);
    this.authFailLimiter = new BucketMap(AUTH_FAIL_RATE, AUTH_FAIL_BURST, this.config.unauthSources);
    this.authFailTotal = new TokenBucket(AUTH_FAIL_RATE * UNAUTH_TOTAL_FACTOR, AUTH_FAIL_BURST * UNAUTH_TOTAL_FACTOR, 0);
    this.secrets = this.config.authSecrets?.length ? [...this.config.authSecrets] : [this.config.authSecret];
  }

  /** Replace the valid shared secrets (SIGHUP). Allocations already made keep their keys. */
  setSecrets(secrets: readonly string[]): void {
    if (secrets.length === 0) throw new RangeError('at least one TURN secret is needed');
    this.secrets = [...secrets];
  }

  /** Where to ask whether a credential handed out over signalling is still usable (credential-ledger.ts). */
  setLiveness(l: CredentialLiveness): void {
    this.liveness = l;
  }

  /** The relay's own addresses and listener ports (self-peer.ts), once the shell has bound them. */
  setSelf(c: SelfPeerConfig): void {
    this.self = new SelfPeers(c);
  }

  /** Whether a peer transport address is the relay itself (denied unless allowSelfPeer). */
  selfPeer(address: string, port: number): boolean {
    return !this.config.allowSelfPeer && this.self !== undefined && this.self.denies(address, port);
  }

  /** Whether `address` is one of the relay's own (self-peer.ts). */
  isOwnAddress(address: string): boolean {
    return this.self !== undefined && this.self.isOwnAddress(address);
  }

  newId(): number {
    return this.nextId++;
  }

  // ───────────────────────────── control path ─────────────────────────────

  /**
   * Anything from a client that is not ChannelData: a STUN request or
   * indication. `stunOnly` listeners (the alternate port) answer Binding only.
   */
  handleMessage(tuple: ClientTuple, bytes: Uint8Array, now: number, stunOnly = false): TurnAction<IO>[] {
    const d = decodeStun(bytes);
    if (!d.ok) {
      this.counters.malformed++;
      return [];
    }
    const msg = d.value;
    if (!fingerprintOk(msg)) {
      this.counters.malformed++;
      return [];
    }
    if (msg.cls === Class.Indication) {
      if (msg.method === Method.Send && !stunOnly) return handleSend(this, tuple, msg, now);
      return []; // Binding indications are keepalives; anything else is ignored.
    }
    if (msg.cls !== Class.Request) return []; // responses are not for a server
    if (msg.method === Method.Binding) return this.binding(tuple, msg);

    const send = (b: Uint8Array): TurnAction<IO>[] => [{ kind: 'send', to: tuple, bytes: b }];
    if (stunOnly) return this.unauthenticated(tuple, now, () => failure(msg, ErrorCode.BadRequest, { reason: 'Bad Request: this port answers Binding only' }));
    const unknown = msg.attributes.map((a) => a.type).filter((t) => isComprehensionRequired(t) && !KNOWN_REQUIRED.has(t));
    if (unknown.length > 0) {
      return this.unauthenticated(tuple, now, () => failure(msg, ErrorCode.UnknownAttribute, { unknown }));
    }
    const isTurn =
      msg.method === Method.Allocate ||
      msg.method === Method.Refresh ||
      msg.method === Method.CreatePermission ||
      msg.method === Method.ChannelBind;
    if (!isTurn) return this.unauthenticated(tuple, now, () => failure(msg, ErrorCode.BadRequest, { reason: 'Bad Request: unknown method' }));

    // A retransmitted deleting Refresh gets the answer its first copy got (recent-answers.ts).
    if (msg.method === Method.Refresh) {
      const again = this.recent.find(tuple.address, tuple.port, bytes, now);
      if (again) return send(again);
    }
    const existing = this.table.find(tuple);
    // A source whose integrity checks keep failing is dropped before the next costs anything.
    const source = sourceKey(tuple.address, this.config.sourcePrefix6);
    if (msg.integrityAt >= 0 && (!this.authFailLimiter.has(source, now) || !this.authFailTotal.has(now))) {
      this.counters.rateLimited++;
      return [];
    }
    const auth = authenticate(msg, tuple.address, now, {
      realm: this.config.realm,
      secrets: this.secrets,
      allocation: existing,
      nonces: this.nonces,
      // A REST username's expiry bounds when allocations may be made; requests
      // inside an allocation it already made keep working (docs/relay.md).
      enforceExpiry: !existing,
    });
    if (!auth.ok) {
      this.counters.rejectedUnauthenticated++;
      if (msg.integrityAt >= 0 && auth.code !== ErrorCode.StaleNonce) {
        this.counters.authFailed++;
        this.authFailLimiter.take(source, now);
        this.authFailTotal.take(now);
      }
      return this.unauthenticated(tuple, now, () => {
        const challenge = auth.challenge ? { realm: this.config.realm, nonce: this.nonces.issue(tuple.address, now) } : {};
        return failure(msg, auth.code, { ...challenge, reason: auth.reason });
      });
    }
    // From here the request is authenticated; answers carry MESSAGE-INTEGRITY.
    if (existing && existing.username !== auth.username && msg.method !== Method.Allocate) {
      return send(failure(msg, ErrorCode.WrongCredentials, { key: auth.key }));
    }
    // A credential handed out over signalling works while its connection is open and for the grace
    // after (credential-ledger.ts); then only deleting an allocation (Refresh, LIFETIME 0) is served.
    const key = credentialKey(auth.username);
    if (isSignalCredential(key) && !this.liveness?.usable(key, now) && !(msg.method === Method.Refresh && readLifetime(msg) === 0)) {
      this.counters.credentialGone++;
      return send(failure(msg, ErrorCode.Unauthorized, { key: auth.key, reason: 'Unauthorized: the signalling connection these credentials came from is gone' }));
    }
    switch (msg.method) {
      case Method.Allocate:
        return handleAllocate(this, tuple, msg, auth.username, auth.key, existing, now);
      case Method.Refresh: {
        const out = handleRefresh(this, tuple, msg, auth.key, existing, now);
        const answer = out[0];
        if (existing && !this.table.find(tuple) && answer?.kind === 'send') {
          this.recent.remember(tuple.address, tuple.port, bytes, answer.bytes, now);
          this.onDeleted?.(tuple.address, tuple.port, bytes, answer.bytes);
        }
        return out;
      }
      case Method.CreatePermission:
        return this.watched(existing, now, handleCreatePermission(this, tuple, msg, auth.key, existing, now));
      default:
        return this.watched(existing, now, handleChannelBind(this, tuple, msg, auth.key, existing, now));
    }
  }

  /**
   * Answer to a request that is not (yet) authenticated: rate limited per
   * source IP, and in total. The answer (a nonce HMAC, the message, its CRC) is built only
   * once the limiter lets it out, so a flood of them costs little more than
   * malformed datagrams (docs/hardening.md).
   */
  private unauthenticated(tuple: ClientTuple, now: number, answer: () => Uint8Array): TurnAction<IO>[] {
    if (!this.unauthLimiter.take(sourceKey(tuple.address, this.config.sourcePrefix6), now) || !this.unauthTotal.take(now)) {
      this.counters.rateLimited++;
      return [];
    }
    return [{ kind: 'send', to: tuple, bytes: answer() }];
  }

  /** Binding (RFC 8489 §6.3.1): XOR-MAPPED-ADDRESS of the source; no auth, no state. */
  private binding(tuple: ClientTuple, msg: StunMessage): TurnAction<IO>[] {
    const mapped = encodeXorAddress({ family: tuple.family, address: tuple.address, port: tuple.port }, msg.transactionId);
    return [{ kind: 'send', to: tuple, bytes: success(msg, [[Attr.XorMappedAddress, mapped]]) }];
  }

  /** The shell bound (or failed to bind) the relay socket for a pending Allocate. */
  relayBound(
    req: RelayRequest,
    result: { ok: true; relayed: TransportAddress; io: IO; reservationToken?: Uint8Array } | { ok: false },
    now: number,
  ): TurnAction<IO>[] {
    if (this.pending.get(req.tupleKey) !== req) {
      // The client went away while we were binding: give the socket back.
      if (result.ok) {
        const orphan = new Allocation<IO>(0, req.tuple, req.username, req.key, result.relayed, 0, new Uint8Array(0));
        orphan.io = result.io;
        return [{ kind: 'release-relay', allocation: orphan }];
      }
      return [];
    }
    this.pending.delete(req.tupleKey);
    if (req.reservationToken) this.reservations.take(hex(req.reservationToken));
    const msg = req.message;
    if (!result.ok) return [{ kind: 'send', to: req.tuple, bytes: failure(msg, ErrorCode.InsufficientCapacity, { key: req.key }) }];
    const attrs: AttrList = [
      [Attr.XorRelayedAddress, encodeXorAddress(result.relayed, msg.transactionId)],
      [Attr.Lifetime, u32(req.lifetimeSec)],
    ];
    if (result.reservationToken) attrs.push([Attr.ReservationToken, result.reservationToken]);
    attrs.push([
      Attr.XorMappedAddress,
      encodeXorAddress({ family: req.tuple.family, address: req.tuple.address, port: req.tuple.port }, msg.transactionId),
    ]);
    const response = success(msg, attrs, req.key);
    const a = new Allocation<IO>(
      this.newId(),
      req.tuple,
      req.username,
      req.key,
      result.relayed,
      now + req.lifetimeSec * 1000,
      response,
    );
    a.io = result.io;
    if (result.reservationToken) {
      this.reservations.add(hex(result.reservationToken), req.username, req.tuple.address, sourceKey(req.tuple.address, this.config.sourcePrefix6), a.id, now);
    }
    this.table.add(a);
    this.counters.allocationsCreated++;
    if (this.table.size > this.counters.allocationsPeak) this.counters.allocationsPeak = this.table.size;
    return [{ kind: 'send', to: req.tuple, bytes: response }];
  }

  /** Told of every allocation removed (a TURN thread tells the main thread, which counts it for the quotas). */
  onReleased: ((a: Allocation<IO>) => void) | undefined;

  /** Remove an allocation (expiry, LIFETIME 0, closed stream). */
  release(a: Allocation<IO>): TurnAction<IO>[] {
    // Its unused reservation goes too; the shell closes that socket with the allocation's.
    this.reservations.releaseOwner(a.id);
    this.watcher?.ended(a);
    if (!this.table.remove(a)) return [];
    this.onReleased?.(a);
    return [{ kind: 'release-relay', allocation: a }];
  }

  /** A TCP/TLS client connection closed: its allocation goes with it (RFC 8656 §3.1). */
  connectionClosed(conn: number): TurnAction<IO>[] {
    for (const [k, p] of this.pending) if (p.tuple.conn === conn && p.tuple.transport !== 'udp') this.pending.delete(k);
    const a = this.table.findStream(conn);
    return a ? this.release(a) : [];
  }

  /**
   * Periodic housekeeping: expire allocations, permissions, channels. While
   * draining, also release allocations whose packet rate stayed below
   * drainQuietRate for drainQuietSamples ticks in a row (about 2 s, not a
   * fixed 10 s window): a live call's allocation carries voice, 50 packets a
   * second each way (muted too: silence is still sent), while one whose call
   * moved to another node (ICE restart) only sees the old pair's connectivity
   * checks, a packet or two a second (Chromium keeps checking it), and one
   * whose call ended sees nothing.
   */
  tick(now: number): TurnAction<IO>[] {
    const out: TurnAction<IO>[] = [];
    // Runs every second over every allocation, beside the media: no set of
    // live ids unless drain samples need pruning, released ones gathered apart.
    const sampling = this.draining || this.quiet.size > 0;
    const live = sampling ? new Set<number>() : undefined;
    let ended: Allocation<IO>[] | undefined;
    for (const a of this.table.all()) {
      if (a.expiresAt <= now || (this.draining && this.isQuiet(a, now))) (ended ??= []).push(a);
      else {
        live?.add(a.id);
        a.expire(now);
        this.watcher?.changed(a, now);
      }
    }
    if (ended) for (const a of ended) out.push(...this.release(a));
    if (live) for (const id of this.quiet.keys()) if (!live.has(id)) this.quiet.delete(id);
    this.reservations.expire(now);
    this.recent.sweep(now);
    return out;
  }

  private watched(a: Allocation<IO> | undefined, now: number, out: TurnAction<IO>[]): TurnAction<IO>[] {
    if (a && this.watcher) this.watcher.changed(a, now);
    return out;
  }

  private isQuiet(a: Allocation<IO>, now: number): boolean {
    const q = this.quiet.get(a.id);
    if (!q) {
      this.quiet.set(a.id, { count: a.relayedCount, at: now, quietTicks: 0 });
      return false;
    }
    const seconds = (now - q.at) / 1000;
    if (seconds <= 0) return false;
    const rate = (a.relayedCount - q.count) / seconds;
    q.quietTicks = rate < this.config.drainQuietRate ? q.quietTicks + 1 : 0;
    q.count = a.relayedCount;
    q.at = now;
    return q.quietTicks >= this.config.drainQuietSamples;
  }

  // ─────────────────────────────── hot path ───────────────────────────────

  /** ChannelData from a UDP client: the bound, permitted channel, or undefined (drop). */
  channelFromUdpClient(listener: number, address: string, port: number, channel: number, now: number): Channel<IO> | undefined {
    const a = this.table.findUdp(listener, address, port);
    if (a === undefined) return undefined;
    return this.permittedChannel(a, channel, now);
  }

  /** ChannelData from a TCP/TLS client connection. */
  channelFromStreamClient(conn: number, channel: number, now: number): Channel<IO> | undefined {
    const a = this.table.findStream(conn);
    if (a === undefined) return undefined;
    return this.permittedChannel(a, channel, now);
  }

  private permittedChannel(a: Allocation<IO>, channel: number, now: number): Channel<IO> | undefined {
    const ch = a.channel(channel);
    if (ch === undefined || ch.expiresAt <= now) return undefined;
    const perm = a.permission(ch.peerAddress);
    if (perm === undefined || perm <= now) return undefined;
    a.relayedCount++;
    return ch;
  }

  /**
   * A datagram from a peer on `a`'s relay socket (RFC 8656 §11.3, §12.6):
   * a Channel to use ChannelData, null to use a Data indication, undefined
   * to drop (no permission for that peer IP).
   */
  fromPeer(a: Allocation<IO>, address: string, port: number, now: number): Channel<IO> | null | undefined {
    // Channel first: found by port (a number) and one string compare, and its
    // stored address is a Map key whose hash V8 has cached; the fresh
    // address string from the socket is hashed only on the Data-indication path.
    const ch = a.channelByPeer(address, port);
    const live = ch !== undefined && ch.expiresAt > now;
    const perm = a.permission(live ? ch.peerAddress : address);
    if (perm === undefined || perm <= now) return undefined;
    a.relayedCount++;
    return live ? ch : null;
  }

  /** Data indication (RFC 8656 §11.3) carrying `data` from a peer. */
  dataIndication(a: Allocation<IO>, address: string, port: number, data: Uint8Array): Uint8Array {
    const txid = crypto.getRandomValues(new Uint8Array(12));
    const w = new StunWriter(Method.Data, Class.Indication, txid);
    w.add(Attr.XorPeerAddress, encodeXorAddress({ family: a.relayedAddress.family, address, port }, txid));
    w.add(Attr.Data, data);
    return w.finish({ fingerprint: fingerprintOf });
  }

  /** Decode and policy-check every XOR-PEER-ADDRESS of a request. */
  peerAddresses(msg: StunMessage): PeerAddresses {
    const peers: TransportAddress[] = [];
    for (const at of msg.attributes) {
      if (at.type !== Attr.XorPeerAddress) continue;
      const d = decodeXorAddress(msg.raw.subarray(at.offset, at.offset + at.length), msg.transactionId);
      if (!d.ok) return { ok: false, code: ErrorCode.BadRequest };
      peers.push(d.value);
    }
    if (peers.length === 0) return { ok: false, code: ErrorCode.BadRequest, reason: 'Bad Request: no XOR-PEER-ADDRESS' };
    for (const p of peers) {
      if (!this.policy.check(p.address).allowed || this.selfPeer(p.address, p.port)) {
        this.counters.peerDenied++;
        return { ok: false, code: ErrorCode.Forbidden, reason: 'Forbidden: peer address not allowed' };
      }
    }
    return { ok: true, peers };
  }
}
