/**
 * A TurnCore with an injected clock and a simulated shell around it, for the
 * TURN fuzz targets: it carries out the core's actions the way
 * relay-server/src/net/turn-shell.ts does (relay sockets bound at once,
 * late, or failing; TCP connections closing mid-Allocate), and checks every
 * answer and every state change against oracles that do not reuse auth.ts:
 *
 *   - an answer decodes, echoes the request's transaction id and method, and
 *     carries a correct FINGERPRINT; a success answer to anything but Binding
 *     needs a request whose MESSAGE-INTEGRITY verifies under the key the
 *     shared secret gives its USERNAME, and carries MESSAGE-INTEGRITY itself;
 *   - nothing changes (allocations, pending binds, permissions, channels,
 *     lifetimes) for a request without such integrity;
 *   - quotas hold (per user, in total), permissions and channels per
 *     allocation stay within their bound, and the per-source rate-limit map
 *     stays within its bound whatever the sources.
 */
import { Attr, Class, HEADER_LEN, Method } from '../../../relay-server/src/stun/constants';
import { fingerprintOf, fingerprintOk } from '../../../relay-server/src/stun/fingerprint';
import { hmacSha1, integrityOk, longTermKey } from '../../../relay-server/src/stun/integrity';
import { decodeStun, getAttr, type StunMessage } from '../../../relay-server/src/stun/message';
import { MAX_USERNAME_BYTES, textAttr } from '../../../relay-server/src/stun/text-attrs';
import type { RelayRequest, TurnAction } from '../../../relay-server/src/turn/actions';
import { MAX_CHANNELS, MAX_PERMISSIONS, type ClientTuple } from '../../../relay-server/src/turn/allocation';
import { turnPassword } from '../../../relay-server/src/turn/credentials';
import type { TurnCoreConfig } from '../../../relay-server/src/turn/config';
import { TurnCore } from '../../../relay-server/src/turn/core';
import { enc, invariant, type Rng } from '../engine';
import type { Signer } from './_stun-gen';

export const SECRET = 'fuzz-shared-secret';
export const REALM = 'hush';
/** 2027-01-15: usernames below expire relative to this. */
export const T0 = 1_800_000_000_000;

const METHOD_NAMES: Record<number, string> = {
  [Method.Binding]: 'Binding',
  [Method.Allocate]: 'Allocate',
  [Method.Refresh]: 'Refresh',
  [Method.Send]: 'Send',
  [Method.Data]: 'Data',
  [Method.CreatePermission]: 'CreatePermission',
  [Method.ChannelBind]: 'ChannelBind',
};
const CLASS_NAMES: Record<number, string> = { [Class.Request]: 'req', [Class.Indication]: 'ind', [Class.Success]: 'ok', [Class.Error]: 'err' };

export function udpTuple(address: string, port: number, listener = 0): ClientTuple {
  return { transport: 'udp', listener, conn: 0, family: address.includes(':') ? 6 : 4, address, port };
}

export class TurnWorld {
  readonly core: TurnCore<number>;
  now = T0;
  /** Client 5-tuples the fuzzer sends from: UDP on two listeners, and TCP connections. */
  readonly tuples: ClientTuple[] = [];
  /** Valid REST usernames (five live, one expired) and their keys. */
  readonly users: string[];
  private readonly keys = new Map<string, Uint8Array>();
  /** Allocates whose relay socket the simulated shell has not bound yet. */
  private readonly parked: RelayRequest[] = [];
  private nextRelayPort = 49152;
  private nextIo = 1;
  private nextConn = 1;
  /** Largest total of permissions seen (authenticated clients can install many; reported by the bench). */
  maxPermissions = 0;

  constructor(readonly config: Partial<TurnCoreConfig> = {}) {
    this.core = new TurnCore<number>({ realm: REALM, authSecret: SECRET, userQuota: 3, totalQuota: 16, ...config }, new Uint8Array(32).fill(9));
    const s = Math.floor(T0 / 1000);
    this.users = [`${s + 86400}:alice`, `${s + 86400}:bob`, `${s + 86400}:carol`, `${s + 86400}:dave`, `${s + 86400}:erin`, `${s - 10}:expired`];
    for (let i = 0; i < 24; i++) this.tuples.push(udpTuple(`198.51.100.${1 + (i % 6)}`, 40000 + i, i % 2));
    this.tuples.push(udpTuple('2001:db8::7', 40100));
    for (let i = 0; i < 6; i++) this.tuples.push(this.streamTuple());
  }

  private streamTuple(): ClientTuple {
    const conn = this.nextConn++;
    return { transport: conn % 2 ? 'tcp' : 'tls', listener: conn % 2 ? 0 : 2, conn, family: 4, address: '198.51.100.9', port: 30000 + conn };
  }

