/**
 * Time belongs to a state (style.md §13; issue 21, point 1): for every timer
 * the session arms, arm it in one state, let it fire while its job waits on
 * the queue behind a slow job (a permission prompt in `media.start`, a relay
 * that is slow to acknowledge), move the state on before the job runs, and
 * check the job does nothing.
 *
 * Two CallManagers through an in-memory relay, as in manager.test.ts, with
 * two gates: a media start that waits, and sends that are delivered at once
 * but acknowledged only when released.
 */
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { addressFromBundle, mailboxIdOfBundle } from '../crypto/address';
import { identityFromSeed, type Identity } from '../crypto/identity';
import type { MediaPort } from '../media/port';
import type { MediaStartOptions } from '../media/types';
import { CallManager } from './manager';
import { TIMEOUTS, type CallSession } from './session';

class Gate {
  private waiting: (() => void)[] = [];
  closed = false;
  wait(): Promise<void> {
    return this.closed ? new Promise((r) => this.waiting.push(r)) : Promise.resolve();
  }
  open(): void {
    this.closed = false;
    for (const r of this.waiting.splice(0)) r();
  }
}

class GatedMedia implements MediaPort {
  readonly log: string[] = [];
  /** The permission prompt: `start` waits while it is closed. */
  readonly prompt = new Gate();
  async start(_o: MediaStartOptions) {
    await this.prompt.wait();
    this.log.push('start');
  }
  async createOffer() {
    this.log.push('offer');
    return 'v=0 offer';
  }
  async acceptOffer() {
    this.log.push('accept');
    return 'v=0 answer';
  }
  async setAnswer() {
    this.log.push('answer');
  }
  async addCandidate() {}
  async setMuted() {}
  async stop() {
    this.log.push('stop');
  }
}

