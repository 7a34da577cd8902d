/**
 * Waiting for a person is a state, never a network timeout (style.md §13; issue 21, points 1,
 * 4 and 5; issue 12): the caller's HELLO waits for its microphone answer, the callee's `accept`
 * waits for its own while the caller keeps ringing (told `answering`), no timer ends a call
 * during the wait but the MIC_WAIT_MAX_MS cap, and a refused microphone is told to the other
 * side as what it is (`remote-mic-denied`), never "They hung up" or a network failure.
 *
 * Two CallManagers through an in-memory relay (as in manager.test.ts), each with a
 * microphone port the test answers for the person.
 */
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { addressFromBundle, mailboxIdOfBundle } from '../crypto/address';
import { identityFromSeed, type Identity } from '../crypto/identity';
import type { MediaPort } from '../media/port';
import { CallManager } from './manager';
import { TIMEOUTS, type CallSession, type MicAnswer } from './session';
import { MIC_WAIT_MAX_MS } from './state';

class Media implements MediaPort {
  readonly log: string[] = [];
  async start() {
    this.log.push('start');
  }
  async createOffer() {
    return 'v=0 offer';
  }
  async acceptOffer() {
    this.log.push('accept-offer');
    return 'v=0 answer';
  }
  async setAnswer() {}
  async addCandidate() {}
  async setMuted() {}
  async stop() {}
}

/** The person in front of the prompt: `answer` settles the pending question. */
class Person {
  asked = 0;
  /** Already allowed: the port answers at once without asking. */
  allowed = false;
  private pending?: (a: MicAnswer) => void;
  port = (_s: CallSession, asking: () => void): Promise<MicAnswer> => {
    if (this.allowed) return Promise.resolve('granted');
    this.asked++;
    asking();
    return new Promise((r) => (this.pending = r));
  };
  answer(a: MicAnswer) {
    this.pending?.(a);
    this.pending = undefined;
  }
}

interface Peer {
  address: string;
  manager: CallManager;
  media: Media;
  person: Person;
  /** Control-bearing envelopes this peer sent. */
  sent: number;
  ended: CallSession[];
}

let ids: Identity[];
beforeAll(() => {
  ids = [1, 2].map((n) => identityFromSeed(new Uint8Array(32).fill(n)));
});
afterEach(() => {
  vi.useRealTimers();
});

function setup(): [Peer, Peer] {
  vi.useFakeTimers({ shouldAdvanceTime: true });
  const boxes = new Map<string, Peer>();
  const peers = ids.map((id) => {
    const mailbox = mailboxIdOfBundle(id.bundleBytes);
    const p = { address: addressFromBundle(id.bundleBytes), media: new Media(), person: new Person(), sent: 0, ended: [] } as Omit<Peer, 'manager'> as Peer;
    p.manager = new CallManager({
      identity: id,
      send: async (to, env) => {
        const peer = boxes.get(to);
        if (!peer) return 'unreachable';
        p.sent++;
        setTimeout(() => peer.manager.onDeliver(mailbox, env), 0);
        return 'sent';
      },
      media: p.media,
      iceConfig: () => ({ iceServers: [], relayOnly: false }),
      microphone: p.person.port,
      onChange: () => {},
      onEnded: (s) => p.ended.push(s),
    });
    boxes.set(mailbox, p);
    return p;
  });
  return [peers[0]!, peers[1]!];
}

async function flush(times = 30) {
  for (let i = 0; i < times; i++) await new Promise((r) => setTimeout(r, 1));
}
const current = (p: Peer): CallSession => p.manager.current!;
const connected = (p: Peer) => p.manager.onMediaEvent(current(p).callId, { type: 'state', connection: 'connected', ice: 'connected', path: 'p2p' });
/** Longer than every network timer the session has, shorter than the cap. */
const LONG_WAIT = 4 * 60_000;

describe('the caller waits for its microphone before HELLO', () => {
  test('nothing is sent and nothing rings while the prompt is open; no timer acts; Allow dials', async () => {
    const [a, b] = setup();
    const call = a.manager.dial(b.address);
    await flush();
    expect(call.state).toBe('dial-waiting-mic');
    expect(call.askingMic).toBe(true);
    expect(a.sent).toBe(0);
    expect(b.manager.current).toBeUndefined();
    await vi.advanceTimersByTimeAsync(LONG_WAIT);
    expect(call.state).toBe('dial-waiting-mic');
    a.person.answer('granted');
    await flush();
    expect(call.askingMic).toBe(false);
    expect(call.state).toBe('ringing');
    expect(current(b).state).toBe('incoming');
  });

  test('already allowed: no question, HELLO at once', async () => {
    const [a, b] = setup();
    a.person.allowed = true;
    const call = a.manager.dial(b.address);
    await flush();
    expect(a.person.asked).toBe(0);
    expect(call.state).toBe('ringing');
    expect(current(b).state).toBe('incoming');
  });

  for (const answer of ['denied', 'closed'] as const) {
    test(`${answer}: ends "mic-denied" here, nothing ever sent, nothing rings there`, async () => {
      const [a, b] = setup();
      const call = a.manager.dial(b.address);
      await flush();
      a.person.answer(answer);
      await flush();
      expect(call).toMatchObject({ state: 'ended', reason: 'mic-denied' });
      expect(a.sent).toBe(0);
      expect(b.manager.current).toBeUndefined();
    });
  }

  test('hang up while the prompt is open: cancelled; a late Allow sends nothing', async () => {
    const [a, b] = setup();
    const call = a.manager.dial(b.address);
    await flush();
    a.manager.hangup();
    await flush();
    expect(call).toMatchObject({ state: 'ended', reason: 'cancelled' });
    a.person.answer('granted');
    await flush();
    expect(a.sent).toBe(0);
    expect(b.manager.current).toBeUndefined();
  });

  test('the cap: a prompt left open MIC_WAIT_MAX_MS ends "mic-denied", nothing sent', async () => {
    const [a, b] = setup();
    const call = a.manager.dial(b.address);
    await vi.advanceTimersByTimeAsync(MIC_WAIT_MAX_MS + 1000);
    await flush();
    expect(call).toMatchObject({ state: 'ended', reason: 'mic-denied' });
    expect(a.sent).toBe(0);
    expect(b.manager.current).toBeUndefined();
  });
});