  keyFor(username: string): Uint8Array {
    let k = this.keys.get(username);
    if (!k) {
      k = longTermKey(username, REALM, turnPassword(SECRET, username));
      if (this.keys.size < 64) this.keys.set(username, k);
    }
    return k;
  }

  signer(tuple: ClientTuple, username = this.users[0]!): Signer {
    return { username, realm: REALM, nonce: this.core.nonces.issue(tuple.address, this.now), key: this.keyFor(username) };
  }

  /**
   * Make a (possibly mutated) request authentic again: a fresh NONCE for this
   * tuple in place of a 28-byte one, MESSAGE-INTEGRITY recomputed with the
   * key of its USERNAME (of the first user if it has none), FINGERPRINT
   * recomputed. Structure is left exactly as the mutator made it.
   */
  resign(tuple: ClientTuple, input: Uint8Array): Uint8Array {
    const d = decodeStun(input);
    if (!d.ok || d.value.integrityAt < 0) return input;
    const m = d.value;
    const out = input.slice();
    const na = getAttr(m, Attr.Nonce);
    if (na && na.length === 28) out.set(enc(this.core.nonces.issue(tuple.address, this.now)), na.offset);
    const u = textAttr(m, Attr.Username, MAX_USERNAME_BYTES);
    const key = this.keyFor(typeof u === 'string' ? u : this.users[0]!);
    const at = m.integrityAt;
    const prefix = out.slice(0, at);
    const adjusted = at - HEADER_LEN + 24;
    prefix[2] = adjusted >> 8;
    prefix[3] = adjusted & 0xff;
    out.set(hmacSha1(key, prefix), at + 4);
    if (m.fingerprintAt >= 0) {
      const crc = fingerprintOf(out.subarray(0, m.fingerprintAt));
      out[m.fingerprintAt + 4] = crc >>> 24;
      out[m.fingerprintAt + 5] = (crc >>> 16) & 0xff;
      out[m.fingerprintAt + 6] = (crc >>> 8) & 0xff;
      out[m.fingerprintAt + 7] = crc & 0xff;
    }
    return out;
  }

  /** The oracle: MESSAGE-INTEGRITY verifies under the secret-derived key of the message's own USERNAME. */
  authentic(m: StunMessage): boolean {
    if (m.integrityAt < 0) return false;
    const u = textAttr(m, Attr.Username, MAX_USERNAME_BYTES);
    return typeof u === 'string' && integrityOk(m, this.keyFor(u));
  }

  /** Everything a request could change, in one comparable string. */
  stateSig(): string {
    let perms = 0;
    let chans = 0;
    let exp = 0;
    for (const a of this.core.table.all()) {
      perms += a.permissionCount;
      chans += a.channelCount;
      exp += a.expiresAt;
    }
    if (perms > this.maxPermissions) this.maxPermissions = perms;
    return `${this.core.table.size}|${this.core.pending.size}|${perms}|${chans}|${exp}`;
  }

  /** Feed one client message; carry out and check the actions. Returns the outcome signature. */
  handle(tuple: ClientTuple, bytes: Uint8Array, rng: Rng): string {
    const c = this.core.counters;
    const before = this.stateSig();
    const malformed = c.malformed;
    const limited = c.rateLimited;
    const d = decodeStun(bytes);
    const req = d.ok ? d.value : undefined;
    const authentic = req !== undefined && this.authentic(req);
    const actions = this.core.handleMessage(tuple, bytes, this.now);
    if (!authentic) invariant(this.stateSig() === before, 'state changed for a request without valid MESSAGE-INTEGRITY');

    const what = req ? `${METHOD_NAMES[req.method] ?? 'm?'}/${CLASS_NAMES[req.cls]}${authentic ? '+mi' : ''}` : 'undecodable';
    const out: string[] = [];
    for (const act of actions) out.push(this.carryOut(act, req, authentic, rng));
    if (c.malformed > malformed) out.push('dropped-malformed');
    if (c.rateLimited > limited) out.push('rate-limited');
    this.settleParked(rng);
    return `${what} → ${out.join(',') || 'nothing'}`;
  }

  private carryOut(act: TurnAction<number>, req: StunMessage | undefined, authentic: boolean, rng: Rng): string {
    switch (act.kind) {
      case 'send':
        return this.checkAnswer(act.bytes, req, authentic);
      case 'bind-relay': {
        invariant(authentic && req?.method === Method.Allocate, 'bind-relay for a request that is not an authentic Allocate');
        const r = rng.int(100);
        if (r < 85) return `bind:${this.bind(act.request, true)}`;
        if (r < 90 || this.parked.length >= 16) return `bind:${this.bind(act.request, r >= 90)}`;
        this.parked.push(act.request);
        return 'bind:parked';
      }
      case 'release-relay':
        return 'release';
      case 'to-peer': {
        const a = act.allocation;
        invariant(this.core.table.find(a.tuple) === a, 'to-peer for an allocation not in the table');
        invariant(a.hasPermission(act.address, this.now), 'to-peer to a peer without permission');
        return 'to-peer';
      }
    }
  }

