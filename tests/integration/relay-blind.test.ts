/**
 * Issue 15 on real sockets: the extension's own signalling client
 * (lib/signal/client.ts, on Node with the `ws` WebSocket) against the real
 * relay CLI, protocol v2.
 *
 * - Two clients call through the relay: the callee learns who called only
 *   from the HELLO's sealed route, the caller learns who answered by call id;
 *   everything the relay received (captured at the client's socket) holds no
 *   identity bundle, address, address tag or sender mailbox, and every
 *   delivery is one of the padded sizes.
 * - A malicious relay that forwards the real relay's challenge to a victim
 *   and the victim's answer back gets ERR_AUTH: the proof signed the
 *   malicious relay's URL. A second challenge on one connection (the other
 *   way to make a client sign a forwarded challenge) drops the connection.
 * - `ws://` to a remote host is refused before any socket opens.
 * - A card with several relays: the HELLO goes to the first that takes it
 *   (a refused connection and a relay that answers `error` instead of `sent`
 *   are skipped, in order); when none does, ERR_PEER_RELAYS with a sentence.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { identityFromSeed, type Identity } from '../../lib/crypto/identity';
import { addressFromBundle, addressHash, mailboxIdOfBundle } from '../../lib/crypto/address';
import { toHex } from '../../lib/crypto/bytes';
import { CallerHandshake } from '../../lib/crypto/handshake';
import { EnvelopeType, encodePrefix, parseEnvelope } from '../../lib/crypto/envelope-format';
import { SignalClient, type SignalStatus } from '../../lib/signal/client';
import { PAD_BUCKETS } from '../../lib/signal/delivery';
import { relayMailboxId } from '../../lib/crypto/mailbox-auth';
import { canonicalForm } from '../../lib/signal/relay-url';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { waitFor } from '../harness/wait';
import { freePort } from '../harness/ports';

let relay: RelayProcess;
const alice = identityFromSeed(new Uint8Array(32).fill(11));
const bob = identityFromSeed(new Uint8Array(32).fill(12));
const clients: SignalClient[] = [];
const servers: WebSocketServer[] = [];

/** The frames a client sent, as the relays received them (and per relay URL, in `byUrl`). */
const byUrl: Array<{ url: string; frame: string }> = [];
function capturingWs(sent: string[]): typeof WebSocket {
  return class extends WebSocket {
    override send(data: unknown, ...rest: unknown[]): void {
      sent.push(String(data));
      byUrl.push({ url: this.url, frame: String(data) });
      (super.send as (...a: unknown[]) => void)(data, ...rest);
    }
  } as unknown as typeof WebSocket;
}

function client(id: Identity, url: string, o: { sent?: string[]; delivered?: Array<{ from: string; data: Uint8Array }>; statuses?: SignalStatus[] } = {}): SignalClient {
  const c = new SignalClient({
    urls: [url],
    identity: id,
    onDeliver: (from, data) => o.delivered?.push({ from, data }),
    onStatus: (s) => o.statuses?.push(s),
    WebSocketImpl: capturingWs(o.sent ?? []) as never,
    minBackoffMs: 60_000,
  });
  clients.push(c);
  c.start();
  return c;
}

beforeAll(async () => {
  relay = await startRelayProcess(['--auth-secret', 'blind-test-secret']);
});
afterAll(async () => {
  for (const c of clients) c.stop();
  for (const s of servers) s.close();
  await relay?.stop();
});

