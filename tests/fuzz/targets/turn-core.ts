/**
 * The sans-IO TURN core (relay-server/src/turn/core.ts) fed from both sides:
 *
 *   turn-client-raw     arbitrary datagrams and stream frames from clients, as they come
 *                       (plus a spray of random source addresses for the rate-limit map);
 *   turn-client-signed  structurally mutated requests made authentic again after mutation
 *                       (fresh NONCE, MESSAGE-INTEGRITY and FINGERPRINT recomputed), so the
 *                       fuzzer reaches Allocate, Refresh, CreatePermission and ChannelBind;
 *   turn-peer           datagrams from peers to allocations (TurnCore.fromPeer, and the Data
 *                       indication or ChannelData the shell then builds);
 *   channel-data        ChannelData from clients over UDP and TCP, through the same checks
 *                       the shell makes (turn-shell.ts addUdp / stream-clients.ts accept sink).
 *
 * The oracles are in _turn-world.ts.
 */
import { Attr, Class, Method } from '../../../relay-server/src/stun/constants';
import { fingerprintOf, fingerprintOk } from '../../../relay-server/src/stun/fingerprint';
import { integrityWith } from '../../../relay-server/src/stun/integrity';
import { decodeStun, getAttr, StunWriter } from '../../../relay-server/src/stun/message';
import { decodeXorAddress, encodeXorAddress } from '../../../relay-server/src/stun/xor-address';
import type { Allocation, ClientTuple } from '../../../relay-server/src/turn/allocation';
import { encodeChannelData, isChannelData, isValidChannel } from '../../../relay-server/src/turn/channel-data';
import { StreamFramer } from '../../../relay-server/src/turn/stream-framer';
import { fromHex, invariant, Rng, type FuzzTarget } from '../engine';
import { genStun, mutateStunStructure, typicalRequests, type Signer } from './_stun-gen';
import { TurnWorld, udpTuple } from './_turn-world';
import { RFC5769 } from './stun';

const STUN_DICT = [
  fromHex('2112a442'),
  fromHex('00080014'),
  fromHex('80280004'),
  fromHex('00120008'),
  fromHex('00190004' + '11000000'),
  fromHex('000c0004' + '40010000'),
  fromHex('000d0004' + '00000000'),
  fromHex('0003'), // Allocate request type
  fromHex('0009'), // ChannelBind
  fromHex('0016'), // Send indication
];

function pickTuple(w: TurnWorld, rng: Rng, sprayChance: number): ClientTuple {
  if (rng.chance(sprayChance)) {
    // A spoofed source: the rate-limit map must stay bounded however many there are.
    return udpTuple(`${1 + rng.int(223)}.${rng.int(256)}.${rng.int(256)}.${rng.int(256)}`, 1024 + rng.int(60000));
  }
  return rng.pick(w.tuples);
}

export async function turnClientRawTarget(): Promise<FuzzTarget> {
  let w = new TurnWorld();
  const signed = typicalRequests(w.signer(w.tuples[0]!));
  let n = 0;
  return {
    name: 'turn-client-raw',
    about: 'TurnCore.handleMessage on arbitrary client bytes from many sources: never throws, answers decode and echo the request, no state without valid MESSAGE-INTEGRITY, rate-limit map bounded',
    seeds: [...typicalRequests(), ...signed, ...RFC5769],
    maxLen: 4096,
    dictionary: STUN_DICT,
    mutateStructured: mutateStunStructure,
    generate: (rng) => genStun(rng, rng.chance(0.3) ? w.signer(w.tuples[0]!, rng.pick(w.users)) : undefined),
    run(input, rng) {
      w.advance(rng);
      if (++n % 500 === 0) w.tick();
      return w.handle(pickTuple(w, rng, 0.1), input, rng);
    },
    check: () => w.check(),
    reset() {
      w = new TurnWorld();
    },
    resetEvery: 200_000,
  };
}