  /** The shell's answer to a bind-relay: a relay socket, or none (508). */
  bind(req: RelayRequest, ok: boolean): string {
    const actions = this.core.relayBound(
      req,
      ok ? { ok: true, relayed: { family: 4, address: '203.0.113.1', port: this.nextRelayPort++ }, io: this.nextIo++ } : { ok: false },
      this.now,
    );
    if (this.nextRelayPort > 65535) this.nextRelayPort = 49152;
    const kinds: string[] = [];
    for (const a of actions) {
      if (a.kind === 'send') kinds.push(this.checkAnswer(a.bytes, req.message, true));
      else kinds.push(a.kind);
    }
    return kinds.join('+') || 'nothing';
  }

  /** Parked binds finish late, in any order, and TCP connections drop meanwhile. */
  private settleParked(rng: Rng): void {
    if (this.parked.length === 0 || !rng.chance(0.2)) return;
    const i = rng.int(this.parked.length);
    const req = this.parked.splice(i, 1)[0]!;
    if (req.tuple.transport !== 'udp' && rng.chance(0.3)) {
      this.core.connectionClosed(req.tuple.conn);
      // The stream is gone: a fresh connection takes its place in the tuple pool.
      const at = this.tuples.findIndex((t) => t.conn === req.tuple.conn);
      if (at >= 0) this.tuples[at] = this.streamTuple();
    }
    this.bind(req, rng.chance(0.9));
  }

  private checkAnswer(bytes: Uint8Array, req: StunMessage | undefined, authentic: boolean): string {
    invariant(req !== undefined, 'an answer to bytes that do not decode');
    const d = decodeStun(bytes);
    invariant(d.ok, `the core sent an answer that does not decode: ${d.ok ? '' : d.message}`);
    const m = d.value;
    invariant(m.transactionId.every((b, i) => b === req.transactionId[i]), 'answer with another transaction id');
    invariant(m.method === req.method, 'answer with another method');
    invariant(m.fingerprintAt >= 0 && fingerprintOk(m), 'answer without a correct FINGERPRINT');
    invariant(m.cls === Class.Success || m.cls === Class.Error, 'answer that is not a response');
    if (m.cls === Class.Success && req.method !== Method.Binding) {
      invariant(authentic, 'success answer to a request without valid MESSAGE-INTEGRITY');
    }
    if (m.integrityAt >= 0) {
      const u = textAttr(req, Attr.Username, MAX_USERNAME_BYTES);
      invariant(typeof u === 'string' && integrityOk(m, this.keyFor(u)), 'answer MESSAGE-INTEGRITY not made with the request key');
    }
    if (m.cls === Class.Success) return 'success';
    const ec = getAttr(m, Attr.ErrorCode);
    invariant(ec !== undefined, 'error answer without ERROR-CODE');
    const v = bytes.subarray(ec.offset, ec.offset + ec.length);
    return String((v[2]! & 7) * 100 + v[3]!);
  }

  /** Housekeeping as the shell's 1 s timer does it. */
  tick(): void {
    this.core.tick(this.now);
  }

  /** Bounds that must hold whatever was fed. */
  check(): void {
    const core = this.core;
    const cfg = core.config;
    invariant(core.table.size <= cfg.totalQuota, `allocations ${core.table.size} over the total quota ${cfg.totalQuota}`);
    invariant(core.table.size + core.pending.size <= cfg.totalQuota, 'allocations + pending over the total quota');
    const perUser = new Map<string, number>();
    for (const a of core.table.all()) {
      perUser.set(a.username, (perUser.get(a.username) ?? 0) + 1);
      invariant(a.channelCount <= MAX_CHANNELS, `allocation holds ${a.channelCount} channels, bound ${MAX_CHANNELS}`);
      invariant(a.permissionCount <= MAX_PERMISSIONS, `allocation holds ${a.permissionCount} permissions, bound ${MAX_PERMISSIONS}`);
    }
    for (const [u, n] of perUser) {
      invariant(n <= cfg.userQuota, `user has ${n} allocations, quota ${cfg.userQuota}`);
      invariant(core.table.userCount(u) === n, 'per-user count out of step with the table');
    }
    const limiter = (core as unknown as { unauthLimiter: { size: number } }).unauthLimiter;
    invariant(limiter.size <= cfg.unauthSources, `rate-limit map holds ${limiter.size} sources, bound ${cfg.unauthSources}`);
    invariant(this.parked.length <= 64, 'simulated shell parked too many binds');
  }

  /** Advance the clock: mostly milliseconds, sometimes a minute (expiries, stale nonces). */
  advance(rng: Rng): void {
    this.now += rng.chance(0.002) ? 60_000 : rng.int(4);
  }

  get parkedCount(): number {
    return this.parked.length;
  }
}
