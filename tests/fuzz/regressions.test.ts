/**
 * Fuzz findings that need state to reproduce (a single input replayed on a
 * fresh target would not show them), rebuilt step by step. Each names the
 * entry in tests/fuzz/crashes/ it belongs to.
 */
import { describe, expect, test } from 'vitest';
import { Attr, Method } from '../../relay-server/src/stun/constants';
import { Rng } from './engine';
import { typicalRequests } from './targets/_stun-gen';
import { TurnWorld } from './targets/_turn-world';
import { decodeStun, StunWriter } from '../../relay-server/src/stun/message';
import { Class } from '../../relay-server/src/stun/constants';
import { encodeXorAddress } from '../../relay-server/src/stun/xor-address';
import { integrityWith } from '../../relay-server/src/stun/integrity';
import { fingerprintOf } from '../../relay-server/src/stun/fingerprint';
import { MAX_CHANNELS, MAX_PERMISSIONS } from '../../relay-server/src/turn/allocation';
import type { ClientTuple } from '../../relay-server/src/turn/allocation';

/** A signed request from `t` with XOR attributes built for its transaction id. */
function signed(w: TurnWorld, t: ClientTuple, rng: Rng, method: number, attrs: Array<[number, (tid: Uint8Array) => Uint8Array]>): Uint8Array {
  const s = w.signer(t);
  const tid = rng.bytes(12);
  const sw = new StunWriter(method, Class.Request, tid);
  for (const [a, v] of attrs) sw.add(a, v(tid));
  sw.add(Attr.Username, new TextEncoder().encode(s.username));
  sw.add(Attr.Realm, new TextEncoder().encode(s.realm));
  sw.add(Attr.Nonce, new TextEncoder().encode(s.nonce));
  return sw.finish({ integrity: integrityWith(s.key), fingerprint: fingerprintOf });
}

const ip = (i: number) => `11.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const peers = (from: number, n: number): Array<[number, (tid: Uint8Array) => Uint8Array]> =>
  Array.from({ length: n }, (_, k) => [Attr.XorPeerAddress, (tid: Uint8Array) => encodeXorAddress({ family: 4, address: ip(from + k), port: 5000 }, tid)]);

describe('fuzz regressions', () => {
  test('turn-client-signed: an Allocate with the transaction id of the one that made the allocation, but another username, is 437, not the cached answer', () => {
    const w = new TurnWorld();
    const rng = new Rng(1);
    const t = w.tuples[0]!;
    // typicalRequests() uses fixed transaction ids: bob's and alice's Allocate share one.
    const allocate = (user: string) =>
      typicalRequests(w.signer(t, user)).find((b) => {
        const d = decodeStun(b);
        return d.ok && d.value.method === Method.Allocate && d.value.integrityAt >= 0 && d.value.attributes.length === 5 && d.value.attributes[1]!.type === Attr.Lifetime;
      })!;
    const bob = w.users[1]!;
    const alice = w.users[0]!;
    expect(w.handle(t, allocate(bob), rng)).toMatch(/bind:success|bind:parked|bind:508/);
    if (!w.core.table.find(t)) w.bind([...w.core.pending.values()][0]!, true);
    expect(w.core.table.find(t)?.username).toBe(bob);
    // Bob's retransmission still gets the cached success.
    expect(w.handle(t, allocate(bob), rng)).toBe('Allocate/req+mi → success');
    // Alice's request with the same transaction id: before the fix, bob's cached answer (MI under bob's key).
    expect(w.handle(t, allocate(alice), rng)).toBe('Allocate/req+mi → 437');
  });

  test('memory: an authenticated client cannot install peers without bound (CreatePermission with ~300 peers per request grew the heap by 82 bytes per peer)', () => {
    const w = new TurnWorld();
    const rng = new Rng(2);
    const t = w.tuples[0]!;
    expect(w.handle(t, signed(w, t, rng, Method.Allocate, [[Attr.RequestedTransport, () => new Uint8Array([17, 0, 0, 0])]]), rng)).toMatch(/bind:/);
    if (!w.core.table.find(t)) w.bind([...w.core.pending.values()][0]!, true);
    const a = w.core.table.find(t)!;
    expect(w.handle(t, signed(w, t, rng, Method.CreatePermission, peers(0, 200)), rng)).toBe('CreatePermission/req+mi → success');
    // Past the bound: 508 and nothing installed (all or nothing).
    expect(w.handle(t, signed(w, t, rng, Method.CreatePermission, peers(200, MAX_PERMISSIONS - 199)), rng)).toBe('CreatePermission/req+mi → 508');
    expect(a.permissionCount).toBe(200);
    // Refreshing peers already permitted is always fine.
    expect(w.handle(t, signed(w, t, rng, Method.CreatePermission, peers(0, 200)), rng)).toBe('CreatePermission/req+mi → success');
    expect(w.handle(t, signed(w, t, rng, Method.CreatePermission, peers(200, MAX_PERMISSIONS - 200)), rng)).toBe('CreatePermission/req+mi → success');
    expect(a.permissionCount).toBe(MAX_PERMISSIONS);
    // Channels: to one permitted peer IP, many ports: bounded too.
    const bind = (n: number) =>
      w.handle(t, signed(w, t, rng, Method.ChannelBind, [
        [Attr.ChannelNumber, () => new Uint8Array([(0x4000 + n) >> 8, (0x4000 + n) & 0xff, 0, 0])],
        [Attr.XorPeerAddress, (tid) => encodeXorAddress({ family: 4, address: ip(0), port: 1000 + n }, tid)],
      ]), rng);
    for (let n = 0; n < MAX_CHANNELS; n++) expect(bind(n)).toBe('ChannelBind/req+mi → success');
    expect(bind(MAX_CHANNELS)).toBe('ChannelBind/req+mi → 508');
    expect(a.channelCount).toBe(MAX_CHANNELS);
    // A channel to a new peer IP when the permissions are full: 508 as well.
    expect(
      w.handle(t, signed(w, t, rng, Method.ChannelBind, [
        [Attr.ChannelNumber, () => new Uint8Array([0x40, 0x01, 0, 0])],
        [Attr.XorPeerAddress, (tid) => encodeXorAddress({ family: 4, address: ip(9999), port: 1 }, tid)],
      ]), rng),
    ).toMatch(/→ (508|400)/);
  });

  test('flood from more sources than the rate-limit map holds: unauthenticated answers stay bounded in total', () => {
    // Per source: 1/s, burst 2, in a map of 10 sources; so in total: 100/s, burst 200.
    const w = new TurnWorld({ unauthRatePerSec: 1, unauthBurst: 2, unauthSources: 10 });
    const rng = new Rng(3);
    const allocate = typicalRequests()[2]!; // unauthenticated Allocate: each answer would be a 401
    let answered = 0;
    for (let i = 0; i < 5000; i++) {
      const out = w.handle({ transport: 'udp', listener: 0, conn: 0, family: 4, address: `11.0.${i >> 8}.${i & 255}`, port: 5000 }, allocate, rng);
      if (out.endsWith('401')) answered++;
    }
    // Before the total bound, every new source got a fresh bucket: 5000 answers.
    expect(answered).toBe(200);
    w.now += 1000;
    let later = 0;
    for (let i = 0; i < 500; i++) if (w.handle({ transport: 'udp', listener: 0, conn: 0, family: 4, address: `12.0.${i >> 8}.${i & 255}`, port: 5000 }, allocate, rng).endsWith('401')) later++;
    expect(later).toBe(100);
  });
});