export async function turnClientSignedTarget(): Promise<FuzzTarget> {
  let w = new TurnWorld();
  const seeds: Uint8Array[] = [];
  for (const u of w.users) {
    for (const b of typicalRequests(w.signer(w.tuples[0]!, u))) {
      const d = decodeStun(b);
      if (d.ok && d.value.integrityAt >= 0) seeds.push(b);
    }
  }
  let n = 0;
  return {
    name: 'turn-client-signed',
    about: 'TurnCore.handleMessage on mutated requests re-signed after mutation (fresh NONCE, valid MESSAGE-INTEGRITY and FINGERPRINT): reaches every TURN handler; same oracles, plus quotas per user and in total',
    seeds,
    maxLen: 4096,
    dictionary: STUN_DICT,
    mutateStructured: mutateStunStructure,
    generate: (rng) => genStun(rng, w.signer(w.tuples[0]!, rng.pick(w.users))),
    run(input, rng) {
      w.advance(rng);
      if (++n % 500 === 0) w.tick();
      const t = pickTuple(w, rng, 0.02);
      // Now and then the mutated bytes go out unsigned: a forged or broken MI must never pass.
      return w.handle(t, rng.chance(0.9) ? w.resign(t, input) : input, rng);
    },
    check: () => w.check(),
    reset() {
      w = new TurnWorld();
    },
    resetEvery: 200_000,
  };
}

// ───────────────────────── allocations with peers ─────────────────────────

const PEER = { family: 4 as const, address: '198.51.100.7', port: 5000 };
const PEER2 = { family: 4 as const, address: '203.0.113.9', port: 6000 };
const CHANNEL = 0x4001;

/** A world with `count` allocations, each permitted to PEER and PEER2 and with CHANNEL bound to PEER. */
function worldWithAllocations(count: number, rng: Rng): { w: TurnWorld; allocations: Allocation<number>[] } {
  const w = new TurnWorld({ totalQuota: 64, userQuota: 64 });
  const allocations: Allocation<number>[] = [];
  const send = (t: ClientTuple, method: number, attrs: Array<[number, (tid: Uint8Array) => Uint8Array]>) => {
    const tid = rng.bytes(12);
    const s = w.signer(t);
    const bytes = genSigned(method, tid, attrs.map(([a, f]) => [a, f(tid)] as [number, Uint8Array]), s);
    const out = w.handle(t, bytes, rng);
    invariant(!out.includes('→ 4') && !out.includes('→ 5'), `setup request failed: ${out}`);
  };
  for (let i = 0; i < count; i++) {
    const t = i % 2 === 0 ? w.tuples[i]! : w.tuples.find((x) => x.transport !== 'udp' && !allocations.some((a) => a.tuple === x))!;
    const tid = rng.bytes(12);
    const acts = w.core.handleMessage(t, genSigned(Method.Allocate, tid, [[Attr.RequestedTransport, new Uint8Array([17, 0, 0, 0])]], w.signer(t)), w.now);
    const bind = acts.find((a) => a.kind === 'bind-relay');
    invariant(bind && bind.kind === 'bind-relay', 'setup Allocate did not ask for a relay socket');
    w.bind(bind.request, true);
    send(t, Method.CreatePermission, [[Attr.XorPeerAddress, (id) => encodeXorAddress(PEER2, id)]]);
    send(t, Method.ChannelBind, [
      [Attr.ChannelNumber, () => new Uint8Array([CHANNEL >> 8, CHANNEL & 0xff, 0, 0])],
      [Attr.XorPeerAddress, (id) => encodeXorAddress(PEER, id)],
    ]);
    allocations.push(w.core.table.find(t)!);
  }
  return { w, allocations };
}