describe("the callee's Accept waits for its microphone; the caller keeps ringing", () => {
  async function ringing(): Promise<[Peer, Peer]> {
    const [a, b] = setup();
    a.person.allowed = true;
    a.manager.dial(b.address);
    await flush();
    expect(current(a).state).toBe('ringing');
    expect(current(b).state).toBe('incoming');
    b.manager.accept();
    await flush();
    return [a, b];
  }

  test('answering: the caller is told, no ring/connect timer ends either side; Allow connects', async () => {
    const [a, b] = await ringing();
    expect(current(b).state).toBe('answer-waiting-mic');
    expect(current(b).askingMic).toBe(true);
    expect(current(a).state).toBe('peer-waiting-mic');
    expect(b.media.log).not.toContain('start');
    await vi.advanceTimersByTimeAsync(LONG_WAIT); // > ring 45 s, handshake 15 s, connect 20 s
    expect([current(a).state, current(b).state]).toEqual(['peer-waiting-mic', 'answer-waiting-mic']);
    b.person.answer('granted');
    await flush();
    expect([current(a).state, current(b).state]).toEqual(['connecting', 'connecting']);
    expect(b.media.log).toContain('accept-offer');
    connected(a);
    connected(b);
    await flush();
    expect([current(a).state, current(b).state]).toEqual(['connected', 'connected']);
  });

  test('already allowed: straight to connecting, the caller never sees "answering"', async () => {
    const [a, b] = setup();
    a.person.allowed = true;
    b.person.allowed = true;
    a.manager.dial(b.address);
    await flush();
    b.manager.accept();
    await flush();
    expect(b.person.asked).toBe(0);
    expect([current(a).state, current(b).state]).toEqual(['connecting', 'connecting']);
  });

  for (const answer of ['denied', 'closed'] as const) {
    test(`${answer}: the callee ends "mic-denied", the caller "remote-mic-denied" (not hung up, not network)`, async () => {
      const [a, b] = await ringing();
      b.person.answer(answer);
      await flush();
      expect(current(b)).toMatchObject({ state: 'ended', reason: 'mic-denied' });
      expect(current(a)).toMatchObject({ state: 'ended', reason: 'remote-mic-denied' });
    });
  }

  test('the cap: after MIC_WAIT_MAX_MS both end on the microphone, not on a network reason', async () => {
    const [a, b] = await ringing();
    await vi.advanceTimersByTimeAsync(MIC_WAIT_MAX_MS + 1000);
    await flush();
    expect(current(b)).toMatchObject({ state: 'ended', reason: 'mic-denied' });
    expect(current(a)).toMatchObject({ state: 'ended', reason: 'remote-mic-denied' });
  });

  test('the caller hangs up during the prompt: the callee ends "remote-hangup"; a late Allow sends no accept', async () => {
    const [a, b] = await ringing();
    a.manager.hangup();
    await flush();
    expect(current(a)).toMatchObject({ state: 'ended', reason: 'cancelled' });
    expect(current(b)).toMatchObject({ state: 'ended', reason: 'remote-hangup' });
    const sent = b.sent;
    b.person.answer('granted');
    await flush();
    expect(b.sent).toBe(sent);
    expect(b.media.log).not.toContain('start');
  });

  test('the callee hangs up during its prompt: the caller ends "declined"', async () => {
    const [a, b] = await ringing();
    b.manager.hangup();
    await flush();
    expect(current(b)).toMatchObject({ state: 'ended', reason: 'declined-local' });
    expect(current(a)).toMatchObject({ state: 'ended', reason: 'declined' });
  });

  test('timers armed before the wait (ring) do not act during it', () => {
    expect(LONG_WAIT).toBeGreaterThan(Math.max(TIMEOUTS.ringMs, TIMEOUTS.handshakeMs, TIMEOUTS.connectMs, TIMEOUTS.reconnectMs));
    expect(LONG_WAIT).toBeLessThan(MIC_WAIT_MAX_MS);
  });
});
