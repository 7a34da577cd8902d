/**
 * Signalling protocol v2 through the real CLI over a real WebSocket, with
 * real mailbox proofs (per-relay Ed25519 keys over the URL dialled,
 * lib/crypto/mailbox-auth): auth, proofs for another URL or key, nothing
 * before auth, deliver without a sender, no presence answer, the 64 KiB
 * frame limit, and that the TURN credentials handed out work on the relay's
 * TURN port.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { identityFromSeed, type Identity } from '../../lib/crypto/identity';
import { mailboxIdOfBundle } from '../../lib/crypto/address';
import { proveMailbox, proveMailboxAt, relayMailboxId } from '../../lib/crypto/mailbox-auth';
import { canonicalForm } from '../../lib/signal/relay-url';
import { authFrame } from '../harness/signal-client';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { SignalTestClient } from '../harness/signal-client';
import { TurnTestClient } from '../harness/turn-client';
import { scrapeMetrics } from '../harness/metrics';
import { sleep } from '../harness/wait';

let relay: RelayProcess;
let alice: Identity;
let bob: Identity;
const open: SignalTestClient[] = [];

/** The canonical URL of the relay under test (what its clients sign). */
const c0url = () => canonicalForm(relay.signalUrl);

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
    expect(c.challenge).toEqual({ t: 'challenge', v: 2, challenge: expect.any(String) });
    expect(Buffer.from(c.challenge.challenge as string, 'base64').length).toBe(32);
    const ready = await c.auth(alice);
    expect(ready.t).toBe('ready');
    // The mailbox of Alice's address on this relay's URL: not the address's own tag.
    expect(ready.mailbox).toBe(relayMailboxId(mailboxIdOfBundle(alice.bundleBytes), c.url));
    expect(ready.mailbox).not.toBe(mailboxIdOfBundle(alice.bundleBytes));
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
    // Alice signs, but presents Bob's key.
    const ok = proveMailbox(alice, Buffer.from(c.challenge.challenge as string, 'base64'), c.url);
    const other = proveMailbox(bob, Buffer.from(c.challenge.challenge as string, 'base64'), c.url);
    c.send(authFrame({ ...ok, key: other.key }));
    expect(await c.next()).toMatchObject({ t: 'error', code: 'ERR_AUTH' });
    expect((await c.closed).code).toBe(4001);
  });

  test('a proof over another relay URL (what a forwarding relay would pass on) is refused, whatever the Host header said', async () => {
    for (const url of ['wss://evil.example:443/signal', c0url().replace('/signal', '/other'), c0url().replace(/:(\d+)\//, (_m, p: string) => `:${Number(p) + 1}/`)]) {
      const c = await connect();
      c.send(authFrame(proveMailbox(alice, Buffer.from(c.challenge.challenge as string, 'base64'), url)));
      expect(await c.next(), url).toMatchObject({ t: 'error', code: 'ERR_AUTH' });
      expect((await c.closed).code).toBe(4001);
    }
    // A spoofed Host header changes nothing: the relay checks its own URLs only.
    const WebSocket = (await import('ws')).default;
    const ws = new WebSocket(relay.signalUrl, { headers: { host: 'evil.example' } });
    const frames: Record<string, unknown>[] = [];
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.on('message', (d) => {
      const f = JSON.parse(String(d)) as Record<string, unknown>;
      frames.push(f);
      if (f.t === 'challenge') ws.send(JSON.stringify(authFrame(proveMailbox(alice, Buffer.from(f.challenge as string, 'base64'), 'ws://evil.example:80/signal'))));
    });
    expect(await closed).toBe(4001);
    expect(frames.map((f) => f.code ?? f.t)).toEqual(['challenge', 'ERR_AUTH']);
  });

  test('a mailbox held under one key refuses another key (4004); the same key may log in from a second device', async () => {
    const a = await connect();
    await a.auth(alice);
    const mailbox = relayMailboxId(mailboxIdOfBundle(alice.bundleBytes), a.url);
    // Mallory knows Alice's address, so her mailbox id, and logs in to it with her own key.
    const m = await connect();
    const p = proveMailbox(bob, Buffer.from(m.challenge.challenge as string, 'base64'), m.url);
    m.send(authFrame(proveMailboxAt(bob, Buffer.from(m.challenge.challenge as string, 'base64'), m.url, mailbox)));
    expect(p.mailbox).not.toBe(mailbox);
    expect(await m.next()).toMatchObject({ t: 'error', code: 'ERR_MAILBOX_TAKEN' });
    expect((await m.closed).code).toBe(4004);
    const second = await connect();
    expect((await second.auth(alice)).mailbox).toBe(mailbox);
    a.close();
    second.close();
  });

  test('before auth only a delivery (from a member of another relay) is accepted; anything else closes 4003', async () => {
    const c = await connect();
    c.send({ t: 'turn', id: 1 });
    expect(await c.next()).toMatchObject({ t: 'error', code: 'ERR_AUTH_REQUIRED' });
    expect((await c.closed).code).toBe(4003);
    // A connection that never logs in delivers to a member's mailbox here.
    const b = await connect();
    const rb = await b.auth(bob);
    const poster = await connect();
    poster.send({ t: 'send', to: rb.mailbox, id: 7, data: 'AAAA' });
    expect(await poster.next((f) => f.t !== 'challenge')).toEqual({ t: 'sent', id: 7 });
    expect(await b.next((f) => f.t === 'deliver')).toEqual({ t: 'deliver', data: 'AAAA' });
    // …and may not ask for TURN: the relay's TURN is for its own members' calls.
    poster.send({ t: 'turn', id: 8 });
    expect(await poster.next((f) => f.t === 'error')).toMatchObject({ code: 'ERR_BAD_MESSAGE', id: 8 });
    poster.close();
    b.close();
  });

  test('--deliveries members: a relay refuses deliveries from connections that did not log in there', async () => {
    const members = await startRelayProcess(['--auth-secret', 'members-only-secret', '--deliveries', 'members']);
    try {
      const c = await SignalTestClient.connect(members.signalUrl);
      open.push(c);
      c.send({ t: 'send', to: 'a'.repeat(32), id: 1, data: 'AAAA' });
      expect(await c.next((f) => f.t !== 'challenge')).toMatchObject({ t: 'error', code: 'ERR_AUTH_REQUIRED' });
      expect((await c.closed).code).toBe(4003);
    } finally {
      await members.stop();
    }
  });

  test('envelopes are delivered to the mailbox, opaque; the sender gets "sent"', async () => {
    const a = await connect();
    const b = await connect();
    await a.auth(alice);
    const rb = await b.auth(bob);
    const data = Buffer.from('sealed bytes the relay cannot read').toString('base64');
    a.send({ t: 'send', to: rb.mailbox, id: 41, data });
    // No sender: who sent it is sealed inside (lib/signal/delivery.ts).
    expect(await b.next((f) => f.t === 'deliver')).toEqual({ t: 'deliver', data });
    expect(await a.next((f) => f.t !== 'turn')).toEqual({ t: 'sent', id: 41 });
    a.close();
    b.close();
  });

  test('an offline mailbox gets the same "sent" as an online one (no presence oracle), and nothing is queued', async () => {
    const a = await connect();
    await a.auth(alice);
    const offline = relayMailboxId(mailboxIdOfBundle(bob.bundleBytes), a.url);
    a.send({ t: 'send', to: offline, id: 5, data: 'AAAA' });
    expect(await a.next((f) => f.t !== 'turn')).toEqual({ t: 'sent', id: 5 });
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
