/**
 * The TURN core under the operator's two live changes: a shared secret
 * rotated (several valid at once, the first signing), and draining before a
 * shutdown (no new allocations, live ones keep working).
 */
import { describe, expect, test } from 'vitest';
import { Attr, Class, Method } from '../stun/constants';
import { decodeErrorCode } from '../stun/error-code';
import { fingerprintOf } from '../stun/fingerprint';
import { integrityWith, longTermKey } from '../stun/integrity';
import { attrValue, decodeStun, getAttr, StunWriter, type StunMessage } from '../stun/message';
import { utf8 } from '../stun/text-attrs';
import type { ClientTuple } from './allocation';
import type { RelayRequest, TurnAction } from './actions';
import { turnPassword } from './credentials';
import { TurnCore } from './core';

const NOW = 1_800_000_000_000;
const OLD = 'old-secret-1234';
const NEW = 'new-secret-5678';
const UDP = new Uint8Array([17, 0, 0, 0]);

const tuple = (port: number): ClientTuple => ({ transport: 'udp', listener: 0, conn: 0, family: 4, address: '198.51.100.7', port });
let tid = 0;
const txid = () => {
  const b = new Uint8Array(12);
  new DataView(b.buffer).setUint32(8, ++tid);
  return b;
};

interface Creds {
  username: string;
  password: string;
  nonce?: string;
}
const creds = (secret: string, id: string): Creds => {
  const username = `${Math.floor(NOW / 1000) + 3600}:${id}`;
  return { username, password: turnPassword(secret, username) };
};

function request(method: number, attrs: Array<[number, Uint8Array]>, c?: Creds): Uint8Array {
  const w = new StunWriter(method, Class.Request, txid());
  for (const [t, v] of attrs) w.add(t, v);
  if (c?.nonce) {
    w.add(Attr.Username, utf8(c.username));
    w.add(Attr.Realm, utf8('hush'));
    w.add(Attr.Nonce, utf8(c.nonce));
  }
  const key = c?.nonce ? longTermKey(c.username, 'hush', c.password) : undefined;
  return w.finish({ integrity: key ? integrityWith(key) : undefined, fingerprint: fingerprintOf });
}

function answer(actions: TurnAction[]): { msg: StunMessage; code?: number } {
  const sends = actions.filter((a) => a.kind === 'send');
  expect(sends.length).toBe(1);
  const d = decodeStun((sends[0] as { bytes: Uint8Array }).bytes);
  if (!d.ok) throw new Error(d.message);
  const ec = getAttr(d.value, Attr.ErrorCode);
  return { msg: d.value, code: ec ? decodeErrorCode(attrValue(d.value, ec))?.code : undefined };
}

/** Challenge + authenticated Allocate (+ the shell's bind): the final answer's error code, or undefined on success. */
function allocate(core: TurnCore<string>, t: ClientTuple, c: Creds): number | undefined {
  const ch = answer(core.handleMessage(t, request(Method.Allocate, [[Attr.RequestedTransport, UDP]]), NOW));
  const n = getAttr(ch.msg, Attr.Nonce)!;
  c.nonce = Buffer.from(attrValue(ch.msg, n)).toString();
  const acts = core.handleMessage(t, request(Method.Allocate, [[Attr.RequestedTransport, UDP]], c), NOW);
  const bind = acts.find((a) => a.kind === 'bind-relay') as { request: RelayRequest } | undefined;
  if (!bind) return answer(acts).code;
  return answer(core.relayBound(bind.request, { ok: true, relayed: { family: 4, address: '203.0.113.1', port: 50000 + t.port }, io: 'io' }, NOW)).code;
}

const refresh = (core: TurnCore<string>, t: ClientTuple, c: Creds) =>
  answer(core.handleMessage(t, request(Method.Refresh, [[Attr.Lifetime, new Uint8Array([0, 0, 2, 88])]], c), NOW + 1000)).code;

describe('secret rotation', () => {
  test('every listed secret is accepted; the counters tell failures from challenges', () => {
    const core = new TurnCore<string>({ realm: 'hush', authSecret: NEW, authSecrets: [NEW, OLD] });
    expect(allocate(core, tuple(1), creds(NEW, 'a'))).toBeUndefined();
    expect(allocate(core, tuple(2), creds(OLD, 'b'))).toBeUndefined();
    expect(allocate(core, tuple(3), creds('some-other-secret', 'c'))).toBe(401);
    expect(core.counters.authFailed).toBe(1);
    expect(core.counters.rejectedUnauthenticated).toBe(4); // three challenges + one failure
  });

  test('a secret dropped from the list: no new allocation with it, but its live allocation keeps refreshing', () => {
    const core = new TurnCore<string>({ realm: 'hush', authSecret: OLD });
    const live = creds(OLD, 'live');
    expect(allocate(core, tuple(1), live)).toBeUndefined();
    core.setSecrets([NEW]);
    expect(refresh(core, tuple(1), live)).toBeUndefined();
    expect(allocate(core, tuple(2), creds(OLD, 'late'))).toBe(401);
    expect(allocate(core, tuple(3), creds(NEW, 'fresh'))).toBeUndefined();
    expect(core.table.size).toBe(2);
  });
});

describe('draining', () => {
  test('a new Allocate gets 508 (counted); a live allocation still refreshes', () => {
    const core = new TurnCore<string>({ realm: 'hush', authSecret: NEW });
    const live = creds(NEW, 'live');
    expect(allocate(core, tuple(1), live)).toBeUndefined();
    core.draining = true;
    expect(allocate(core, tuple(2), creds(NEW, 'new'))).toBe(508);
    expect(core.counters.drainRefused).toBe(1);
    expect(refresh(core, tuple(1), live)).toBeUndefined();
  });

  test('an allocation with only connectivity checks is released after two quiet seconds (its call moved); one with voice stays', () => {
    const core = new TurnCore<string>({ realm: 'hush', authSecret: NEW });
    expect(allocate(core, tuple(1), creds(NEW, 'moved'))).toBeUndefined();
    expect(allocate(core, tuple(2), creds(NEW, 'live'))).toBeUndefined();
    const [moved, live] = [...core.table.all()];
    core.draining = true;
    for (let t = 0; t <= 25; t++) {
      live!.relayedCount += 100; // voice: 50 packets a second each way
      moved!.relayedCount += 2; // the old pair's checks
      const released = core.tick(NOW + t * 1000).filter((a) => a.kind === 'release-relay');
      // t=0 takes the first count; t=1 and t=2 are the two quiet seconds in a row.
      expect(released.length, `second ${t}`).toBe(t === 2 ? 1 : 0);
    }
    expect([...core.table.all()]).toEqual([live]);
  });

  test('one loud second resets the count: a call that paused for a second is not released', () => {
    const core = new TurnCore<string>({ realm: 'hush', authSecret: NEW });
    expect(allocate(core, tuple(1), creds(NEW, 'paused'))).toBeUndefined();
    const [a] = [...core.table.all()];
    core.draining = true;
    const steps = [0, 2, 100, 2, 100, 2, 100]; // packets per second: never two quiet seconds in a row
    steps.forEach((n, t) => {
      a!.relayedCount += n;
      expect(core.tick(NOW + t * 1000).filter((x) => x.kind === 'release-relay'), `second ${t}`).toEqual([]);
    });
  });
});
