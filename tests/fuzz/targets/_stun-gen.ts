/**
 * Structured STUN/TURN message generator for the fuzz targets: a random
 * method, class and attribute list drawn from the ones RFC 8489/8656 define
 * (with valid, boundary and malformed values), optionally signed with
 * long-term credentials and a FINGERPRINT, so mutations start from inputs
 * that get past the header checks into the handlers.
 */
import { Attr, Class, Method, type StunClass } from '../../../relay-server/src/stun/constants';
import { fingerprintOf } from '../../../relay-server/src/stun/fingerprint';
import { integrityWith } from '../../../relay-server/src/stun/integrity';
import { StunWriter } from '../../../relay-server/src/stun/message';
import { encodeXorAddress } from '../../../relay-server/src/stun/xor-address';
import { enc, type Rng } from '../engine';

const METHODS = [Method.Binding, Method.Allocate, Method.Refresh, Method.Send, Method.Data, Method.CreatePermission, Method.ChannelBind];
const CLASSES: StunClass[] = [Class.Request, Class.Request, Class.Request, Class.Indication, Class.Success, Class.Error];

/** Peer addresses: public ones (allowed), denied ranges in every spelling, and edge forms. */
export const PEERS_V4 = ['198.51.100.7', '203.0.113.9', '8.8.8.8', '127.0.0.1', '0.0.0.0', '10.1.2.3', '169.254.169.254', '100.64.0.1', '255.255.255.255', '224.0.0.1'];
export const PEERS_V6 = ['2001:db8::1', '2606:4700::1111', '::1', '::', '::ffff:127.0.0.1', '64:ff9b::7f00:1', 'fe80::1', '2002:7f00:1::', 'ff02::1', '::ffff:8.8.8.8'];