describe('a blind relay (protocol v2)', () => {
  test('a call through the relay: the callee learns the caller from the sealed route; the relay received no identity, address or sender, only padded sizes', async () => {
    const sentA: string[] = [];
    const sentB: string[] = [];
    const atA: Array<{ from: string; data: Uint8Array }> = [];
    const atB: Array<{ from: string; data: Uint8Array }> = [];
    const a = client(alice, relay.signalUrl, { sent: sentA, delivered: atA });
    const b = client(bob, relay.signalUrl, { sent: sentB, delivered: atB });
    await Promise.all([a.whenReady(20_000), b.whenReady(20_000)]);

    const hello = new CallerHandshake(alice, addressHash(bob.bundleBytes)).start();
    expect(await a.send(mailboxIdOfBundle(bob.bundleBytes), hello)).toBe('sent');
    await waitFor(() => atB.length === 1, { timeout: 10_000, what: 'the HELLO at Bob' });
    expect(atB[0]!.from).toBe(mailboxIdOfBundle(alice.bundleBytes));
    expect(toHex(atB[0]!.data)).toBe(toHex(hello));

    // Bob answers on the same call id; Alice knows it is Bob's by the call id alone.
    const callId = parseEnvelope(hello).callId;
    const answer = new Uint8Array([...encodePrefix(EnvelopeType.Sealed, callId), ...new Uint8Array(40).fill(5)]);
    await b.send(atB[0]!.from, answer);
    await waitFor(() => atA.length === 1, { timeout: 10_000, what: 'the answer at Alice' });
    expect(atA[0]!.from).toBe(mailboxIdOfBundle(bob.bundleBytes));

    // What the relay received from both.
    const frames = [...sentA, ...sentB].map((f) => JSON.parse(f) as Record<string, string>);
    const text = [...sentA, ...sentB].join('\n');
    for (const id of [alice, bob]) {
      const b64 = Buffer.from(id.bundleBytes).toString('base64');
      expect(text).not.toContain(b64.slice(0, 64)); // no identity bundle
      expect(text).not.toContain(Buffer.from(id.bundle.ed25519Pk).toString('base64').slice(0, 40)); // no identity key
      expect(text).not.toContain(addressFromBundle(id.bundleBytes)); // no address
      expect(text).not.toContain(mailboxIdOfBundle(id.bundleBytes)); // no address tag
    }
    const auths = frames.filter((f) => f.t === 'auth');
    expect(auths.map((f) => Object.keys(f).sort().join())).toEqual(['key,mailbox,sig,t', 'key,mailbox,sig,t']);
    const sends = frames.filter((f) => f.t === 'send');
    expect(sends.length).toBe(2);
    for (const s of sends) {
      expect(PAD_BUCKETS as readonly number[]).toContain(Buffer.from(s.data!, 'base64').length);
      // The sender's own mailbox is nowhere in its delivery.
      const own = auths[sentA.some((f) => f.includes(s.data!)) ? 0 : 1]!.mailbox!;
      expect(Buffer.from(s.data!, 'base64').toString('hex')).not.toContain(own);
      expect(s.data).not.toContain(own);
    }
  });

  test('a relay that forwards the real relay\'s challenge gets nothing usable: the real relay refuses the proof (ERR_AUTH)', async () => {
    // The malicious relay: accepts the victim, opens its own connection to the real relay, and passes frames both ways.
    const evil = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/signal' });
    servers.push(evil);
    await new Promise<void>((r) => evil.once('listening', () => r()));
    const upstreamAnswers: Array<Record<string, unknown>> = [];
    evil.on('connection', (victim) => {
      const up = new WebSocket(relay.signalUrl);
      up.on('error', () => undefined);
      up.on('message', (d) => {
        const f = JSON.parse(String(d)) as Record<string, unknown>;
        if (f.t !== 'challenge') upstreamAnswers.push(f);
        if (victim.readyState === victim.OPEN) victim.send(String(d));
      });
      up.on('close', (code) => upstreamAnswers.push({ t: 'closed', code }));
      victim.on('message', (d) => up.readyState === up.OPEN && up.send(String(d)));
    });
    const url = `ws://localhost:${(evil.address() as AddressInfo).port}/signal`;
    const statuses: SignalStatus[] = [];
    const c = client(alice, url, { statuses });
    await waitFor(() => upstreamAnswers.some((f) => f.t === 'closed'), { timeout: 20_000, what: () => `the real relay to answer the forwarded proof: ${JSON.stringify(upstreamAnswers)}` });
    expect(upstreamAnswers[0]).toMatchObject({ t: 'error', code: 'ERR_AUTH' });
    expect(upstreamAnswers).toContainEqual({ t: 'closed', code: 4001 });
    expect(c.online).toBe(false);
    c.stop();
  });

  test('a second challenge on one connection is refused: the client leaves instead of signing it', async () => {
    const sent: string[] = [];
    // A relay that logs the client in, then sends another challenge (one it could have forwarded).
    const evil = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/signal' });
    servers.push(evil);
    await new Promise<void>((r) => evil.once('listening', () => r()));
    let closedByClient = false;
    evil.on('connection', (ws) => {
      ws.send(JSON.stringify({ t: 'challenge', v: 2, challenge: Buffer.alloc(32, 1).toString('base64') }));
      ws.on('message', (d) => {
        const f = JSON.parse(String(d)) as { t: string };
        if (f.t === 'auth') {
          ws.send(JSON.stringify({ t: 'ready', mailbox: 'a'.repeat(32), turn: { username: '1:x', credential: 'c', ttl: 3600, urls: [] } }));
          ws.send(JSON.stringify({ t: 'challenge', v: 2, challenge: Buffer.alloc(32, 2).toString('base64') }));
        }
      });
      ws.on('close', () => (closedByClient = true));
    });
    const statuses: SignalStatus[] = [];
    const c = client(alice, `ws://127.0.0.1:${(evil.address() as AddressInfo).port}/signal`, { sent, statuses });
    await waitFor(() => closedByClient, { timeout: 10_000, what: 'the client to drop the connection' });
    expect(sent.filter((f) => JSON.parse(f).t === 'auth').length).toBe(1);
    expect(statuses.at(-1)).toMatchObject({ state: 'offline', error: expect.stringMatching(/log in a second time/) });
    c.stop();
  });

  test('any two relays: Alice on R1 calls Bob on R2 from his card; each delivers to the other\'s relay without an account there; R2 never sees Alice\'s mailbox', async () => {
    const r2 = await startRelayProcess(['--auth-secret', 'another-relay-secret', '--realm', 'r2.test']);
    try {
      const atA: Array<{ from: string; data: Uint8Array }> = [];
      const atB: Array<{ from: string; data: Uint8Array }> = [];
      const sentA: string[] = [];
      const a = client(alice, relay.signalUrl, { delivered: atA, sent: sentA });
      const b = client(bob, r2.signalUrl, { delivered: atB });
      await Promise.all([a.whenReady(20_000), b.whenReady(20_000)]);
      const bobTag = mailboxIdOfBundle(bob.bundleBytes);
      // Bob's card names three relays: a port nobody listens on, a relay that refuses the
      // delivery (`error`, not `sent`), then R2. The HELLO skips the first two, in order.
      const refusing = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      servers.push(refusing);
      const refusedFrames: string[] = [];
      refusing.on('connection', (ws) => ws.on('message', (d) => {
        const f = JSON.parse(d.toString()) as { t: string; id?: number };
        refusedFrames.push(f.t);
        if (f.t === 'send') ws.send(JSON.stringify({ t: 'error', id: f.id, code: 'ERR_NOT_MEMBER', message: 'deliveries from members only' }));
      }));
      const deadUrl = `ws://127.0.0.1:${await freePort()}/signal`;
      const refusingUrl = `ws://127.0.0.1:${(refusing.address() as AddressInfo).port}/signal`;
      a.hint(bobTag, [deadUrl, refusingUrl, r2.signalUrl]);

      const hello = new CallerHandshake(alice, addressHash(bob.bundleBytes)).start();
      expect(await a.send(bobTag, hello)).toBe('sent');
      expect(refusedFrames).toEqual(['send']);
      await waitFor(() => atB.length === 1, { timeout: 10_000, what: 'the HELLO at Bob, on R2' });
      expect(atB[0]!.from).toBe(mailboxIdOfBundle(alice.bundleBytes));

      const answer = new Uint8Array([...encodePrefix(EnvelopeType.Sealed, parseEnvelope(hello).callId), ...new Uint8Array(40).fill(5)]);
      await b.send(atB[0]!.from, answer);
      await waitFor(() => atA.length === 1, { timeout: 10_000, what: 'the answer at Alice, on R1' });
      expect(atA[0]!.from).toBe(bobTag);
      // Alice's socket to R1 carried no send: the HELLO went to R2, on a connection that never logged in there.
      const toR1 = byUrl.filter((x) => x.url === relay.signalUrl && sentA.includes(x.frame)).map((x) => JSON.parse(x.frame).t as string);
      const toR2 = byUrl.filter((x) => x.url === r2.signalUrl && sentA.includes(x.frame)).map((x) => JSON.parse(x.frame).t as string);
      expect(toR1).not.toContain('send');
      expect(toR2).toEqual(['send']);
      // R2 never received Alice's mailbox there or on R1, her key or her tag.
      const r2Saw = byUrl.filter((x) => x.url === r2.signalUrl && sentA.includes(x.frame)).map((x) => x.frame).join('');
      expect(r2Saw).not.toContain(relayMailboxId(mailboxIdOfBundle(alice.bundleBytes), canonicalForm(relay.signalUrl)));
      expect(r2Saw).not.toContain(relayMailboxId(mailboxIdOfBundle(alice.bundleBytes), canonicalForm(r2.signalUrl)));
      expect(r2Saw).not.toContain(mailboxIdOfBundle(alice.bundleBytes));
    } finally {
      await r2.stop();
    }
  });

  test('a card none of whose relays takes the HELLO: ERR_PEER_RELAYS, a sentence naming each relay', async () => {
    const a = client(alice, relay.signalUrl);
    await a.whenReady(20_000);
    const dead = [`ws://127.0.0.1:${await freePort()}/signal`, `ws://127.0.0.1:${await freePort()}/signal`];
    a.hint(mailboxIdOfBundle(bob.bundleBytes), dead);
    const hello = new CallerHandshake(alice, addressHash(bob.bundleBytes)).start();
    const err = await a.send(mailboxIdOfBundle(bob.bundleBytes), hello).then(() => null, (e: unknown) => e as { code: string; message: string });
    expect(err?.code).toBe('ERR_PEER_RELAYS');
    expect(err?.message).toMatch(/^None of this person's relays could be reached/);
    for (const u of dead) expect(err?.message).toContain(canonicalForm(u));
    // A card with one relay, down: hers to blame too (not "our relay could not be reached").
    a.hint(mailboxIdOfBundle(bob.bundleBytes), dead.slice(0, 1));
    const hello2 = new CallerHandshake(alice, addressHash(bob.bundleBytes)).start();
    const err2 = await a.send(mailboxIdOfBundle(bob.bundleBytes), hello2).then(() => null, (e: unknown) => e as { code: string });
    expect(err2?.code).toBe('ERR_PEER_RELAYS');
    a.stop();
  });

  test('ws:// to a remote host: refused before connecting, with a sentence naming wss://', () => {
    const statuses: SignalStatus[] = [];
    const c = client(alice, 'ws://relay.example/signal', { statuses });
    expect(statuses.at(-1)).toMatchObject({ state: 'offline', error: expect.stringMatching(/wss:\/\//) });
    c.stop();
  });
});
