/**
 * Call admission at the manager (docs/protocol.md §5.5, issue 14): real
 * CallManagers and real crypto through an in-memory relay, the background's
 * real AdmissionStore (storage mocked in memory) behind the admission ports.
 * Signatures are counted per identity by wrapping `signHybrid` and `signHybridAsync`: "refused
 * without a signature" is counted, not inferred.
 */
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';

const signs = new Map<unknown, number>();
vi.mock('../crypto/identity', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../crypto/identity')>();
  return {
    ...orig,
    signHybrid: (...args: Parameters<typeof orig.signHybrid>) => {
      signs.set(args[0], (signs.get(args[0]) ?? 0) + 1);
      return orig.signHybrid(...args);
    },
    // What the handshake calls (the browser's ML-DSA-87 where it has one, else noble's signHybrid).
    signHybridAsync: (...args: Parameters<typeof orig.signHybridAsync>) => {
      signs.set(args[0], (signs.get(args[0]) ?? 0) + 1);
      return orig.signHybridAsync(...args);
    },
  };
});
vi.mock('../background/storage', () => {
  const item = <T,>(fallback: T) => {
    let v = fallback;
    return { getValue: async () => v, setValue: async (x: T) => void (v = x) };
  };
  return { admissionItem: item({}), blockedItem: item([]) };
});

const { identityFromSeed } = await import('../crypto/identity');
const { addressFromBundle, mailboxIdOfBundle, parseAddress } = await import('../crypto/address');
const { CallerHandshake } = await import('../crypto/handshake');
const { ADMISSION_LIMITS } = await import('./admission');
const { CallManager } = await import('./manager');
const { TIMEOUTS } = await import('./session');
const { AdmissionStore, ADMIT_RECV_KEPT } = await import('../background/admission-store');
const storage = await import('../background/storage');
type Identity = import('../crypto/identity').Identity;
type CallSession = import('./session').CallSession;
type Manager = import('./manager').CallManager;
type Store = import('../background/admission-store').AdmissionStore;

const RESPONSE = 0x02;

class FakeRelay {
  readonly boxes = new Map<string, Peer>();
  /** RESPONSE envelopes sent, by receiving mailbox. */
  readonly responses: string[] = [];
  send(from: string, to: string, env: Uint8Array): 'sent' | 'unreachable' {
    if (env[1] === RESPONSE) this.responses.push(to);
    const peer = this.boxes.get(to);
    if (!peer) return 'unreachable';
    setTimeout(() => peer.manager.onDeliver(from, env), 0);
    return 'sent';
  }
}

/** Every `prewarm` a device's media port was asked for (issue 17), with its hold. */
type Prewarm = { ms: number; idle: () => boolean } | undefined;

const media = (prewarms: Prewarm[] = []) => ({
  prewarm: (hold?: { ms: number; idle: () => boolean }) => void prewarms.push(hold),
  start: async () => {},
  createOffer: async () => 'v=0 offer',
  acceptOffer: async () => 'v=0 answer',
  setAnswer: async () => {},
  addCandidate: async () => {},
  setMuted: async () => {},
  stop: async () => {},
});

interface Peer {
  id: Identity;
  address: string;
  mailbox: string;
  manager: Manager;
  store: Store;
  contacts: Set<string>;
  contactsOnly: boolean;
  incoming: CallSession[];
  prewarms: Prewarm[];
}

let ids: Identity[];
beforeAll(() => {
  ids = [1, 2, 3, 4].map((n) => identityFromSeed(new Uint8Array(32).fill(n)));
});

async function setup(n = 2) {
  const relay = new FakeRelay();
  const peers: Peer[] = [];
  for (const id of ids.slice(0, n)) {
    const mailbox = mailboxIdOfBundle(id.bundleBytes);
    const p = { id, address: addressFromBundle(id.bundleBytes), mailbox, contacts: new Set<string>(), contactsOnly: false, incoming: [], prewarms: [] } as unknown as Peer;
    // Each device starts with empty storage (the mocked items are shared by the module).
    await storage.admissionItem.setValue({});
    await storage.blockedItem.setValue([]);
    p.store = await AdmissionStore.load();
    const isContact = (a: string) => p.contacts.has(a);
    p.manager = new CallManager({
      identity: id,
      send: async (to, env) => relay.send(mailbox, to, env),
      media: media(p.prewarms),
      iceConfig: () => ({ iceServers: [], relayOnly: false }),
      onChange: () => {},
      onIncoming: (s) => p.incoming.push(s),
      admission: {
        recvTokens: (mb) => p.store.recvTokens(mb, isContact),
        sendToken: (a) => (isContact(a) ? p.store.sendToken(a) : undefined),
        blocked: () => p.store.blocked,
        contactsOnly: () => p.contactsOnly,
        completed: (s, tokens) => void p.store.completed(s.peerAddress!, tokens, isContact(s.peerAddress!)),
      },
    });
    relay.boxes.set(mailbox, p);
    peers.push(p);
  }
  return { relay, peers };
}

