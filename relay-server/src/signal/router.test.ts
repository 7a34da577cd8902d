/**
 * The signalling router, sans-IO: challenge, proof (verified by the shell),
 * routing of opaque envelopes (no sender, no presence answer), the key a
 * held mailbox is bound to, the auth gate, rate limits and the 4-holder rule. The real proof check runs in the integration tests.
 */
import { describe, expect, test } from 'vitest';
import { SignalRouter, AUTH_DEADLINE_MS, CLOSE, MAX_HOLDERS, POST_IDLE_MS, type SignalAction } from './router';
import { parseClientMessage } from './messages';

/** An auth frame of protocol v2: mailbox, a 32-byte key (filled with `k`) and a 64-byte signature. */
function authFrame(mailbox: string, k = 1): string {
  return JSON.stringify({ t: 'auth', mailbox, key: Buffer.alloc(32, k).toString('base64'), sig: Buffer.alloc(64, 2).toString('base64') });
}

const NOW = 1_800_000_000_000;
const A = 'a'.repeat(32);
const B = 'b'.repeat(32);

function router(writable: (c: number) => boolean = () => true, acceptNonMembers?: boolean) {
  return new SignalRouter({
    acceptNonMembers,
    turnInfo: (conn) => ({ username: `999:${conn}`, credential: 'x', ttl: 60, urls: ['turn:h:1?transport=udp'] }),
    randomBytes: (n) => new Uint8Array(n).fill(3),
    writable,
  });
}

function sendsTo(actions: SignalAction[], conn: number) {
  return actions.filter((a): a is Extract<SignalAction, { kind: 'send' }> => a.kind === 'send' && a.conn === conn).map((a) => a.msg);
}

function ready(r: SignalRouter, conn: number, mailbox: string, key = 1): SignalAction[] {
  r.open(conn, NOW);
  const v = r.message(conn, authFrame(mailbox, key), NOW);
  expect(v.length).toBe(1);
  const job = v[0] as Extract<SignalAction, { kind: 'verify' }>;
  expect([job.kind, job.conn, [...job.challenge], job.mailbox, [...job.key], [...job.sig]]).toEqual(['verify', conn, Array(32).fill(3), mailbox, Array(32).fill(key), Array(64).fill(2)]);
  return r.verified(conn, { ok: true, mailbox }, NOW);
}