function u32(v: number): Uint8Array {
  return new Uint8Array([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
}

export function randomPeer(rng: Rng): { family: 4 | 6; address: string; port: number } {
  const port = rng.chance(0.2) ? rng.pick([0, 1, 3478, 65535]) : 1024 + rng.int(60000);
  if (rng.chance(0.3)) return { family: 6, address: rng.pick(PEERS_V6), port };
  if (rng.chance(0.6)) return { family: 4, address: rng.pick(PEERS_V4), port };
  return { family: 4, address: `${1 + rng.int(223)}.${rng.int(256)}.${rng.int(256)}.${rng.int(256)}`, port };
}

export function randomAttribute(rng: Rng, tid: Uint8Array): [number, Uint8Array] {
  switch (rng.int(16)) {
    case 0:
      return [Attr.RequestedTransport, rng.chance(0.8) ? new Uint8Array([rng.chance(0.8) ? 17 : 6, 0, 0, 0]) : rng.bytes(rng.int(8))];
    case 1:
      return [Attr.Lifetime, rng.chance(0.9) ? u32(rng.pick([0, 1, 600, 3600, 0xffffffff, rng.u32()])) : rng.bytes(rng.int(8))];
    case 2:
    case 3:
      return [Attr.XorPeerAddress, rng.chance(0.9) ? encodeXorAddress(randomPeer(rng), tid) : rng.bytes(rng.int(24))];
    case 4: {
      const n = rng.pick([0x4000, 0x4001, 0x4fff, 0x5000, 0x7fff, 0x8000, 0x3fff, 0, rng.int(0x10000)]);
      return [Attr.ChannelNumber, rng.chance(0.9) ? new Uint8Array([n >> 8, n & 0xff, 0, 0]) : rng.bytes(rng.int(8))];
    }
    case 5:
      return [Attr.Data, rng.bytes(rng.int(rng.chance(0.9) ? 64 : 1200))];
    case 6:
      return [Attr.EvenPort, rng.chance(0.8) ? new Uint8Array([rng.chance(0.5) ? 0x80 : 0]) : rng.bytes(rng.int(4))];
    case 7:
      return [Attr.ReservationToken, rng.bytes(rng.chance(0.8) ? 8 : rng.int(12))];
    case 8:
      return [Attr.RequestedAddressFamily, new Uint8Array([rng.pick([1, 2, 3, 0]), 0, 0, 0])];
    case 9:
      return [Attr.DontFragment, new Uint8Array(0)];
    case 10:
      return [Attr.Software, enc('fuzz 1.0')];
    case 11:
      return [rng.int(0x8000), rng.bytes(rng.int(12))]; // comprehension-required, mostly unknown
    case 12:
      return [0x8000 + rng.int(0x8000), rng.bytes(rng.int(12))]; // comprehension-optional
    case 13:
      return [Attr.Userhash, rng.bytes(32)];
    case 14:
      return [rng.pick([Attr.Username, Attr.Realm, Attr.Nonce]), rng.chance(0.5) ? enc('x'.repeat(rng.int(800))) : rng.bytes(rng.int(40))];
    default:
      return [Attr.XorMappedAddress, encodeXorAddress(randomPeer(rng), tid)];
  }
}

export interface Signer {
  username: string;
  realm: string;
  nonce: string;
  key: Uint8Array;
}

/** A random STUN message; with `signer`, a long-term-authenticated request. */
export function genStun(rng: Rng, signer?: Signer): Uint8Array {
  const method = rng.chance(0.95) ? rng.pick(METHODS) : rng.int(0x1000);
  const cls = signer ? Class.Request : rng.pick(CLASSES);
  const tid = rng.bytes(12);
  const w = new StunWriter(method, cls, tid);
  const n = rng.int(6);
  for (let i = 0; i < n; i++) {
    const [t, v] = randomAttribute(rng, tid);
    w.add(t, v);
  }
  if (signer) {
    w.add(Attr.Username, enc(signer.username));
    w.add(Attr.Realm, enc(signer.realm));
    w.add(Attr.Nonce, enc(signer.nonce));
  }
  const integrity = signer ? integrityWith(signer.key) : rng.chance(0.2) ? integrityWith(rng.bytes(16)) : undefined;
  return w.finish({ integrity, fingerprint: rng.chance(0.7) ? fingerprintOf : undefined });
}

/** A few hand-written requests every TURN client sends (what coturn's uclient and Chromium do first). */
export function typicalRequests(signer?: Signer): Uint8Array[] {
  const tid = (n: number) => new Uint8Array(12).fill(n);
  const make = (method: number, cls: StunClass, id: Uint8Array, attrs: Array<[number, Uint8Array]>, sign = true) => {
    const w = new StunWriter(method, cls, id);
    for (const [t, v] of attrs) w.add(t, v);
    if (signer && sign) {
      w.add(Attr.Username, enc(signer.username));
      w.add(Attr.Realm, enc(signer.realm));
      w.add(Attr.Nonce, enc(signer.nonce));
    }
    return w.finish({ integrity: signer && sign ? integrityWith(signer.key) : undefined, fingerprint: fingerprintOf });
  };
  const peer = { family: 4 as const, address: '198.51.100.7', port: 5000 };
  return [
    make(Method.Binding, Class.Request, tid(1), [], false),
    make(Method.Binding, Class.Indication, tid(2), [], false),
    make(Method.Allocate, Class.Request, tid(3), [[Attr.RequestedTransport, new Uint8Array([17, 0, 0, 0])]], false),
    make(Method.Allocate, Class.Request, tid(4), [[Attr.RequestedTransport, new Uint8Array([17, 0, 0, 0])], [Attr.Lifetime, u32(600)]]),
    make(Method.Allocate, Class.Request, tid(5), [[Attr.RequestedTransport, new Uint8Array([17, 0, 0, 0])], [Attr.EvenPort, new Uint8Array([0x80])]]),
    make(Method.CreatePermission, Class.Request, tid(6), [[Attr.XorPeerAddress, encodeXorAddress(peer, tid(6))]]),
    make(Method.ChannelBind, Class.Request, tid(7), [[Attr.ChannelNumber, new Uint8Array([0x40, 0x01, 0, 0])], [Attr.XorPeerAddress, encodeXorAddress(peer, tid(7))]]),
    make(Method.Refresh, Class.Request, tid(8), [[Attr.Lifetime, u32(600)]]),
    make(Method.Refresh, Class.Request, tid(9), [[Attr.Lifetime, u32(0)]]),
    make(Method.Send, Class.Indication, tid(10), [[Attr.XorPeerAddress, encodeXorAddress(peer, tid(10))], [Attr.Data, enc('hello peer')]], false),
  ];
}

// ─────────────────────── structure-aware mutation ───────────────────────

interface Tlv {
  type: number;
  value: Uint8Array;
  /** Non-zero padding bytes to write (tests that padding is ignored). */
  pad?: number;
}

/** Walk TLVs leniently (as far as they go), whatever the header says. */
function splitTlvs(b: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  let at = 20;
  while (at + 4 <= b.length && out.length < 200) {
    const type = (b[at]! << 8) | b[at + 1]!;
    const len = (b[at + 2]! << 8) | b[at + 3]!;
    const value = b.subarray(at + 4, Math.min(b.length, at + 4 + len));
    out.push({ type, value });
    at += 4 + ((len + 3) & ~3);
  }
  return out;
}

function joinTlvs(header: Uint8Array, tlvs: Tlv[]): Uint8Array {
  let len = 0;
  for (const t of tlvs) len += 4 + ((t.value.length + 3) & ~3);
  const out = new Uint8Array(20 + len);
  out.set(header.subarray(0, 20));
  out[2] = (len >> 8) & 0xff;
  out[3] = len & 0xff;
  let at = 20;
  for (const t of tlvs) {
    out[at] = t.type >> 8;
    out[at + 1] = t.type & 0xff;
    out[at + 2] = t.value.length >> 8;
    out[at + 3] = t.value.length & 0xff;
    out.set(t.value, at + 4);
    const padded = (t.value.length + 3) & ~3;
    if (t.pad !== undefined) out.fill(t.pad, at + 4 + t.value.length, at + 4 + padded);
    at += 4 + padded;
  }
  return out;
}

/**
 * Mutate a STUN message at the attribute level and write it back with
 * correct lengths: drop, duplicate, swap, retype or revalue attributes,
 * insert new ones, move MESSAGE-INTEGRITY/FINGERPRINT, change method/class.
 * Most results still decode, so the handlers behind the decoder get fuzzed.
 */
export function mutateStunStructure(input: Uint8Array, rng: Rng, other: () => Uint8Array): Uint8Array {
  if (input.length < 20) return input;
  const header = input.slice(0, 20);
  const tid = header.subarray(8, 20);
  const tlvs = splitTlvs(input);
  const ops = 1 + rng.int(3);
  for (let k = 0; k < ops; k++) {
    const i = rng.int(tlvs.length);
    switch (rng.int(11)) {
      case 0:
        if (tlvs.length) tlvs.splice(i, 1);
        break;
      case 1:
        if (tlvs.length) tlvs.splice(rng.int(tlvs.length + 1), 0, { ...tlvs[i]! });
        break;
      case 2: {
        const j = rng.int(tlvs.length);
        if (tlvs.length > 1) [tlvs[i], tlvs[j]] = [tlvs[j]!, tlvs[i]!];
        break;
      }
      case 3:
        if (tlvs.length) tlvs[i] = { ...tlvs[i]!, type: rng.chance(0.5) ? rng.pick(Object.values(Attr)) : rng.int(0x10000) };
        break;
      case 4:
        if (tlvs.length) tlvs[i] = { ...tlvs[i]!, value: rng.bytes(rng.chance(0.8) ? tlvs[i]!.value.length : rng.int(40)) };
        break;
      case 5:
      case 6:
        tlvs.splice(rng.int(tlvs.length + 1), 0, (([type, value]) => ({ type, value }))(randomAttribute(rng, tid)));
        break;
      case 7: {
        // An attribute from another message of the corpus.
        const o = splitTlvs(other());
        if (o.length) tlvs.splice(rng.int(tlvs.length + 1), 0, { ...rng.pick(o) });
        break;
      }
      case 8: {
        // Move MESSAGE-INTEGRITY or FINGERPRINT somewhere else.
        const m = tlvs.findIndex((t) => t.type === (rng.chance(0.5) ? Attr.MessageIntegrity : Attr.Fingerprint));
        if (m >= 0) tlvs.splice(rng.int(tlvs.length), 0, tlvs.splice(m, 1)[0]!);
        break;
      }
      case 9: {
        // Method and class bits.
        const type = rng.chance(0.5) ? rng.pick([0x0001, 0x0003, 0x0004, 0x0008, 0x0009, 0x0016, 0x0017, 0x0111, 0x0103]) : rng.int(0x4000);
        header[0] = type >> 8;
        header[1] = type & 0xff;
        break;
      }
      default:
        if (tlvs.length) tlvs[i] = { ...tlvs[i]!, pad: 1 + rng.int(255) };
    }
  }
  return joinTlvs(header, tlvs);
}
