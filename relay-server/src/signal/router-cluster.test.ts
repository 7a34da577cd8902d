/**
 * The router's decisions for several nodes and for a shutdown, sans-IO:
 * when a node starts and stops holding a mailbox, how a send is split into
 * local delivery and one publish, what the sender is told from the two
 * counts, delivery of other nodes' envelopes, and the 1012 goodbye.
 */
import { describe, expect, test } from 'vitest';
import { CLOSE, NO_SENDER, SignalRouter, type SignalAction } from './router';
import { decodeClusterMessage, encodeClusterMessage, mailboxChannel } from './cluster-message';

const NOW = 1_800_000_000_000;
const A = 'a'.repeat(32);
const B = 'b'.repeat(32);

function router(cluster = true) {
  return new SignalRouter({
    turnInfo: (conn) => ({ username: `999:${conn}`, credential: 'x', ttl: 60, urls: [] }),
    randomBytes: (n) => new Uint8Array(n).fill(3),
    writable: () => true,
    cluster,
  });
}

function ready(r: SignalRouter, conn: number, mailbox: string): SignalAction[] {
  r.open(conn, NOW);
  r.message(conn, JSON.stringify({ t: 'auth', mailbox, key: Buffer.alloc(32, 1).toString('base64'), sig: Buffer.alloc(64, 2).toString('base64') }), NOW);
  return r.verified(conn, { ok: true, mailbox }, NOW);
}

const kinds = (acts: SignalAction[]) => acts.map((a) => a.kind);
const send = (to: string, id: number) => JSON.stringify({ t: 'send', to, id, data: 'aGk=' });

describe('SignalRouter with other nodes', () => {
  test('hold on the first local holder of a mailbox, release after the last', () => {
    const r = router();
    expect(ready(r, 1, A)).toContainEqual({ kind: 'hold', conn: 1, mailbox: A });
    expect(kinds(ready(r, 2, A))).not.toContain('hold');
    expect(r.closed(1)).toEqual([]);
    expect(r.closed(2)).toEqual([{ kind: 'release', conn: 2, mailbox: A }]);
    expect(r.closed(2)).toEqual([]);
  });

  test('one node only (no cluster): no hold, release or publish actions', () => {
    const r = router(false);
    expect(kinds(ready(r, 1, A))).toEqual(['send']);
    expect(kinds(r.message(1, send(B, 1), NOW))).toEqual(['send']);
    expect(r.closed(1)).toEqual([]);
  });

  test('a send is delivered to local holders at once and published once; the answer waits for the count', () => {
    const r = router();
    ready(r, 1, A);
    ready(r, 2, B);
    const out = r.message(1, send(B, 7), NOW);
    expect(out).toEqual([
      { kind: 'send', conn: 2, msg: { t: 'deliver', data: 'aGk=' } },
      { kind: 'publish', conn: 1, id: 7, to: B, from: NO_SENDER, data: 'aGk=', local: 1 },
    ]);
    expect(r.published(1, 7, B, 1, 0)).toEqual([{ kind: 'send', conn: 1, msg: { t: 'sent', id: 7 } }]);
  });

  test('the sender hears sent either way (no presence answer); the counters tell delivered from not (aggregate only)', () => {
    const r = router();
    ready(r, 1, A);
    expect(r.published(1, 1, B, 0, 2)).toEqual([{ kind: 'send', conn: 1, msg: { t: 'sent', id: 1 } }]);
    expect(r.published(1, 2, B, 0, 0)).toEqual([{ kind: 'send', conn: 1, msg: { t: 'sent', id: 2 } }]);
    expect(r.published(1, 3, B, 0, null)).toEqual([{ kind: 'send', conn: 1, msg: { t: 'sent', id: 3 } }]);
    expect(r.counters).toMatchObject({ delivered: 1, unreachable: 2 });
    r.closed(1);
    expect(r.published(1, 4, B, 0, 1)).toEqual([]); // the sender left meanwhile
  });

  test('an envelope from another node reaches every local holder, and nobody else', () => {
    const r = router();
    ready(r, 1, A);
    ready(r, 2, A);
    ready(r, 3, B);
    expect(r.remote(A, B, 'eA==')).toEqual([
      { kind: 'send', conn: 1, msg: { t: 'deliver', data: 'eA==' } },
      { kind: 'send', conn: 2, msg: { t: 'deliver', data: 'eA==' } },
    ]);
    expect(r.remote('c'.repeat(32), B, 'eA==')).toEqual([]);
    expect(r.counters.fromOtherNodes).toBe(1);
  });
});

describe('SignalRouter draining', () => {
  test('every connection, and each new one, is told ERR_DRAINING and closed 1012', () => {
    const r = router(false);
    ready(r, 1, A);
    r.open(2, NOW);
    const out = r.drain();
    for (const conn of [1, 2]) {
      expect(out).toContainEqual({ kind: 'send', conn, msg: { t: 'error', code: 'ERR_DRAINING', message: expect.any(String) } });
      expect(out).toContainEqual({ kind: 'close', conn, code: CLOSE.serviceRestart, reason: 'shutting down' });
    }
    expect(CLOSE.serviceRestart).toBe(1012);
    expect(kinds(r.open(3, NOW))).toEqual(['send', 'close']);
  });
});

describe('cluster messages', () => {
  test('round trip, and the channel names the realm and mailbox only', () => {
    expect(mailboxChannel('hush', A)).toBe(`hush:hush:mb:${A}`);
    expect(decodeClusterMessage(encodeClusterMessage('node-1', A, 'aGk='))).toEqual({ node: 'node-1', from: A, data: 'aGk=' });
  });

  test('anything malformed is dropped, never thrown', () => {
    for (const bad of ['', 'h1', 'h2|n|' + A + '|aGk=', 'h1|n|' + A + '|', 'h1|n|xyz|aGk=', 'h1|bad node|' + A + '|aGk=', 'h1|n|' + A + '|a|b', 'h1|n|' + A + '|{json}']) {
      expect(decodeClusterMessage(bad)).toBeUndefined();
    }
  });
});