function genSigned(method: number, tid: Uint8Array, attrs: Array<[number, Uint8Array]>, s: Signer): Uint8Array {
  const w = new StunWriter(method, Class.Request, tid);
  for (const [t, v] of attrs) w.add(t, v);
  w.add(Attr.Username, new TextEncoder().encode(s.username));
  w.add(Attr.Realm, new TextEncoder().encode(s.realm));
  w.add(Attr.Nonce, new TextEncoder().encode(s.nonce));
  return w.finish({ integrity: integrityWith(s.key), fingerprint: fingerprintOf });
}

/** Peer addresses as a relay socket may report them: the permitted ones, near misses, other spellings. */
const PEER_SOURCES = ['198.51.100.7', '203.0.113.9', '198.51.100.70', '198.51.100.8', '::ffff:198.51.100.7', '2001:db8::7', '203.0.113.90', '0.0.0.0', '127.0.0.1'];

export async function turnPeerTarget(): Promise<FuzzTarget> {
  const setupRng = new Rng(3);
  let world = worldWithAllocations(6, setupRng);
  return {
    name: 'turn-peer',
    about: 'TurnCore.fromPeer + the Data indication / ChannelData the shell builds, for arbitrary peer datagrams and source addresses: only permitted peers pass, the channel is used exactly for its bound peer, framing round-trips',
    // byte 0: allocation, byte 1: source address, bytes 2-3: source port, rest: payload
    seeds: [fromHex('0000' + '1388' + '68656c6c6f'), fromHex('0101' + '1770' + '00'), fromHex('0202' + '1388')],
    maxLen: 1500,
    generate(rng) {
      // Now and then a payload near the largest UDP datagram.
      const len = rng.chance(0.02) ? 65000 + rng.int(508) : rng.int(200);
      const b = new Uint8Array(4 + len);
      b[0] = rng.int(256);
      b[1] = rng.int(256);
      b[2] = rng.int(256);
      b[3] = rng.int(256);
      return b;
    },
    run(input, rng) {
      const w = world.w;
      w.advance(rng);
      if (input.length < 4) return 'short';
      const a = world.allocations[input[0]! % world.allocations.length]!;
      const sel = input[1]!;
      const address = sel < 200 ? PEER_SOURCES[sel % PEER_SOURCES.length]! : `${input[1]}.${input[2]}.${input[3]}.${sel & 7}`;
      const port = (input[2]! << 8) | input[3]!;
      const payload = input.subarray(4);
      const permitted = (address === PEER.address || address === PEER2.address) && a.hasPermission(address, w.now);
      const ch = w.core.fromPeer(a, address, port, w.now);
      if (!permitted) {
        invariant(ch === undefined, 'a datagram from a peer without permission was let through');
        return 'dropped';
      }
      if (ch) {
        invariant(address === PEER.address && port === PEER.port && ch.number === CHANNEL && ch.allocation === a, 'channel used for a peer it is not bound to');
        const cd = encodeChannelData(ch.number, payload, a.tuple.transport !== 'udp');
        invariant(isChannelData(cd) && ((cd[2]! << 8) | cd[3]!) === payload.length, 'ChannelData framing');
        return 'channel';
      }
      invariant(ch === null, 'fromPeer returned something else');
      invariant(!(address === PEER.address && port === PEER.port && a.channel(CHANNEL)!.expiresAt > w.now), 'bound channel not used');
      const ind = w.core.dataIndication(a, address, port, payload);
      const d = decodeStun(ind);
      invariant(d.ok, 'Data indication does not decode');
      const m = d.value;
      invariant(m.method === Method.Data && m.cls === Class.Indication && fingerprintOk(m), 'Data indication header/fingerprint');
      const pa = getAttr(m, Attr.XorPeerAddress)!;
      const x = decodeXorAddress(ind.subarray(pa.offset, pa.offset + pa.length), m.transactionId);
      invariant(x.ok && x.value.address === address && x.value.port === port, 'XOR-PEER-ADDRESS does not round-trip');
      const da = getAttr(m, Attr.Data)!;
      invariant(da.length === payload.length && ind.subarray(da.offset, da.offset + da.length).every((b, i) => b === payload[i]), 'DATA does not round-trip');
      return payload.length > 4096 ? 'indication-large' : 'indication';
    },
    check: () => world.w.check(),
    reset() {
      world = worldWithAllocations(6, setupRng);
    },
    // Permissions last 300 s, channels 600 s: start over before the clock expires them all.
    resetEvery: 50_000,
  };
}

