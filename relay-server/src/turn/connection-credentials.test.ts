/**
 * Issue 15, TURN part: credentials tied to signalling connections
 * (credential-ledger.ts) and the allocation caps per credential and per
 * source (allocate.ts), through the sans-IO core's real request path.
 */
import { describe, expect, test } from 'vitest';
import { Attr, Class, Method } from '../stun/constants';
import { decodeErrorCode } from '../stun/error-code';
import { fingerprintOf } from '../stun/fingerprint';
import { integrityWith, longTermKey } from '../stun/integrity';
import { attrValue, decodeStun, getAttr, StunWriter, type StunMessage } from '../stun/message';
import { utf8 } from '../stun/text-attrs';
import type { RelayRequest, TurnAction } from './actions';
import type { ClientTuple } from './allocation';
import type { TurnCoreConfig } from './config';
import { TurnCore } from './core';
import { CredentialLedger, EndedCredentials } from './credential-ledger';
import { credentialKey, isSignalCredential, SIGNAL_ID_MARK, turnPassword } from './credentials';

const NOW = 1_800_000_000_000;
const SECRET = 'ledger-test-secret';
const UDP = new Uint8Array([17, 0, 0, 0]);
const GRACE_MS = 120_000;

interface Creds {
  username: string;
  password: string;
  nonce?: string;
}

let tid = 0;
function request(method: number, attrs: Array<[number, Uint8Array]>, c?: Creds): Uint8Array {
  const id = new Uint8Array(12);
  new DataView(id.buffer).setUint32(8, ++tid);
  const w = new StunWriter(method, Class.Request, id);
  for (const [t, v] of attrs) w.add(t, v);
  if (c?.nonce) {
    w.add(Attr.Username, utf8(c.username));
    w.add(Attr.Realm, utf8('hush'));
    w.add(Attr.Nonce, utf8(c.nonce));
  }
  const key = c?.nonce ? longTermKey(c.username, 'hush', c.password) : undefined;
  return w.finish({ integrity: key ? integrityWith(key) : undefined, fingerprint: fingerprintOf });
}

function answer(actions: TurnAction[]): { msg: StunMessage; code?: number; reason?: string; cls: number } {
  const sends = actions.filter((a) => a.kind === 'send');
  expect(sends.length).toBe(1);
  const d = decodeStun((sends[0] as { bytes: Uint8Array }).bytes);
  if (!d.ok) throw new Error(d.message);
  const ec = getAttr(d.value, Attr.ErrorCode);
  const e = ec ? decodeErrorCode(attrValue(d.value, ec)) : undefined;
  return { msg: d.value, cls: d.value.cls, code: e?.code, reason: e?.reason };
}

function tuple(port: number, address = '198.51.100.7'): ClientTuple {
  return { transport: 'udp', listener: 0, conn: 0, family: 4, address, port };
}

function makeCore(cfg: Partial<TurnCoreConfig> = {}): TurnCore<string> {
  return new TurnCore<string>({ realm: 'hush', authSecret: SECRET, ...cfg }, new Uint8Array(32).fill(3));
}

function ledger(): CredentialLedger {
  let n = 0;
  return new CredentialLedger({ ttlSec: 3600, graceMs: GRACE_MS, random: (k) => new Uint8Array(k).fill(++n) });
}

/** The authenticated Allocate's actions (after a challenge for the nonce). */
function allocateActions(core: TurnCore<string>, t: ClientTuple, c: Creds, now = NOW): TurnAction<string>[] {
  const ch = answer(core.handleMessage(t, request(Method.Allocate, [[Attr.RequestedTransport, UDP]]), now));
  const n = getAttr(ch.msg, Attr.Nonce);
  c.nonce = Buffer.from(attrValue(ch.msg, n!)).toString();
  return core.handleMessage(t, request(Method.Allocate, [[Attr.RequestedTransport, UDP]], c), now);
}

/** Allocate and, if the core asks for a relay socket, bind one: the answer. */
function allocate(core: TurnCore<string>, t: ClientTuple, c: Creds, now = NOW) {
  const acts = allocateActions(core, t, c, now);
  const bind = acts.find((a) => a.kind === 'bind-relay') as { request: RelayRequest } | undefined;
  if (!bind) return answer(acts);
  return answer(core.relayBound(bind.request, { ok: true, relayed: { family: 4, address: '203.0.113.1', port: 50000 + t.port }, io: 'socket' }, now));
}