describe('SignalRouter', () => {
  test('a connection is challenged with 32 random bytes and the protocol version (no realm: the client signs the URL it dialled)', () => {
    expect(router().open(1, NOW)).toEqual([{ kind: 'send', conn: 1, msg: { t: 'challenge', v: 2, challenge: Buffer.alloc(32, 3).toString('base64') } }]);
  });

  test('a held mailbox is bound to the key that logged in first: another key is refused (4004) until every holder left', () => {
    const r = router();
    ready(r, 1, A, 1);
    r.open(2, NOW);
    r.message(2, authFrame(A, 9), NOW);
    const out = r.verified(2, { ok: true, mailbox: A }, NOW);
    expect(sendsTo(out, 2)).toEqual([{ t: 'error', code: 'ERR_MAILBOX_TAKEN', message: expect.any(String) }]);
    expect(out).toContainEqual({ kind: 'close', conn: 2, code: CLOSE.mailboxTaken, reason: 'mailbox taken' });
    expect(sendsTo(ready(r, 3, A, 1), 3)[0]).toMatchObject({ t: 'ready' }); // same key: a second device
    r.closed(1);
    r.closed(3);
    expect(sendsTo(ready(r, 4, A, 9), 4)[0]).toMatchObject({ t: 'ready' });
  });

  test('a good proof: ready with the mailbox and fresh TURN credentials', () => {
    const r = router();
    expect(sendsTo(ready(r, 1, A), 1)).toEqual([{ t: 'ready', mailbox: A, turn: { username: '999:1', credential: 'x', ttl: 60, urls: ['turn:h:1?transport=udp'] } }]);
  });

  test('a bad proof: ERR_AUTH then close 4001', () => {
    const r = router();
    r.open(1, NOW);
    r.message(1, authFrame(A), NOW);
    const out = r.verified(1, { ok: false, code: 'ERR_BAD_SIGNATURE' }, NOW);
    expect(out).toEqual([
      { kind: 'send', conn: 1, msg: { t: 'error', code: 'ERR_AUTH', message: expect.any(String) } },
      { kind: 'close', conn: 1, code: CLOSE.authFailed, reason: 'authentication failed' },
    ]);
  });

  test('a challenge left unanswered for 10 s closes the connection (4008); an authenticated one stays', () => {
    const r = router();
    r.open(1, NOW);
    ready(r, 2, A);
    expect(r.expire(NOW + AUTH_DEADLINE_MS - 1)).toEqual([]);
    const out = r.expire(NOW + AUTH_DEADLINE_MS);
    expect(out.filter((a) => a.kind === 'close')).toEqual([{ kind: 'close', conn: 1, code: 4008, reason: 'authentication timeout' }]);
  });

  test('ping is answered with pong once authenticated (the extension keeps its service worker alive with it)', () => {
    const r = router();
    ready(r, 1, A);
    expect(sendsTo(r.message(1, JSON.stringify({ t: 'ping' }), NOW), 1)).toEqual([{ t: 'pong' }]);
  });

  test('nothing but auth (or, from a non-member, a delivery) before authentication: error, then close', () => {
    for (const m of [{ t: 'turn' }, { t: 'send', to: 'bad', id: 1, data: 'AAAA' }, 'not json']) {
      const r = router();
      r.open(1, NOW);
      const out = r.message(1, typeof m === 'string' ? m : JSON.stringify(m), NOW);
      expect(out.map((a) => a.kind)).toEqual(['send', 'close']);
      expect(sendsTo(out, 1)[0]).toMatchObject({ t: 'error', code: 'ERR_AUTH_REQUIRED' });
      expect(out[1]).toMatchObject({ code: CLOSE.authRequired });
    }
  });

  test('send: delivered to every holder without naming the sender; the sender hears "sent" whether or not anyone holds it', () => {
    const r = router();
    ready(r, 1, A);
    ready(r, 2, B, 2);
    ready(r, 3, B, 2);
    const out = r.message(1, JSON.stringify({ t: 'send', to: B, id: 7, data: 'aGVsbG8=' }), NOW);
    expect(sendsTo(out, 2)).toEqual([{ t: 'deliver', data: 'aGVsbG8=' }]);
    expect(sendsTo(out, 3)).toEqual([{ t: 'deliver', data: 'aGVsbG8=' }]);
    expect(JSON.stringify(out)).not.toContain(A);
    expect(sendsTo(out, 1)).toEqual([{ t: 'sent', id: 7 }]);
    r.closed(2);
    r.closed(3);
    expect(sendsTo(r.message(1, JSON.stringify({ t: 'send', to: B, id: 8, data: '' }), NOW), 1)).toEqual([{ t: 'sent', id: 8 }]);
    expect(r.counters).toMatchObject({ delivered: 1, unreachable: 1 });
    expect(r.liveMailboxes).toBe(1);
  });

  test('a holder whose send buffer is full does not count as delivered', () => {
    const r = router((c) => c !== 2);
    ready(r, 1, A);
    ready(r, 2, B);
    expect(sendsTo(r.message(1, JSON.stringify({ t: 'send', to: B, id: 1, data: '' }), NOW), 1)).toEqual([{ t: 'sent', id: 1 }]);
    expect(r.counters).toMatchObject({ delivered: 0, unreachable: 1 });
  });

  test(`at most ${MAX_HOLDERS} connections per mailbox: the oldest is replaced (4002)`, () => {
    const r = router();
    for (let i = 1; i <= MAX_HOLDERS; i++) ready(r, i, A);
    const out = ready(r, 99, A);
    expect(out).toContainEqual({ kind: 'close', conn: 1, code: CLOSE.replaced, reason: 'replaced' });
    const fanout = (() => {
      ready(r, 50, B);
      return r.message(50, JSON.stringify({ t: 'send', to: A, id: 1, data: '' }), NOW).filter((a) => a.kind === 'send' && a.conn !== 50).map((a) => a.conn);
    })();
    expect(fanout.sort((x, y) => x - y)).toEqual([2, 3, 4, 99]);
  });

  test('bad messages: ERR_BAD_MESSAGE with the id echoed, connection stays; repeated abuse closes', () => {
    const r = router();
    ready(r, 1, A);
    expect(sendsTo(r.message(1, JSON.stringify({ t: 'send', to: 'nope', id: 5, data: '' }), NOW), 1)).toEqual([
      { t: 'error', code: 'ERR_BAD_MESSAGE', message: expect.any(String), id: 5 },
    ]);
    expect(sendsTo(r.message(1, JSON.stringify({ t: 'wat' }), NOW), 1)[0]).toMatchObject({ code: 'ERR_BAD_MESSAGE' });
    let closed = false;
    for (let i = 0; i < 60 && !closed; i++) closed = r.message(1, '{', NOW + i * 1000).some((a) => a.kind === 'close');
    expect(closed).toBe(true);
  });

  test('rate limit: 50/s with a burst of 100, then ERR_RATE_LIMIT', () => {
    const r = router();
    ready(r, 1, A);
    const codes: string[] = [];
    for (let i = 0; i < 102; i++) {
      for (const m of sendsTo(r.message(1, JSON.stringify({ t: 'turn', id: i }), NOW), 1)) codes.push(m.t === 'error' ? m.code : m.t);
    }
    expect(codes.filter((c) => c === 'turn').length).toBe(99); // 100 tokens, one spent on auth
    expect(codes.slice(-3)).toEqual(['ERR_RATE_LIMIT', 'ERR_RATE_LIMIT', 'ERR_RATE_LIMIT']);
    expect(sendsTo(r.message(1, JSON.stringify({ t: 'turn' }), NOW + 1000), 1)[0]).toMatchObject({ t: 'turn' });
  });

  test('pings take message tokens: pongs within the burst, silence past it, then closed 1008; messages share the bucket', () => {
    const r = router();
    r.open(1, NOW);
    const kinds: string[] = [];
    for (let i = 0; i < 200; i++) for (const a of r.ping(1, new Uint8Array(0), NOW)) kinds.push(a.kind === 'close' ? `close ${a.code}` : a.kind);
    expect(kinds.filter((k) => k === 'pong').length).toBe(100);
    expect(kinds.slice(-1)).toEqual([`close ${CLOSE.policy}`]);
    const s = router();
    s.open(2, NOW);
    for (let i = 0; i < 100; i++) s.ping(2, new Uint8Array(0), NOW);
    // The pings used the bucket: the next message is rate limited too.
    expect(sendsTo(s.message(2, '{"t":"ping"}', NOW), 2)[0]).toMatchObject({ t: 'error', code: 'ERR_RATE_LIMIT' });
  });

  test('turn: fresh credentials, id echoed', () => {
    const r = router();
    ready(r, 1, A);
    expect(sendsTo(r.message(1, '{"t":"turn","id":3}', NOW), 1)[0]).toMatchObject({ t: 'turn', id: 3, turn: { username: '999:1' } });
  });
});