interface Peer {
  address: string;
  mailbox: string;
  manager: CallManager;
  media: GatedMedia;
  /** Our sends reach the peer at once, but resolve only when this opens (a slow relay). */
  acks: Gate;
  logs: string[];
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
    const p: Peer = { address: addressFromBundle(id.bundleBytes), mailbox, media: new GatedMedia(), acks: new Gate(), logs: [] } as Omit<Peer, 'manager'> as Peer;
    p.manager = new CallManager({
      identity: id,
      send: async (to, env) => {
        const peer = boxes.get(to);
        if (!peer) return 'unreachable';
        setTimeout(() => peer.manager.onDeliver(mailbox, env), 0);
        await p.acks.wait();
        return 'sent';
      },
      media: p.media,
      iceConfig: () => ({ iceServers: [], relayOnly: false }),
      onChange: () => {},
      log: (m) => p.logs.push(m),
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
const mediaEvent = (p: Peer, ev: Parameters<CallManager['onMediaEvent']>[1]) => p.manager.onMediaEvent(current(p).callId, ev);
const connected = (p: Peer) => mediaEvent(p, { type: 'state', connection: 'connected', ice: 'connected', path: 'p2p' });
const disconnected = (p: Peer) => mediaEvent(p, { type: 'state', connection: 'disconnected', ice: 'disconnected', path: 'p2p' });
/** A job that waits on the queue: a local candidate whose send the relay is slow to acknowledge. */
async function slowJob(p: Peer) {
  p.acks.closed = true;
  mediaEvent(p, { type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 10.0.0.1 5000 typ host', sdpMid: '0' } });
  await flush(3); // once media runs, the ICE policy queues the send: let it reach the front and wait
}
const ignored = (p: Peer, timer: string) => p.logs.some((l) => l.endsWith(`${timer} timer of an earlier state ignored`));

/** A calls B, B accepts, both connected. */
async function liveCall(): Promise<[Peer, Peer]> {
  const [a, b] = setup();
  a.manager.dial(b.address);
  await flush();
  b.manager.accept();
  await flush();
  connected(a);
  connected(b);
  await flush();
  expect([current(a).state, current(b).state]).toEqual(['connected', 'connected']);
  return [a, b];
}

describe('a timer job never acts after its state moved on', () => {
  test('handshake (caller, Dialing): fires while the caller waits for its microphone prompt; the call rings on', async () => {
    const [a, b] = setup();
    a.media.prompt.closed = true; // the RESPONSE job waits in media.start
    const call = a.manager.dial(b.address);
    await flush();
    expect(current(b).state).toBe('incoming'); // B's "ringing" waits on A's queue
    expect(call.state).toBe('dialing');
    await vi.advanceTimersByTimeAsync(TIMEOUTS.handshakeMs + 100); // the handshake timer's job joins the queue
    a.media.prompt.open();
    await flush();
    expect(call.state).toBe('ringing'); // not "unreachable"
    expect(current(b).state).toBe('incoming');
    expect(ignored(a, 'handshake')).toBe(true);
  });

  test('handshake (callee, Handshaking): fires while RESPONSE waits for the relay; the call rings on', async () => {
    const [a, b] = setup();
    b.acks.closed = true; // B's HELLO job waits for the relay to acknowledge RESPONSE; CONFIRM queues behind it
    a.manager.dial(b.address);
    await flush();
    expect(b.manager.current).toBeUndefined(); // still an invisible handshake
    await vi.advanceTimersByTimeAsync(TIMEOUTS.handshakeMs + 100);
    b.acks.open();
    await flush();
    expect(current(b).state).toBe('incoming'); // not ended silently
    expect(ignored(b, 'handshake')).toBe(true);
  });

  test('ring (caller, Ringing): fires while a job waits; B accepted meanwhile, the call connects on', async () => {
    const [a, b] = setup();
    const call = a.manager.dial(b.address);
    await flush();
    expect(call.state).toBe('ringing');
    await slowJob(a);
    b.manager.accept();
    await flush();
    connected(b);
    await vi.advanceTimersByTimeAsync(TIMEOUTS.ringMs + 100);
    a.acks.open();
    await flush();
    expect(call.state).toBe('connecting'); // not "no-answer"
    expect(ignored(a, 'ring')).toBe(true);
  });

  test('ring (callee, Incoming): fires while a job waits; the person accepted meanwhile, the call goes on', async () => {
    const [a, b] = setup();
    a.manager.dial(b.address);
    await flush();
    expect(current(b).state).toBe('incoming');
    await slowJob(b);
    b.manager.accept();
    await vi.advanceTimersByTimeAsync(TIMEOUTS.ringMs + 100);
    b.acks.open();
    await flush();
    expect(current(b).state).toBe('connecting'); // not "missed"
    expect(ignored(b, 'ring')).toBe(true);
  });

  test('connect (Connecting): fires while a job waits; media connected meanwhile, the call stays up', async () => {
    const [a, b] = setup();
    const call = a.manager.dial(b.address);
    await flush();
    b.manager.accept();
    await flush();
    connected(b);
    expect(call.state).toBe('connecting');
    await slowJob(a);
    connected(a);
    await vi.advanceTimersByTimeAsync(TIMEOUTS.connectMs + 100);
    a.acks.open();
    await flush();
    expect(call.state).toBe('connected'); // not "media-failed"
    expect(ignored(a, 'connect')).toBe(true);
  });

  test('reconnect (Reconnecting): fires while a job waits; the path came back meanwhile, the call stays up', async () => {
    const [a] = await liveCall();
    disconnected(a);
    await flush();
    expect(current(a).state).toBe('reconnecting');
    await slowJob(a);
    connected(a);
    await vi.advanceTimersByTimeAsync(TIMEOUTS.reconnectMs + 100);
    a.acks.open();
    await flush();
    expect(current(a).state).toBe('connected'); // not "connection-lost"
    expect(ignored(a, 'reconnect')).toBe(true);
  });

  test('restart-after-disconnect (Reconnecting): fires while a job waits; the path came back meanwhile, no ICE restart', async () => {
    const [a] = await liveCall();
    disconnected(a);
    await flush();
    const offersBefore = a.media.log.filter((x) => x === 'offer').length;
    await slowJob(a);
    connected(a);
    await vi.advanceTimersByTimeAsync(TIMEOUTS.restartAfterDisconnectMs + 100);
    a.acks.open();
    await flush();
    expect(current(a).state).toBe('connected');
    expect(a.media.log.filter((x) => x === 'offer').length).toBe(offersBefore); // no re-offer
    expect(ignored(a, 'restart-after-disconnect')).toBe(true);
  });

  test('a timer whose state is still current does fire: the restart after a disconnect that lasts', async () => {
    const [a] = await liveCall();
    disconnected(a);
    await flush();
    const offersBefore = a.media.log.filter((x) => x === 'offer').length;
    await vi.advanceTimersByTimeAsync(TIMEOUTS.restartAfterDisconnectMs + 100);
    await flush();
    expect(a.media.log.filter((x) => x === 'offer').length).toBe(offersBefore + 1);
    await vi.advanceTimersByTimeAsync(TIMEOUTS.reconnectMs);
    await flush();
    expect(current(a)).toMatchObject({ state: 'ended', reason: 'connection-lost' });
  });
});