/** Wait (real time) until `cond` holds: a loaded 2-core machine needs more than a fixed number of ticks. */
async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const connect = (p: Peer) => p.manager.onMediaEvent(p.manager.current!.callId, { type: 'state', connection: 'connected', ice: 'connected', path: 'p2p' });

/** A and B are each other's contacts and have made one call: both hold tokens. */
async function befriend(a: Peer, b: Peer): Promise<void> {
  a.contacts.add(b.address);
  b.contacts.add(a.address);
  await callAndHangUp(a, b);
  expect(a.store.sendToken(b.address)).toBeDefined();
  expect(b.store.recvTokens(a.mailbox, () => true)).toHaveLength(1);
}

async function callAndHangUp(a: Peer, b: Peer): Promise<void> {
  const before = b.incoming.length;
  const call = a.manager.dial(b.address);
  await until(() => b.incoming.length > before && !!call.sas);
  a.manager.hangup();
  await until(() => b.manager.current!.state === 'ended');
}

/** A valid HELLO to `to`, made with `from`'s keys but without any admission token (a stranger's). */
function strangerHello(from: Identity, to: Peer): Uint8Array {
  return new CallerHandshake(from, parseAddress(to.address).hash).start();
}

const signsBy = (p: Peer) => signs.get(p.id) ?? 0;

afterEach(() => {
  vi.useRealTimers();
});

describe("a contact's HELLO starts the callee's media host early (issue 17)", { timeout: 60_000 }, () => {
  test("a contact's HELLO: the host starts at once, held for the handshake, and stays while the call lives", async () => {
    const { peers } = await setup(2);
    const [a, b] = peers as [Peer, Peer];
    await befriend(a, b);
    b.prewarms.length = 0;
    const before = b.incoming.length;
    a.manager.dial(b.address);
    await until(() => b.prewarms.length > 0);
    // At the HELLO, before CONFIRM: nothing rings yet.
    expect(b.incoming.length).toBe(before);
    const hold = b.prewarms[0]!;
    expect(hold.ms).toBe(TIMEOUTS.handshakeMs + 1000);
    await until(() => b.manager.current?.state === 'incoming');
    expect(hold.idle()).toBe(false); // ringing: the call needs the host
    a.manager.hangup();
    await until(() => b.manager.current!.state === 'ended');
    expect(hold.idle()).toBe(true);
    expect(b.prewarms).toHaveLength(1);
  });

  test("a stranger's HELLO starts nothing before CONFIRM, and neither does a contact's while a call is on", async () => {
    const { peers } = await setup(3);
    const [a, b, c] = peers as [Peer, Peer, Peer];
    await callAndHangUp(c, b); // a stranger's call, completed
    expect(b.prewarms).toEqual([]);
    await befriend(a, b);
    b.prewarms.length = 0;
    // B in a call with the stranger C: A's HELLO (a contact's) starts no second host.
    const before = b.incoming.length;
    c.manager.dial(b.address);
    await until(() => b.incoming.length > before);
    b.manager.accept();
    a.manager.dial(b.address);
    await until(() => a.manager.current!.state === 'ended'); // busy
    expect(b.prewarms).toEqual([]);
    c.manager.hangup();
    await until(() => b.manager.current!.state === 'ended');
  });
});

