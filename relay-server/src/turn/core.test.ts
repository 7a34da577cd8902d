/**
 * The TURN core, sans-IO: requests in, actions out, clock passed in. Covers
 * the safety promises: no state before authentication, 401 rate limit per
 * source, peer policy (403) through the real request path, quotas, and that
 * no input bytes can throw out of the core.
 */
import { beforeEach, describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { Attr, Class, ErrorCode, Method } from '../stun/constants';
import { decodeErrorCode } from '../stun/error-code';
import { fingerprintOf } from '../stun/fingerprint';
import { integrityOk, integrityWith, longTermKey } from '../stun/integrity';
import { attrValue, decodeStun, getAttr, StunWriter, type StunMessage } from '../stun/message';
import { utf8 } from '../stun/text-attrs';
import { decodeXorAddress, encodeXorAddress, type TransportAddress } from '../stun/xor-address';
import type { ClientTuple } from './allocation';
import { encodeChannelData } from './channel-data';
import { turnPassword } from './credentials';
import type { RelayRequest, TurnAction } from './actions';
import type { TurnCoreConfig } from './config';
import { TurnCore } from './core';

const NOW = 1_800_000_000_000;
const SECRET = 'core-test-secret';
const NONCE_KEY = new Uint8Array(32).fill(1);
const RELAYED: TransportAddress = { family: 4, address: '203.0.113.1', port: 50000 };

function tuple(port = 40000, address = '198.51.100.7'): ClientTuple {
  return { transport: 'udp', listener: 0, conn: 0, family: 4, address, port };
}

let tid = 0;
function txid(): Uint8Array {
  const b = new Uint8Array(12);
  new DataView(b.buffer).setUint32(8, ++tid);
  return b;
}

interface Creds {
  username: string;
  password: string;
  nonce?: string;
  realm?: string;
}

function creds(ttlSec = 3600, id = 'abc', now = NOW): Creds {
  const username = `${Math.floor(now / 1000) + ttlSec}:${id}`;
  return { username, password: turnPassword(SECRET, username) };
}

function request(method: number, attrs: Array<[number, Uint8Array]>, c?: Creds, id = txid()): Uint8Array {
  const w = new StunWriter(method, Class.Request, id);
  for (const [t, v] of attrs) w.add(t, typeof v === 'function' ? (v as (id: Uint8Array) => Uint8Array)(id) : v);
  if (c?.nonce) {
    w.add(Attr.Username, utf8(c.username));
    w.add(Attr.Realm, utf8(c.realm ?? 'hush'));
    w.add(Attr.Nonce, utf8(c.nonce));
  }
  const key = c?.nonce ? longTermKey(c.username, c.realm ?? 'hush', c.password) : undefined;
  return w.finish({ integrity: key ? integrityWith(key) : undefined, fingerprint: fingerprintOf });
}

const UDP = new Uint8Array([17, 0, 0, 0]);
const peer = (address: string, port = 5000) => ((id: Uint8Array) => encodeXorAddress({ family: address.includes(':') ? 6 : 4, address, port }, id)) as unknown as Uint8Array;

function answer(actions: TurnAction[]): { msg: StunMessage; code?: number; cls: number } {
  const sends = actions.filter((a) => a.kind === 'send');
  expect(sends.length).toBe(1);
  const d = decodeStun((sends[0] as { bytes: Uint8Array }).bytes);
  if (!d.ok) throw new Error(d.message);
  const ec = getAttr(d.value, Attr.ErrorCode);
  return { msg: d.value, cls: d.value.cls, code: ec ? decodeErrorCode(attrValue(d.value, ec))?.code : undefined };
}

function text(m: StunMessage, type: number): string | undefined {
  const a = getAttr(m, type);
  return a ? Buffer.from(attrValue(m, a)).toString() : undefined;
}

function makeCore(cfg: Partial<TurnCoreConfig> = {}) {
  return new TurnCore<string>({ realm: 'hush', authSecret: SECRET, ...cfg }, NONCE_KEY);
}

/** Challenge, then authenticated Allocate, then the shell's bind: the success answer. */
function allocate(core: TurnCore<string>, t: ClientTuple, c: Creds, now = NOW) {
  const ch = answer(core.handleMessage(t, request(Method.Allocate, [[Attr.RequestedTransport, UDP]]), now));
  expect(ch.code).toBe(401);
  c.nonce = text(ch.msg, Attr.Nonce);
  const acts = core.handleMessage(t, request(Method.Allocate, [[Attr.RequestedTransport, UDP]], c), now);
  const bind = acts.find((a) => a.kind === 'bind-relay') as { request: RelayRequest } | undefined;
  if (!bind) return answer(acts);
  return answer(core.relayBound(bind.request, { ok: true, relayed: { ...RELAYED, port: RELAYED.port + t.port % 1000 }, io: 'socket' }, now));
}

describe('authentication', () => {
  test('an unauthenticated Allocate gets 401 with REALM and NONCE, and creates no state', () => {
    const core = makeCore();
    const a = answer(core.handleMessage(tuple(), request(Method.Allocate, [[Attr.RequestedTransport, UDP]]), NOW));
    expect(a.cls).toBe(Class.Error);
    expect(a.code).toBe(401);
    expect(text(a.msg, Attr.Realm)).toBe('hush');
    expect(text(a.msg, Attr.Nonce)).toMatch(/^[0-9a-f]{8}[A-Za-z0-9_-]{20}$/);
    expect(a.msg.integrityAt).toBe(-1);
    expect(core.table.size).toBe(0);
    expect(core.pending.size).toBe(0);
  });

  test('the nonce is stateless: a second core with the same key accepts it, any other IP or key does not', () => {
    const core = makeCore();
    const c = creds();
    const r = allocate(core, tuple(), c);
    expect(r.cls).toBe(Class.Success);
    const other = makeCore();
    expect(other.nonces.check(c.nonce!, '198.51.100.7', NOW)).toBe('ok');
    expect(other.nonces.check(c.nonce!, '198.51.100.8', NOW)).toBe('invalid');
    expect(new TurnCore({ realm: 'hush', authSecret: SECRET }).nonces.check(c.nonce!, '198.51.100.7', NOW)).toBe('invalid');
    expect(other.nonces.check(c.nonce!, '198.51.100.7', NOW + 601_000)).toBe('stale');
  });

  test('a stale nonce gets 438 with a fresh one', () => {
    const core = makeCore();
    const c = creds();
    c.nonce = core.nonces.issue('198.51.100.7', NOW - 700_000);
    const a = answer(core.handleMessage(tuple(), request(Method.Allocate, [[Attr.RequestedTransport, UDP]], c), NOW));
    expect(a.code).toBe(438);
    expect(text(a.msg, Attr.Nonce)).not.toBe(c.nonce);
  });

  test('a wrong password, a wrong realm, an expired or non-REST username get 401', () => {
    const core = makeCore();
    const nonce = core.nonces.issue('198.51.100.7', NOW);
    const cases: Creds[] = [
      { ...creds(), password: 'wrong', nonce },
      { ...creds(), realm: 'other', nonce },
      { ...creds(-10), nonce },
      { username: 'alice', password: turnPassword(SECRET, 'alice'), nonce },
    ];
    for (const c of cases) {
      const a = answer(core.handleMessage(tuple(), request(Method.Allocate, [[Attr.RequestedTransport, UDP]], c), NOW));
      expect(a.code).toBe(401);
      expect(core.table.size + core.pending.size).toBe(0);
    }
  });

  test('responses to authenticated requests carry MESSAGE-INTEGRITY with the user key', () => {
    const core = makeCore();
    const c = creds();
    const a = allocate(core, tuple(), c);
    expect(integrityOk(a.msg, longTermKey(c.username, 'hush', c.password))).toBe(true);
  });

  test('unauthenticated answers are rate limited per source IP, in a bounded map', () => {
    const core = makeCore({ unauthRatePerSec: 1, unauthBurst: 5, unauthSources: 3 });
    let answered = 0;
    for (let i = 0; i < 50; i++) answered += core.handleMessage(tuple(40000 + i), request(Method.Allocate, [[Attr.RequestedTransport, UDP]]), NOW).length;
    expect(answered).toBe(5);
    expect(core.counters.rateLimited).toBe(45);
    // Another source is not affected; a thousand sources cost at most 3 buckets.
    expect(core.handleMessage(tuple(1, '198.51.100.9'), request(Method.Allocate, [[Attr.RequestedTransport, UDP]]), NOW).length).toBe(1);
    for (let i = 0; i < 1000; i++) core.handleMessage(tuple(1, `198.51.${i >> 8}.${i & 255}`), request(Method.Allocate, [[Attr.RequestedTransport, UDP]]), NOW);
    expect((core as unknown as { unauthLimiter: { size: number } }).unauthLimiter.size).toBeLessThanOrEqual(3);
  });

  test('failed integrity checks (valid nonce, made-up username) are bounded per source before any key is derived', () => {
    const core = makeCore();
    const ch = answer(core.handleMessage(tuple(), request(Method.Allocate, [[Attr.RequestedTransport, UDP]]), NOW));
    const nonce = text(ch.msg, Attr.Nonce)!;
    let answered = 0;
    for (let i = 0; i < 500; i++) {
      const c: Creds = { username: `${Math.floor(NOW / 1000) + 3600}:made-up-${i}`, password: 'not-the-password', nonce };
      answered += core.handleMessage(tuple(), request(Method.Allocate, [[Attr.RequestedTransport, UDP]], c), NOW + i).length;
    }
    // Burst 20, then 5/s over the 0.5 s the requests span: the rest are dropped before authenticate() runs.
    expect(core.counters.authFailed).toBeLessThanOrEqual(20 + 3);
    expect(core.counters.authFailed).toBeGreaterThanOrEqual(20);
    expect(answered).toBe(core.counters.authFailed);
    expect(core.counters.rateLimited).toBe(500 - core.counters.authFailed);
    // A client with good credentials from another source is not affected.
    expect(allocate(core, tuple(40001, '198.51.100.8'), creds()).cls).toBe(Class.Success);
  });

  test('IPv6 sources share the unauthenticated bucket per /64 (sourcePrefix6), not per address', () => {
    const v6 = (address: string): ClientTuple => ({ transport: 'udp', listener: 0, conn: 0, family: 6, address, port: 40000 });
    const core = makeCore({ unauthRatePerSec: 1, unauthBurst: 5 });
    let answered = 0;
    for (let i = 1; i <= 200; i++) answered += core.handleMessage(v6(`2001:db8:1:2::${i.toString(16)}`), request(Method.Allocate, [[Attr.RequestedTransport, UDP]]), NOW).length;
    expect(answered).toBe(5);
    // Another /64 has a bucket of its own; with a /128 setting every address does.
    expect(core.handleMessage(v6('2001:db8:1:3::1'), request(Method.Allocate, [[Attr.RequestedTransport, UDP]]), NOW).length).toBe(1);
    const per128 = makeCore({ unauthRatePerSec: 1, unauthBurst: 5, sourcePrefix6: 128 });
    answered = 0;
    for (let i = 1; i <= 20; i++) answered += per128.handleMessage(v6(`2001:db8:1:2::${i.toString(16)}`), request(Method.Allocate, [[Attr.RequestedTransport, UDP]]), NOW).length;
    expect(answered).toBe(20);
  });
});

describe('Allocate', () => {
  let core: TurnCore<string>;
  beforeEach(() => {
    core = makeCore();
  });

  test('success: XOR-RELAYED-ADDRESS, LIFETIME, XOR-MAPPED-ADDRESS', () => {
    const a = allocate(core, tuple(), creds());
    expect(a.cls).toBe(Class.Success);
    const relayed = decodeXorAddress(attrValue(a.msg, getAttr(a.msg, Attr.XorRelayedAddress)!), a.msg.transactionId);
    expect(relayed.ok && relayed.value.address).toBe('203.0.113.1');
    const mapped = decodeXorAddress(attrValue(a.msg, getAttr(a.msg, Attr.XorMappedAddress)!), a.msg.transactionId);
    expect(mapped.ok && mapped.value).toEqual({ family: 4, address: '198.51.100.7', port: 40000 });
    expect(core.table.size).toBe(1);
  });

  test('437 for a second Allocate on the same 5-tuple; a retransmit gets the same answer', () => {
    const c = creds();
    allocate(core, tuple(), c);
    const a = answer(core.handleMessage(tuple(), request(Method.Allocate, [[Attr.RequestedTransport, UDP]], c), NOW));
    expect(a.code).toBe(437);
    const id = txid();
    const t2 = tuple(40001);
    allocateWithId(core, t2, c, id);
    const again = answer(core.handleMessage(t2, request(Method.Allocate, [[Attr.RequestedTransport, UDP]], c, id), NOW));
    expect(again.cls).toBe(Class.Success);
    expect(core.table.size).toBe(2);
  });

  function allocateWithId(core: TurnCore<string>, t: ClientTuple, c: Creds, id: Uint8Array) {
    const acts = core.handleMessage(t, request(Method.Allocate, [[Attr.RequestedTransport, UDP]], c, id), NOW);
    const bind = acts.find((x) => x.kind === 'bind-relay') as { request: RelayRequest };
    return answer(core.relayBound(bind.request, { ok: true, relayed: RELAYED, io: 'io' }, NOW));
  }

  test('REQUESTED-TRANSPORT missing: 400; TCP: 442; IPv6 family here: 440; unknown required attribute: 420', () => {
    const c = creds();
    c.nonce = core.nonces.issue('198.51.100.7', NOW);
    expect(answer(core.handleMessage(tuple(), request(Method.Allocate, [], c), NOW)).code).toBe(400);
    expect(answer(core.handleMessage(tuple(), request(Method.Allocate, [[Attr.RequestedTransport, new Uint8Array([6, 0, 0, 0])]], c), NOW)).code).toBe(442);
    expect(
      answer(core.handleMessage(tuple(), request(Method.Allocate, [[Attr.RequestedTransport, UDP], [Attr.RequestedAddressFamily, new Uint8Array([2, 0, 0, 0])]], c), NOW)).code,
    ).toBe(440);
    const u = answer(core.handleMessage(tuple(), request(Method.Allocate, [[Attr.RequestedTransport, UDP], [0x0003, new Uint8Array(4)]], c), NOW));
    expect(u.code).toBe(420);
    expect(Buffer.from(attrValue(u.msg, getAttr(u.msg, Attr.UnknownAttributes)!)).toString('hex')).toBe('0003');
    expect(core.table.size + core.pending.size).toBe(0);
  });

  test('per-user quota: 486; total quota: 508', () => {
    const small = makeCore({ userQuota: 2, totalQuota: 3 });
    const alice = creds(3600, 'alice');
    expect(allocate(small, tuple(1), alice).cls).toBe(Class.Success);
    expect(allocate(small, tuple(2), alice).cls).toBe(Class.Success);
    expect(allocate(small, tuple(3), alice).code).toBe(486);
    expect(allocate(small, tuple(4), creds(3600, 'bob')).cls).toBe(Class.Success);
    expect(allocate(small, tuple(5), creds(3600, 'carol')).code).toBe(508);
    expect(small.table.size).toBe(3);
  });

  test('the total quota counts what other TURN threads hold (allocations and reservations)', () => {
    const main = makeCore({ totalQuota: 3 });
    main.table.countElsewhere('1:t1', '198.51.100.9', 1); // an allocation in a thread
    main.table.countElsewhere('1:t1', '198.51.100.9', 1); // its EVEN-PORT reservation
    expect(allocate(main, tuple(1), creds(3600, 'dave')).cls).toBe(Class.Success);
    expect(allocate(main, tuple(2), creds(3600, 'erin')).code).toBe(508);
    expect(main.table.size).toBe(1);
    expect(main.table.relayTotal).toBe(3);
    main.table.countElsewhere('1:t1', '198.51.100.9', -1); // the thread's reservation ended
    expect(allocate(main, tuple(3), creds(3600, 'erin')).cls).toBe(Class.Success);
  });

  test('a failed relay bind answers 508 and keeps nothing', () => {
    const c = creds();
    answer(core.handleMessage(tuple(), request(Method.Allocate, [[Attr.RequestedTransport, UDP]]), NOW));
    c.nonce = core.nonces.issue('198.51.100.7', NOW);
    const acts = core.handleMessage(tuple(), request(Method.Allocate, [[Attr.RequestedTransport, UDP]], c), NOW);
    const bind = acts.find((x) => x.kind === 'bind-relay') as { request: RelayRequest };
    expect(answer(core.relayBound(bind.request, { ok: false }, NOW)).code).toBe(508);
    expect(core.table.size + core.pending.size).toBe(0);
  });

  test('Refresh with LIFETIME 0 deletes; expiry deletes; an expired username may still refresh its own allocation', () => {
    const c = creds(120);
    allocate(core, tuple(), c);
    const later = NOW + 200_000; // the username expired 80 s ago
    const r = answer(core.handleMessage(tuple(), request(Method.Refresh, [[Attr.Lifetime, new Uint8Array([0, 0, 2, 88])]], c), later));
    expect(r.cls).toBe(Class.Success);
    const acts = core.handleMessage(tuple(), request(Method.Refresh, [[Attr.Lifetime, new Uint8Array(4)]], c), later);
    expect(acts.some((a) => a.kind === 'release-relay')).toBe(true);
    expect(core.table.size).toBe(0);
    allocate(core, tuple(7), creds());
    expect(core.tick(NOW + 599_000)).toEqual([]);
    expect(core.tick(NOW + 601_000).map((a) => a.kind)).toEqual(['release-relay']);
    expect(core.table.size).toBe(0);
  });

  test('a retransmitted Refresh LIFETIME 0 gets the same success again; a new transaction after the delete gets 437', () => {
    const c = creds();
    allocate(core, tuple(), c);
    const del = request(Method.Refresh, [[Attr.Lifetime, new Uint8Array(4)]], c);
    const first = core.handleMessage(tuple(), del, NOW + 1000);
    expect(first.some((a) => a.kind === 'release-relay')).toBe(true);
    const firstAnswer = answer(first);
    expect(firstAnswer.cls).toBe(Class.Success);
    const again = answer(core.handleMessage(tuple(), del.slice(), NOW + 1500));
    expect(again.cls).toBe(Class.Success);
    expect(Buffer.from(again.msg.raw).equals(Buffer.from(firstAnswer.msg.raw))).toBe(true);
    expect(integrityOk(again.msg, longTermKey(c.username, 'hush', c.password))).toBe(true);
    // The same transaction from another client port, or altered bytes, is not a retransmission.
    expect(answer(core.handleMessage(tuple(40001), del.slice(), NOW + 1500)).code).toBe(437);
    const altered = del.slice();
    altered[altered.length - 1]! ^= 1;
    expect(core.handleMessage(tuple(), altered, NOW + 1500)).toEqual([]); // bad FINGERPRINT: dropped
    expect(answer(core.handleMessage(tuple(), request(Method.Refresh, [[Attr.Lifetime, new Uint8Array(4)]], c), NOW + 2000)).code).toBe(437);
    // Remembered for 40 s (RFC 8489's Ti), then forgotten by the sweep.
    core.tick(NOW + 42_000);
    expect(core.recent.size).toBe(0);
    expect(answer(core.handleMessage(tuple(), del.slice(), NOW + 42_000)).code).toBe(437);
  });
});

describe('permissions and channels', () => {
  let core: TurnCore<string>;
  let c: Creds;
  const t = tuple();
  beforeEach(() => {
    core = makeCore();
    c = creds();
    allocate(core, t, c);
  });

  const DENIED = ['10.0.0.1', '127.0.0.1', '0.0.0.0', '169.254.169.254', '100.64.0.1', '224.0.0.1', '::ffff:127.0.0.1', '::ffff:7f00:1', '64:ff9b::7f00:1', '::', '::1', 'fe80::1', 'fc00::1'];
  test.each(DENIED)('CreatePermission to %s: 403, nothing installed', (addr) => {
    const a = answer(core.handleMessage(t, request(Method.CreatePermission, [[Attr.XorPeerAddress, peer(addr)]], c), NOW));
    expect(a.code).toBe(ErrorCode.Forbidden);
    expect(core.table.find(t)!.permissionCount).toBe(0);
  });

  test.each(DENIED)('ChannelBind to %s: 403', (addr) => {
    const a = answer(core.handleMessage(t, request(Method.ChannelBind, [[Attr.ChannelNumber, new Uint8Array([0x40, 0, 0, 0])], [Attr.XorPeerAddress, peer(addr)]], c), NOW));
    expect(a.code).toBe(ErrorCode.Forbidden);
  });

  test('one denied peer among allowed ones installs none', () => {
    const a = answer(core.handleMessage(t, request(Method.CreatePermission, [[Attr.XorPeerAddress, peer('8.8.8.8')], [Attr.XorPeerAddress, peer('10.0.0.1')]], c), NOW));
    expect(a.code).toBe(403);
    expect(core.table.find(t)!.permissionCount).toBe(0);
  });

  test('a public peer: permission, channel, ChannelData both ways, Data indication without a channel', () => {
    expect(answer(core.handleMessage(t, request(Method.CreatePermission, [[Attr.XorPeerAddress, peer('8.8.8.8')]], c), NOW)).cls).toBe(Class.Success);
    const alloc = core.table.find(t)!;
    expect(core.fromPeer(alloc, '8.8.8.8', 5000, NOW)).toBeNull(); // permitted, no channel: Data indication
    expect(core.fromPeer(alloc, '8.8.4.4', 5000, NOW)).toBeUndefined(); // no permission: drop
    const di = decodeStun(core.dataIndication(alloc, '8.8.8.8', 5000, new Uint8Array([1, 2, 3])));
    expect(di.ok && di.value.method === Method.Data && di.value.cls === Class.Indication).toBe(true);

    expect(answer(core.handleMessage(t, request(Method.ChannelBind, [[Attr.ChannelNumber, new Uint8Array([0x40, 1, 0, 0])], [Attr.XorPeerAddress, peer('8.8.8.8')]], c), NOW)).cls).toBe(Class.Success);
    const ch = core.channelFromUdpClient(0, t.address, t.port, 0x4001, NOW);
    expect(ch && [ch.peerAddress, ch.peerPort]).toEqual(['8.8.8.8', 5000]);
    expect(core.fromPeer(alloc, '8.8.8.8', 5000, NOW)).toBe(ch);
    expect(core.channelFromUdpClient(0, t.address, t.port + 1, 0x4001, NOW)).toBeUndefined(); // other 5-tuple
    expect(core.channelFromUdpClient(0, t.address, t.port, 0x4002, NOW)).toBeUndefined(); // unbound channel
    // After the permission lapses (300 s) nothing flows, even on a live channel.
    expect(core.channelFromUdpClient(0, t.address, t.port, 0x4001, NOW + 301_000)).toBeUndefined();
    expect(core.fromPeer(alloc, '8.8.8.8', 5000, NOW + 301_000)).toBeUndefined();
  });

  test('ChannelBind rules: number range, one peer per channel, one channel per peer', () => {
    const bind = (n: number, addr: string, port = 5000) =>
      answer(core.handleMessage(t, request(Method.ChannelBind, [[Attr.ChannelNumber, new Uint8Array([n >> 8, n & 255, 0, 0])], [Attr.XorPeerAddress, peer(addr, port)]], c), NOW));
    expect(bind(0x3fff, '8.8.8.8').code).toBe(400);
    expect(bind(0x8000, '8.8.8.8').code).toBe(400);
    expect(bind(0x4000, '8.8.8.8').cls).toBe(Class.Success);
    expect(bind(0x4000, '8.8.8.8').cls).toBe(Class.Success); // refresh
    expect(bind(0x4000, '8.8.4.4').code).toBe(400);
    expect(bind(0x4001, '8.8.8.8').code).toBe(400);
    expect(bind(0x4001, '8.8.8.8', 5001).cls).toBe(Class.Success);
  });

  test('Send indication: relayed only with a permission', () => {
    const send = (addr: string) => {
      const id = txid();
      const w = new StunWriter(Method.Send, Class.Indication, id);
      w.add(Attr.XorPeerAddress, encodeXorAddress({ family: 4, address: addr, port: 9 }, id));
      w.add(Attr.Data, new Uint8Array([7]));
      return core.handleMessage(t, w.finish(), NOW);
    };
    expect(send('8.8.8.8')).toEqual([]);
    answer(core.handleMessage(t, request(Method.CreatePermission, [[Attr.XorPeerAddress, peer('8.8.8.8')]], c), NOW));
    expect(send('8.8.8.8').map((a) => a.kind)).toEqual(['to-peer']);
  });

  test('requests from another user on this allocation: 441', () => {
    const mallory = creds(3600, 'mallory');
    mallory.nonce = c.nonce;
    expect(answer(core.handleMessage(t, request(Method.Refresh, [], mallory), NOW)).code).toBe(441);
  });
});

describe('robustness', () => {
  test('random bytes never throw out of the core and never create state', () => {
    const core = makeCore();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        core.handleMessage(tuple(), bytes, NOW);
        core.handleMessage({ ...tuple(), transport: 'tcp', conn: 1 }, bytes, NOW, true);
      }),
      { numRuns: 3000 },
    );
    expect(core.table.size + core.pending.size).toBe(0);
  });

  test('mutations of valid requests never throw (STUN header kept, attributes garbled)', () => {
    const core = makeCore({ unauthBurst: 1e9, unauthRatePerSec: 1e9 });
    const c = creds();
    allocate(core, tuple(), c);
    const seeds = [
      request(Method.Allocate, [[Attr.RequestedTransport, UDP]], c),
      request(Method.CreatePermission, [[Attr.XorPeerAddress, peer('8.8.8.8')]], c),
      request(Method.ChannelBind, [[Attr.ChannelNumber, new Uint8Array([0x40, 0, 0, 0])], [Attr.XorPeerAddress, peer('8.8.8.8')]], c),
      request(Method.Refresh, [[Attr.Lifetime, new Uint8Array(4)]], c),
    ];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 8 }), fc.nat(200), (i, flips, cut) => {
        const b = seeds[i]!.slice();
        for (const [at, v] of flips) b[20 + (at % (b.length - 20))] = v;
        core.handleMessage(tuple(), b, NOW);
        core.handleMessage(tuple(), b.subarray(0, Math.max(0, b.length - cut)), NOW);
      }),
      { numRuns: 3000 },
    );
  });

  test('ChannelData bytes on the control path are ignored, not crashes', () => {
    const core = makeCore();
    expect(core.handleMessage(tuple(), encodeChannelData(0x4000, new Uint8Array(10)), NOW)).toEqual([]);
  });
});