export async function channelDataTarget(): Promise<FuzzTarget> {
  const setupRng = new Rng(5);
  let world = worldWithAllocations(4, setupRng);
  const framers = new Map<number, StreamFramer>();
  const MAX = 4096;
  return {
    name: 'channel-data',
    about: 'ChannelData from clients over UDP (the shell\'s size, channel and length checks) and TCP (after the stream framer): only a bound, permitted channel of the sender\'s own allocation forwards, and exactly the declared payload',
    seeds: [encodeChannelData(CHANNEL, fromHex('68656c6c6f')), encodeChannelData(CHANNEL, new Uint8Array(3), true), encodeChannelData(0x4000, new Uint8Array(0)), fromHex('4001ffff00')],
    maxLen: 4200,
    dictionary: [fromHex('4001'), fromHex('4000'), fromHex('7fff'), fromHex('ffff'), fromHex('0000')],
    run(input, rng) {
      const w = world.w;
      w.advance(rng);
      const a = rng.pick(world.allocations);
      const t = rng.chance(0.9) ? a.tuple : rng.pick(w.tuples);
      const own = w.core.table.find(t);
      const expectOk = (number: number) => {
        const c = own?.channel(number);
        return own !== undefined && c !== undefined && c.expiresAt > w.now && own.hasPermission(c.peerAddress, w.now);
      };
      if (t.transport === 'udp') {
        // turn-shell.ts addUdp, line for line.
        if (input.length > MAX || input.length < 4) return 'udp:size';
        if ((input[0]! & 0xc0) !== 0x40) return 'udp:not-channel';
        const number = (input[0]! << 8) | input[1]!;
        const ch = w.core.channelFromUdpClient(t.listener, t.address, t.port, number, w.now);
        const len = (input[2]! << 8) | input[3]!;
        invariant((ch !== undefined) === expectOk(number), 'channel lookup disagrees with the allocation');
        if (ch === undefined) return 'udp:no-channel';
        invariant(ch.number === number && ch.allocation === own && isValidChannel(number), 'forwarded on another allocation or channel');
        if (len + 4 > input.length) return 'udp:short';
        invariant(input.subarray(4, 4 + len).length === len, 'payload length');
        return 'udp:forwarded';
      }
      // Streams: the framer (one per connection, garbage closes it) then stream-clients.ts accept's sink.
      let f = framers.get(t.conn);
      if (!f) framers.set(t.conn, (f = new StreamFramer(MAX)));
      const outs: string[] = [];
      const ok = f.push(input, (frame, isChannel) => {
        if (!isChannel) return void outs.push('stun');
        const number = (frame[0]! << 8) | frame[1]!;
        const ch = w.core.channelFromStreamClient(t.conn, number, w.now);
        invariant((ch !== undefined) === expectOk(number), 'stream channel lookup disagrees with the allocation');
        invariant(frame.length === 4 + ((frame[2]! << 8) | frame[3]!), 'stream frame length is not its declared length');
        outs.push(ch ? 'forwarded' : 'no-channel');
      });
      if (!ok) framers.delete(t.conn);
      if (framers.size > 64) framers.clear();
      return `stream:${ok ? 'open' : 'closed'}:${[...new Set(outs)].join('+')}`;
    },
    check: () => world.w.check(),
    reset() {
      world = worldWithAllocations(4, setupRng);
      framers.clear();
    },
    resetEvery: 50_000,
  };
}