const refresh = (core: TurnCore<string>, t: ClientTuple, c: Creds, lifetime: number, now: number) =>
  answer(core.handleMessage(t, request(Method.Refresh, [[Attr.Lifetime, new Uint8Array([0, 0, lifetime >> 8, lifetime & 255])]], c), now));

const asCreds = (t: { username: string; credential: string }): Creds => ({ username: t.username, password: t.credential });

describe('credential ledger: one credential per signalling connection', () => {
  test('asking again gives the same credential; late in its TTL the same id with a later expiry; another connection another id', () => {
    const l = ledger();
    const a = l.credential(1, SECRET, NOW);
    expect(a.username).toMatch(/^[0-9]+:~[A-Za-z0-9_-]{16}$/);
    expect(a.credential).toBe(turnPassword(SECRET, a.username));
    expect(a.ttl).toBe(3600);
    expect(l.credential(1, SECRET, NOW + 1_000)).toEqual({ ...a, ttl: 3599 });
    expect(l.credential(1, SECRET, NOW + 1_799_000).username).toBe(a.username);
    const later = l.credential(1, SECRET, NOW + 2_000_000);
    expect(later.username).not.toBe(a.username);
    expect(credentialKey(later.username)).toBe(credentialKey(a.username));
    expect(later.ttl).toBe(3600);
    const b = l.credential(2, SECRET, NOW);
    expect(credentialKey(b.username)).not.toBe(credentialKey(a.username));
    expect(l.size).toBe(2);
  });

  test('a credential is usable while its connection is open and for the grace after, then not; unknown ids never', () => {
    const ended: string[] = [];
    const l = new CredentialLedger({ ttlSec: 3600, graceMs: GRACE_MS, onEnded: (k) => ended.push(k) });
    const key = credentialKey(l.credential(7, SECRET, NOW).username);
    expect(isSignalCredential(key)).toBe(true);
    expect(l.usable(key, NOW + 10_000_000)).toBe(true);
    l.closed(7, NOW + 1_000);
    expect(ended).toEqual([key]);
    expect(l.usable(key, NOW + 1_000 + GRACE_MS - 1)).toBe(true);
    expect(l.usable(key, NOW + 1_000 + GRACE_MS)).toBe(false);
    l.sweep(NOW + 1_000 + GRACE_MS);
    expect(l.size).toBe(0);
    expect(l.usable(key, NOW)).toBe(false);
    expect(l.usable(`${SIGNAL_ID_MARK}made-up`, NOW)).toBe(false);
    // A new connection never gets the old id back.
    expect(credentialKey(l.credential(7, SECRET, NOW + 200_000).username)).not.toBe(key);
  });

  test('a reconnect for the same mailbox gets its credential back: while another connection holds it, or within the grace', () => {
    const events: Array<[string, number | null]> = [];
    const l = new CredentialLedger({ ttlSec: 3600, graceMs: GRACE_MS, onEnded: (k, at) => events.push([k, at]) });
    const first = l.credential(1, SECRET, NOW, 'mailbox-a');
    const key = credentialKey(first.username);
    // The relay has not noticed the old socket died yet: the new connection shares the credential.
    expect(l.credential(2, SECRET, NOW + 5_000, 'mailbox-a').username).toBe(first.username);
    l.closed(1, NOW + 30_000);
    expect(events).toEqual([]); // connection 2 still holds it
    l.closed(2, NOW + 40_000);
    expect(events).toEqual([[key, NOW + 40_000]]);
    // Back within the grace: the same credential, live again (no grace running).
    expect(l.credential(3, SECRET, NOW + 40_000 + GRACE_MS - 1, 'mailbox-a').username).toBe(first.username);
    expect(events).toEqual([[key, NOW + 40_000], [key, null]]);
    expect(l.usable(key, NOW + 10 * GRACE_MS)).toBe(true);
    // Another mailbox never gets it.
    expect(credentialKey(l.credential(4, SECRET, NOW + 50_000, 'mailbox-b').username)).not.toBe(key);
    // Back after the grace: a new credential.
    l.closed(3, NOW + 100_000);
    const late = l.credential(5, SECRET, NOW + 100_000 + GRACE_MS, 'mailbox-a');
    expect(credentialKey(late.username)).not.toBe(key);
    expect(l.usable(key, NOW + 100_000 + GRACE_MS)).toBe(false);
  });

  test("a TURN thread's view: usable unless told it ended more than the grace ago; forgotten after keepMs", () => {
    const e = new EndedCredentials(GRACE_MS, GRACE_MS + 3_600_000);
    expect(e.usable('~x', NOW)).toBe(true);
    e.end('~x', NOW);
    expect(e.usable('~x', NOW + GRACE_MS - 1)).toBe(true);
    expect(e.usable('~x', NOW + GRACE_MS)).toBe(false);
    e.end('~x', null); // a reconnect took it back
    expect(e.usable('~x', NOW + GRACE_MS)).toBe(true);
    e.end('~x', NOW);
    e.sweep(NOW + GRACE_MS + 3_600_000);
    expect(e.usable('~x', NOW + GRACE_MS + 3_600_000)).toBe(true);
  });
});