describe('admission at the callee (issue 14)', { timeout: 60_000 }, () => {
  test('a stranger flooding HELLOs from many mailboxes cannot keep a contact out; a second stranger is refused with no signature', async () => {
    const {
      relay,
      peers: [a, b, c, d],
    } = await setup(4);
    await befriend(a!, b!);

    // The flood: valid HELLOs from 20 mailboxes (a relay account each), all strangers.
    const signsBefore = signsBy(b!);
    for (let i = 0; i < 20; i++) b!.manager.onDeliver(`f100d${String(i).padStart(27, '0')}`, strangerHello(c!.id, b!));
    await until(() => signsBy(b!) - signsBefore >= ADMISSION_LIMITS.strangerSlots);
    // Strangers together get the global burst, then nothing: the rest were refused before any signature
    // (and the ones evicted by newer strangers before their turn never signed either).
    expect(b!.manager.admissionLoad.strangers).toBe(ADMISSION_LIMITS.strangerSlots);
    const floodSigns = signsBy(b!) - signsBefore;
    expect(floodSigns).toBeLessThanOrEqual(ADMISSION_LIMITS.globalBurst);

    // The contact calls during the flood: recognised by its tag, on a contact slot; it rings and connects.
    const call = a!.manager.dial(b!.address);
    await until(() => b!.incoming.length === 2 && call.state === 'ringing');
    expect(b!.manager.current!.peerAddress).toBe(a!.address);
    b!.manager.accept();
    await until(() => call.state === 'connecting');
    connect(a!);
    connect(b!);
    await until(() => call.state === 'connected' && b!.manager.current!.state === 'connected');

    // A second stranger (a real caller) during the flood: refused, no signature, no RESPONSE, no ring.
    const signsBeforeD = signsBy(b!);
    b!.manager.onDeliver(d!.mailbox, strangerHello(d!.id, b!));
    await new Promise((r) => setTimeout(r, 50));
    expect(signsBy(b!)).toBe(signsBeforeD);
    expect(relay.responses.filter((to) => to === d!.mailbox)).toHaveLength(0);
    expect(b!.incoming).toHaveLength(2);
    // 20 HELLOs cost B at most the strangers' global burst of signatures, plus one for the contact.
    expect(signsBeforeD - signsBefore).toBe(floodSigns + 1);
  });

  test('a blocked address never rings: not as a stranger, not as a contact with a token, not in contacts-only mode', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const {
      relay,
      peers: [a, b, c],
    } = await setup(3);
    await befriend(a!, b!);
    await b!.store.block(a!.address);
    await b!.store.block(c!.address);
    for (const contactsOnly of [false, true]) {
      b!.contactsOnly = contactsOnly;
      for (const caller of [a!, c!]) {
        const signsBefore = signsBy(b!);
        const responses = relay.responses.length;
        const call = caller.manager.dial(b!.address);
        await new Promise((r) => setTimeout(r, 50));
        expect(signsBy(b!)).toBe(signsBefore);
        expect(relay.responses.length).toBe(responses);
        // The caller learns nothing but "unreachable", from its own handshake timer.
        await vi.advanceTimersByTimeAsync(TIMEOUTS.handshakeMs + 100);
        await until(() => call.state === 'ended');
        expect(call.reason).toBe('unreachable');
        caller.manager.current = undefined;
      }
    }
    expect(b!.incoming).toHaveLength(1); // only the call made before the block
    expect(b!.manager.current?.peerAddress).toBe(a!.address);
  });

  test('contacts only: a stranger ends "unreachable" after the handshake timeout, a contact rings', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const {
      relay,
      peers: [a, b, c],
    } = await setup(3);
    await befriend(a!, b!);
    b!.contactsOnly = true;

    const stranger = c!.manager.dial(b!.address);
    await new Promise((r) => setTimeout(r, 50));
    expect(relay.responses.filter((to) => to === c!.mailbox)).toHaveLength(0);
    expect(stranger.state).toBe('dialing');
    await vi.advanceTimersByTimeAsync(TIMEOUTS.handshakeMs + 100);
    await until(() => stranger.state === 'ended');
    expect(stranger.reason).toBe('unreachable');

    const friend = a!.manager.dial(b!.address);
    await until(() => friend.state === 'ringing' && b!.incoming.length === 2);
    expect(b!.manager.current!.peerAddress).toBe(a!.address);

    // A contact without a token yet (never called) is a stranger to admission: refused too.
    b!.manager.hangup();
    await until(() => friend.state === 'ended');
    b!.contacts.add(c!.address);
    c!.manager.current = undefined;
    const fresh = c!.manager.dial(b!.address);
    await vi.advanceTimersByTimeAsync(TIMEOUTS.handshakeMs + 100);
    await until(() => fresh.state === 'ended');
    expect(fresh.reason).toBe('unreachable');
  });

  test('tokens rotate after each call: a new send token, the last recv tokens kept, the newest one admits', async () => {
    const {
      peers: [a, b],
    } = await setup(2);
    await befriend(a!, b!);
    // Contacts only on both sides: every later call rings only if its HELLO's tag is recognised.
    a!.contactsOnly = b!.contactsOnly = true;
    const seen: string[] = [];
    for (let i = 0; i < ADMIT_RECV_KEPT + 1; i++) {
      const send = Buffer.from(a!.store.sendToken(b!.address)!).toString('hex');
      const recv = b!.store.recvTokens(a!.mailbox, () => true).map((t) => Buffer.from(t.token).toString('hex'));
      // A's send token to B is B's newest recv token from A (one direction, a2b).
      expect(recv[0]).toBe(send);
      expect(recv).toHaveLength(Math.min(i + 1, ADMIT_RECV_KEPT));
      expect(seen).not.toContain(send);
      seen.push(send);
      // B calls A too: the other direction's tokens rotate the same way.
      await callAndHangUp(i % 2 ? b! : a!, i % 2 ? a! : b!);
    }
    // Every handshake ended and gave its slot back.
    expect(b!.manager.admissionLoad).toEqual({ contacts: 0, strangers: 0 });
  });

  test('a stranger redialling, each call completing, keeps ringing: completed handshakes are refunded', async () => {
    const {
      peers: [a, b],
    } = await setup(2);
    for (let i = 0; i < ADMISSION_LIMITS.strangerBurst + 3; i++) await callAndHangUp(a!, b!);
    expect(b!.incoming).toHaveLength(ADMISSION_LIMITS.strangerBurst + 3);
  });
});