describe('deliveries from members of other relays (no login)', () => {
  const send = (id: number) => JSON.stringify({ t: 'send', to: B, id, data: 'aGk=' });

  test('a connection that never logs in may deliver (and ping), nothing else; deliveries name no sender', () => {
    const r = router();
    ready(r, 2, B);
    r.open(1, NOW);
    const out = r.message(1, send(1), NOW);
    expect(sendsTo(out, 2)).toEqual([{ t: 'deliver', data: 'aGk=' }]);
    expect(sendsTo(out, 1)).toEqual([{ t: 'sent', id: 1 }]);
    expect(sendsTo(r.message(1, '{"t":"ping"}', NOW), 1)).toEqual([{ t: 'pong' }]);
    expect(sendsTo(r.message(1, '{"t":"turn","id":4}', NOW), 1)).toEqual([{ t: 'error', code: 'ERR_BAD_MESSAGE', message: expect.stringMatching(/only send and ping/), id: 4 }]);
    // It is not held to the login deadline, but closed when idle.
    expect(r.expire(NOW + AUTH_DEADLINE_MS)).toEqual([]);
    expect(r.expire(NOW + POST_IDLE_MS)).toEqual([{ kind: 'close', conn: 1, code: 1000, reason: 'idle' }]);
  });

  test('rate-limited: 10 per second, burst 20', () => {
    const r = router();
    r.open(1, NOW);
    const answers = Array.from({ length: 25 }, (_, i) => sendsTo(r.message(1, send(i), NOW), 1)[0]);
    expect(answers.filter((a) => a?.t === 'sent').length).toBe(20);
    expect(answers.slice(-3).every((a) => a?.t === 'error' && a.code === 'ERR_RATE_LIMIT')).toBe(true);
  });

  test('--deliveries members: a delivery before login is refused like any message before auth', () => {
    const r = router(undefined, false);
    r.open(1, NOW);
    const out = r.message(1, send(1), NOW);
    expect(sendsTo(out, 1)[0]).toMatchObject({ t: 'error', code: 'ERR_AUTH_REQUIRED' });
    expect(out).toContainEqual({ kind: 'close', conn: 1, code: CLOSE.authRequired, reason: 'authentication required' });
  });
});

describe('parseClientMessage', () => {
  test('checks every field', () => {
    expect(parseClientMessage('{"t":"send","to":"' + A + '","id":1,"data":"AAAA"}').ok).toBe(true);
    expect(parseClientMessage(authFrame(A)).ok).toBe(true);
    for (const bad of [
      '[]',
      'null',
      '{"t":1}',
      '{"t":"send","to":"' + A.toUpperCase() + '","id":1,"data":"AAAA"}',
      '{"t":"send","to":"' + A + '","id":-1,"data":"AAAA"}',
      '{"t":"send","to":"' + A + '","id":1.5,"data":"AAAA"}',
      '{"t":"send","to":"' + A + '","id":1,"data":"AAA"}',
      '{"t":"send","to":"' + A + '","id":1,"data":"A-_A"}',
      '{"t":"auth","bundle":"AAAA"}',
      JSON.stringify({ t: 'auth', mailbox: A, key: 'AAAA', sig: Buffer.alloc(64).toString('base64') }),
      JSON.stringify({ t: 'auth', mailbox: A.toUpperCase(), key: Buffer.alloc(32).toString('base64'), sig: Buffer.alloc(64).toString('base64') }),
      JSON.stringify({ t: 'auth', mailbox: A, key: Buffer.alloc(32).toString('base64'), sig: Buffer.alloc(63).toString('base64') }),
      '{"t":"turn","id":"x"}',
    ]) {
      expect(parseClientMessage(bad).ok, bad).toBe(false);
    }
  });
});