describe('TURN core: caps per credential and per source', () => {
  test('the per-credential quota counts a refreshed username with the old one (same id, later expiry)', () => {
    const core = makeCore({ userQuota: 3 });
    const l = ledger();
    core.setLiveness(l);
    const first = asCreds(l.credential(1, SECRET, NOW));
    expect(allocate(core, tuple(1), first).cls).toBe(Class.Success);
    expect(allocate(core, tuple(2), first).cls).toBe(Class.Success);
    const refreshed = asCreds(l.credential(1, SECRET, NOW + 2_000_000));
    expect(refreshed.username).not.toBe(first.username);
    expect(allocate(core, tuple(3), refreshed, NOW + 2_000_000).cls).toBe(Class.Success);
    const over = allocate(core, tuple(4), refreshed, NOW + 2_000_000);
    expect(over.code).toBe(486);
    expect(over.reason).toContain('this credential has its share');
    // Another connection of the same client has its own share.
    expect(allocate(core, tuple(5), asCreds(l.credential(2, SECRET, NOW)), NOW + 2_000_000).cls).toBe(Class.Success);
  });

  test('the per-source quota holds over many credentials; another source still allocates', () => {
    const core = makeCore({ userQuota: 2, sourceQuota: 5, totalQuota: 100 });
    const l = ledger();
    core.setLiveness(l);
    let made = 0;
    let refused = 0;
    for (let conn = 1; conn <= 10; conn++) {
      const c = asCreds(l.credential(conn, SECRET, NOW));
      for (let i = 0; i < 2; i++) {
        const r = allocate(core, tuple(conn * 10 + i), c);
        if (r.cls === Class.Success) made++;
        else {
          expect(r.code).toBe(486);
          expect(r.reason).toContain('this address has its share');
          refused++;
        }
      }
    }
    expect(made).toBe(5);
    expect(refused).toBe(15);
    expect(core.counters.sourceQuotaRejected).toBe(15);
    expect(allocate(core, tuple(1, '203.0.113.50'), asCreds(l.credential(99, SECRET, NOW))).cls).toBe(Class.Success);
    expect(core.table.size).toBe(6);
  });

  test('IPv6 sources in one /64 share the per-source quota', () => {
    const core = makeCore({ sourceQuota: 2, families: [4, 6] });
    const six = (port: number, address: string): ClientTuple => ({ ...tuple(port, address), family: 6 });
    expect(allocate(core, six(1, '2001:db8:1:2::1'), { username: '9999999999:a', password: turnPassword(SECRET, '9999999999:a') }).cls).toBe(Class.Success);
    expect(allocate(core, six(2, '2001:db8:1:2::2'), { username: '9999999999:b', password: turnPassword(SECRET, '9999999999:b') }).cls).toBe(Class.Success);
    expect(allocate(core, six(3, '2001:db8:1:2:ffff::3'), { username: '9999999999:c', password: turnPassword(SECRET, '9999999999:c') }).code).toBe(486);
    expect(allocate(core, six(4, '2001:db8:1:3::1'), { username: '9999999999:d', password: turnPassword(SECRET, '9999999999:d') }).cls).toBe(Class.Success);
  });

  test('Allocates still waiting for their relay socket count: a burst cannot pass the caps before any bind', () => {
    const core = makeCore({ userQuota: 3, sourceQuota: 4 });
    const l = ledger();
    core.setLiveness(l);
    const c = asCreds(l.credential(1, SECRET, NOW));
    const binds = [1, 2, 3, 4, 5].map((p) => allocateActions(core, tuple(p), c).some((a) => a.kind === 'bind-relay'));
    expect(binds).toEqual([true, true, true, false, false]);
    const d = asCreds(l.credential(2, SECRET, NOW));
    const more = [6, 7, 8].map((p) => allocateActions(core, tuple(p), d).some((a) => a.kind === 'bind-relay'));
    expect(more).toEqual([true, false, false]);
    expect(core.pending.size).toBe(4);
  });

  test('an EVEN-PORT reservation takes a place of its source too', () => {
    const core = makeCore({ sourceQuota: 3 });
    const u = (id: string) => ({ username: `9999999999:${id}`, password: turnPassword(SECRET, `9999999999:${id}`) });
    const c: Creds = u('even');
    const t = tuple(1);
    const ch = answer(core.handleMessage(t, request(Method.Allocate, [[Attr.RequestedTransport, UDP]]), NOW));
    c.nonce = Buffer.from(attrValue(ch.msg, getAttr(ch.msg, Attr.Nonce)!)).toString();
    const acts = core.handleMessage(t, request(Method.Allocate, [[Attr.RequestedTransport, UDP], [Attr.EvenPort, new Uint8Array([0x80])]], c), NOW);
    const bind = acts.find((a) => a.kind === 'bind-relay') as { request: RelayRequest };
    const token = new Uint8Array(8).fill(7);
    const ok = core.relayBound(bind.request, { ok: true, relayed: { family: 4, address: '203.0.113.1', port: 50000 }, io: 'socket', reservationToken: token }, NOW);
    expect(answer(ok).cls).toBe(Class.Success);
    // The allocation and its reserved port: two of three places; another credential from the same address gets the last.
    expect(allocate(core, tuple(2), u('other')).cls).toBe(Class.Success);
    expect(allocate(core, tuple(3), u('third')).code).toBe(486);
    expect(allocate(core, tuple(4, '203.0.113.9'), u('elsewhere')).cls).toBe(Class.Success);
  });

  test('an operator-minted credential (no mark) is not tied to any connection, but is capped the same', () => {
    const core = makeCore({ userQuota: 1, sourceQuota: 2 });
    core.setLiveness(ledger());
    const u = (id: string) => ({ username: `9999999999:${id}`, password: turnPassword(SECRET, `9999999999:${id}`) });
    expect(allocate(core, tuple(1), u('op')).cls).toBe(Class.Success);
    expect(allocate(core, tuple(2), u('op')).code).toBe(486);
    expect(allocate(core, tuple(3), u('op2')).cls).toBe(Class.Success);
    expect(allocate(core, tuple(4), u('op3')).code).toBe(486);
  });
});

