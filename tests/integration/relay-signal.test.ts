/**
 * Signalling through the real CLI over a real WebSocket, with real mailbox
 * proofs (ML-DSA-87 + Ed25519, lib/crypto/mailbox-auth): auth, bad proof,
 * nothing before auth, deliver/sent, unreachable, the 64 KiB frame limit,
 * and that the TURN credentials handed out work on the relay's TURN port.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { identityFromSeed, type Identity } from '../../lib/crypto/identity';
import { mailboxIdOfBundle } from '../../lib/crypto/address';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { SignalTestClient } from '../harness/signal-client';
import { TurnTestClient } from '../harness/turn-client';
import { scrapeMetrics } from '../harness/metrics';
import { sleep } from '../harness/wait';

let relay: RelayProcess;
let alice: Identity;
let bob: Identity;
const open: SignalTestClient[] = [];

async function connect(): Promise<SignalTestClient> {
  const c = await SignalTestClient.connect(relay.signalUrl);
  open.push(c);
  return c;
}

beforeAll(async () => {
  relay = await startRelayProcess(['--realm', 'relay.test', '--auth-secret', 'signal-test-secret']);
  alice = identityFromSeed(new Uint8Array(32).fill(1));
  bob = identityFromSeed(new Uint8Array(32).fill(2));
});
afterAll(async () => {
  for (const c of open) c.ws.terminate();
  await relay?.stop();
});

describe('signalling over WebSocket', () => {
  test('challenge, then a good proof: ready with the mailbox and TURN credentials', async () => {
    const c = await connect();
    expect(c.challenge.realm).toBe('relay.test');
    expect(Buffer.from(c.challenge.challenge as string, 'base64').length).toBe(32);
    const ready = await c.auth(alice);
    expect(ready.t).toBe('ready');
    expect(ready.mailbox).toBe(mailboxIdOfBundle(alice.bundleBytes));
    const turn = ready.turn as { username: string; credential: string; ttl: number; urls: string[]; stunAlt: string };
    expect(turn.username).toMatch(/^\d+:~[A-Za-z0-9_-]+$/);
    expect(turn.username).not.toContain(ready.mailbox as string);
    expect(turn.urls).toEqual([
      `stun:127.0.0.1:${relay.turnPort}`,
      `turn:127.0.0.1:${relay.turnPort}?transport=udp`,
      `turn:127.0.0.1:${relay.turnPort}?transport=tcp`,
    ]);
    expect(turn.stunAlt).toBe(`stun:127.0.0.1:${relay.altPort}`);
    // One credential per connection (issue 15): asking again gives the same one.
    c.send({ t: 'turn', id: 9 });
    const again = await c.next((f) => f.t === 'turn');
    expect(again.id).toBe(9);
    expect((again.turn as { username: string }).username).toBe(turn.username);
    // And they work on the TURN port.
    const tc = new TurnTestClient({ host: '127.0.0.1', port: relay.turnPort }, turn.username, turn.credential);
    await tc.open();
    const relayed = await tc.allocate();
    expect(relayed.address).toBe('127.0.0.1');
    tc.close();
    c.close();
  });

  test('a bad proof: ERR_AUTH and close 4001', async () => {
    const c = await connect();
    // Alice signs, but presents Bob's bundle.
    const ok = (await import('../../lib/crypto/mailbox-auth')).proveMailbox(alice, Buffer.from(c.challenge.challenge as string, 'base64'), 'relay.test');
    c.send({ t: 'auth', bundle: Buffer.from(bob.bundleBytes).toString('base64'), sig: Buffer.from(ok.signature).toString('base64') });
    expect(await c.next()).toMatchObject({ t: 'error', code: 'ERR_AUTH' });
    expect((await c.closed).code).toBe(4001);
  });

  test('a proof for another realm is refused', async () => {
    const c = await connect();
    const p = (await import('../../lib/crypto/mailbox-auth')).proveMailbox(alice, Buffer.from(c.challenge.challenge as string, 'base64'), 'other.realm');
    c.send({ t: 'auth', bundle: Buffer.from(p.bundle).toString('base64'), sig: Buffer.from(p.signature).toString('base64') });
    expect(await c.next()).toMatchObject({ t: 'error', code: 'ERR_AUTH' });
    expect((await c.closed).code).toBe(4001);
  });

  test('no message is accepted before auth', async () => {
    const c = await connect();
    c.send({ t: 'send', to: 'a'.repeat(32), id: 1, data: 'AAAA' });
    expect(await c.next()).toMatchObject({ t: 'error', code: 'ERR_AUTH_REQUIRED' });
    expect((await c.closed).code).toBe(4003);
  });

  test('envelopes are delivered to the mailbox, opaque; the sender gets "sent"', async () => {
    const a = await connect();
    const b = await connect();
    await a.auth(alice);
    const rb = await b.auth(bob);
    const data = Buffer.from('sealed bytes the relay cannot read').toString('base64');
    a.send({ t: 'send', to: rb.mailbox, id: 41, data });
    expect(await b.next((f) => f.t === 'deliver')).toEqual({ t: 'deliver', from: mailboxIdOfBundle(alice.bundleBytes), data });
    expect(await a.next((f) => f.t === 'sent' || f.t === 'unreachable')).toEqual({ t: 'sent', id: 41 });
    a.close();
    b.close();
  });

  test('an offline mailbox is "unreachable", nothing is queued', async () => {
    const a = await connect();
    await a.auth(alice);
    const offline = mailboxIdOfBundle(bob.bundleBytes);
    a.send({ t: 'send', to: offline, id: 5, data: 'AAAA' });
    expect(await a.next((f) => f.t === 'sent' || f.t === 'unreachable')).toEqual({ t: 'unreachable', id: 5, to: offline });
    // Bob comes online afterwards and receives nothing.
    const b = await connect();
    await b.auth(bob);
    await sleep(300); // intent: a window in which nothing may be delivered
    expect(b.frames.filter((f) => f.t === 'deliver')).toEqual([]);
    a.close();
    b.close();
  });

  test('bad fields: ERR_BAD_MESSAGE with the id, and the connection stays up', async () => {
    const a = await connect();
    await a.auth(alice);
    a.send({ t: 'send', to: 'not-a-mailbox', id: 3, data: 'AAAA' });
    expect(await a.next()).toMatchObject({ t: 'error', code: 'ERR_BAD_MESSAGE', id: 3 });
    a.send('not json');
    expect(await a.next()).toMatchObject({ t: 'error', code: 'ERR_BAD_MESSAGE' });
    a.send({ t: 'turn' });
    expect(await a.next()).toMatchObject({ t: 'turn' });
    a.close();
  });

  test('a frame over 64 KiB closes the connection with 1009', async () => {
    const a = await connect();
    await a.auth(alice);
    a.send({ t: 'send', to: 'a'.repeat(32), id: 1, data: Buffer.alloc(64 * 1024).toString('base64') });
    expect((await a.closed).code).toBe(1009);
    // The relay is fine: a new connection works.
    const b = await connect();
    expect((await b.auth(alice)).t).toBe('ready');
    b.close();
  });

  test('health and aggregate metrics over HTTP', async () => {
    const base = `http://127.0.0.1:${relay.signalPort}`;
    expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok\n');
    expect(await (await fetch(`${base}/health`)).text()).toBe('ok\n');
    const m = await scrapeMetrics(base);
    expect(m.hush_relay_envelopes_delivered_total).toBeGreaterThanOrEqual(1);
    expect(m.hush_relay_signal_connections).toBeGreaterThanOrEqual(0);
  });
});