describe('TURN core: a credential ends with its signalling connection (after the grace)', () => {
  test('new Allocates and Refreshes work within the grace and are refused after it; deleting still works', () => {
    const core = makeCore();
    const l = ledger();
    core.setLiveness(l);
    const c = asCreds(l.credential(1, SECRET, NOW));
    expect(allocate(core, tuple(1), c).cls).toBe(Class.Success);
    expect(allocate(core, tuple(2), c).cls).toBe(Class.Success);
    l.closed(1, NOW + 1_000);
    // A reconnect within the grace: the call's allocation is refreshed, and may even be remade.
    const within = NOW + 1_000 + GRACE_MS - 1_000;
    expect(refresh(core, tuple(1), c, 600, within).cls).toBe(Class.Success);
    expect(allocate(core, tuple(3), c, within).cls).toBe(Class.Success);
    const after = NOW + 1_000 + GRACE_MS;
    const r = refresh(core, tuple(1), c, 600, after);
    expect(r.code).toBe(401);
    expect(r.reason).toContain('signalling connection these credentials came from is gone');
    const a = allocate(core, tuple(4), c, after);
    expect(a.code).toBe(401);
    expect(core.counters.credentialGone).toBe(2);
    // CreatePermission is refused too; LIFETIME 0 (delete) is served.
    const perm = answer(core.handleMessage(tuple(2), request(Method.CreatePermission, [], c), after));
    expect(perm.code).toBe(401);
    expect(refresh(core, tuple(2), c, 0, after).cls).toBe(Class.Success);
    expect(core.table.size).toBe(2);
  });

  test('a credential of this form that this relay never handed out (or from before a restart) is refused', () => {
    const core = makeCore();
    core.setLiveness(ledger());
    const username = `9999999999:${SIGNAL_ID_MARK}AAAAAAAAAAAAAAAA`;
    const r = allocate(core, tuple(1), { username, password: turnPassword(SECRET, username) });
    expect(r.code).toBe(401);
    expect(core.table.size + core.pending.size).toBe(0);
    // A core told nothing (no ledger) refuses them too.
    expect(allocate(makeCore(), tuple(1), { username, password: turnPassword(SECRET, username) }).code).toBe(401);
  });
});
