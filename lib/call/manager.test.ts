/**
 * The call flow in one process: two (or three) CallManagers wired through an
 * in-memory relay that routes envelopes by mailbox, with a scripted media
 * engine. The real relay, browsers and media engine are exercised by the
 * browser E2E tests (tests/e2e/call.test.ts); this pins the state machine
 * and the signalling between two real crypto stacks.
 */
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { identityFromSeed, type Identity } from '../crypto/identity';
import { addressFromBundle, mailboxIdOfBundle } from '../crypto/address';
import { CallManager, type ManagerPorts } from './manager';
import type { MediaPort } from './session';
import type { MediaStartOptions } from '../media/types';
import type { CallSession } from './session';
import { TIMEOUTS } from './session';

class FakeRelay {
  readonly boxes = new Map<string, Peer>();
  tamper?: (env: Uint8Array) => Uint8Array;
  /** Envelopes sent and not yet delivered. */
  inFlight = 0;
  send(from: string, to: string, env: Uint8Array): 'sent' | 'unreachable' {
    const peer = this.boxes.get(to);
    if (!peer) return 'unreachable';
    const bytes = this.tamper ? this.tamper(env) : env;
    this.inFlight++;
    setTimeout(() => {
      this.inFlight--;
      peer.manager.onDeliver(from, bytes);
    }, 0);
    return 'sent';
  }
}

class ScriptedMedia implements MediaPort {
  started?: MediaStartOptions;
  failStart?: { code: string };
  log: string[] = [];
  async start(o: MediaStartOptions) {
    if (this.failStart) throw Object.assign(new Error('media'), this.failStart);
    this.started = { ...o, sendFrameSecret: o.sendFrameSecret.slice(), recvFrameSecret: o.recvFrameSecret.slice() };
    this.log.push('start');
  }
  /** Like RTCPeerConnection.signalingState: an answer is only valid right after our offer. */
  signaling: 'stable' | 'have-local-offer' = 'stable';
  async createOffer() {
    this.log.push('offer');
    this.signaling = 'have-local-offer';
    return 'v=0 offer';
  }
  async acceptOffer(_id: string, sdp: string) {
    this.log.push(`accept:${sdp}`);
    return 'v=0 answer';
  }
  async setAnswer(_id: string, sdp: string) {
    if (this.signaling !== 'have-local-offer') throw Object.assign(new Error('InvalidStateError'), { code: 'ERR_WEBRTC' });
    this.signaling = 'stable';
    this.log.push(`answer:${sdp}`);
  }
  async addCandidate() {
    this.log.push('cand');
  }
  async setMuted(_id: string, m: boolean) {
    this.log.push(`mute:${m}`);
  }
  async stop() {
    this.log.push('stop');
  }
}

/** A media host that can prepare a call before Accept (Chrome's offscreen document; issue 17). */
class PreparingMedia extends ScriptedMedia {
  async useMicrophone() {
    this.log.push('mic');
  }
}

interface Peer {
  id: Identity;
  address: string;
  mailbox: string;
  manager: CallManager;
  media: ScriptedMedia;
  incoming: CallSession[];
  ended: { s: CallSession; busy: boolean }[];
}

let ids: Identity[];
beforeAll(() => {
  ids = [1, 2, 3].map((n) => identityFromSeed(new Uint8Array(32).fill(n)));
});

/** The relay and peers of the running test, for flush(). */
let world: { relay: FakeRelay; peers: Peer[] } | undefined;

function setup(n = 2, more: ((i: number) => Partial<ManagerPorts>) | { prepare?: boolean } = () => ({})) {
  const opts = typeof more === 'function' ? {} : more;
  const extra = typeof more === 'function' ? more : () => ({});
  const relay = new FakeRelay();
  const peers = ids.slice(0, n).map((id, i) => {
    const mailbox = mailboxIdOfBundle(id.bundleBytes);
    const media = opts.prepare ? new PreparingMedia() : new ScriptedMedia();
    const p = { id, address: addressFromBundle(id.bundleBytes), mailbox, media, incoming: [], ended: [] } as unknown as Peer;
    const ports: ManagerPorts = {
      identity: id,
      send: async (to, env) => relay.send(mailbox, to, env),
      media,
      iceConfig: () => ({ iceServers: [], relayOnly: false }),
      onChange: () => {},
      onIncoming: (s) => p.incoming.push(s),
      onEnded: (s, busy) => p.ended.push({ s, busy }),
      ...extra(i),
    };
    p.manager = new CallManager(ports);
    relay.boxes.set(mailbox, p);
    return p;
  });
  world = { relay, peers };
  return { relay, peers };
}

/** Let every queued envelope and session job run. */
async function flush(): Promise<void> {
  // Until nothing is in flight and every session's queue is idle, three ticks in a row (the
  // handshake's crypto takes real time, more on a loaded machine: a fixed count of ticks flaked).
  for (let quiet = 0, ticks = 0; quiet < 3; ticks++) {
    if (ticks > 20_000) throw new Error('flush: the calls never went quiet');
    await new Promise((r) => setTimeout(r, 1));
    await Promise.all(world!.peers.map((p) => p.manager.settled()));
    quiet = world!.relay.inFlight > 0 ? 0 : quiet + 1;
  }
}

const connect = (p: Peer) => p.manager.onMediaEvent(p.manager.current!.callId, { type: 'state', connection: 'connected', ice: 'connected', path: 'p2p' });

afterEach(() => {
  vi.useRealTimers();
});

describe('call flow', () => {
  test('A calls B: B rings, same SAS, accept, connected, mirrored frame keys, hang up ends both', async () => {
    const { peers: [a, b] } = setup();
    const call = a!.manager.dial(b!.address);
    expect(call.state).toBe('dial-waiting-mic') // no HELLO before the microphone answer (granted at once here);
    await flush();
    expect(b!.incoming).toHaveLength(1);
    const inc = b!.manager.current!;
    expect(inc.state).toBe('incoming');
    expect(inc.peerAddress).toBe(a!.address);
    expect(call.state).toBe('ringing');
    expect(call.sas).toMatch(/^\d{3} \d{3}$/);
    expect(inc.sas).toBe(call.sas);
    // The caller gathers at once: media started and offer sent while ringing.
    expect(a!.media.log).toEqual(['start', 'offer']);
    expect(b!.media.log).toEqual([]);

    b!.manager.accept();
    await flush();
    expect(call.state).toBe('connecting');
    expect(b!.media.log).toEqual(['start', 'accept:v=0 offer']);
    expect(a!.media.log).toContain('answer:v=0 answer');
    expect(Buffer.from(a!.media.started!.sendFrameSecret).toString('hex')).toBe(Buffer.from(b!.media.started!.recvFrameSecret).toString('hex'));
    expect(Buffer.from(a!.media.started!.recvFrameSecret).toString('hex')).toBe(Buffer.from(b!.media.started!.sendFrameSecret).toString('hex'));

    connect(a!);
    connect(b!);
    await flush();
    expect(call.state).toBe('connected');
    expect(inc.state).toBe('connected');
    expect(call.path).toBe('p2p');

    a!.manager.hangup();
    await flush();
    expect(call).toMatchObject({ state: 'ended', reason: 'hangup' });
    expect(inc).toMatchObject({ state: 'ended', reason: 'remote-hangup' });
    expect(a!.media.log.at(-1)).toBe('stop');
    expect(b!.media.log.at(-1)).toBe('stop');
  });

  test('candidates trickle both ways through the sealed channel', async () => {
    const { peers: [a, b] } = setup();
    const call = a!.manager.dial(b!.address);
    await flush();
    a!.manager.onMediaEvent(call.callId, { type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 10.0.0.1 5000 typ host', sdpMid: '0' } });
    await flush();
    expect(b!.media.log).toEqual([]); // held until B accepts
    b!.manager.accept();
    await flush();
    expect(b!.media.log).toEqual(['start', 'accept:v=0 offer', 'cand']);
    b!.manager.onMediaEvent(call.callId, { type: 'candidate', candidate: null });
    await flush();
    expect(a!.media.log.filter((x) => x === 'cand')).toHaveLength(1);
  });

  test('B declines: A sees "declined", B "declined-local"', async () => {
    const { peers: [a, b] } = setup();
    const call = a!.manager.dial(b!.address);
    await flush();
    b!.manager.hangup();
    await flush();
    expect(call).toMatchObject({ state: 'ended', reason: 'declined' });
    expect(b!.manager.current).toMatchObject({ state: 'ended', reason: 'declined-local' });
  });

  test('A hangs up while ringing: A "cancelled", B "missed"', async () => {
    const { peers: [a, b] } = setup();
    const call = a!.manager.dial(b!.address);
    await flush();
    a!.manager.hangup();
    await flush();
    expect(call).toMatchObject({ state: 'ended', reason: 'cancelled' });
    expect(b!.manager.current).toMatchObject({ state: 'ended', reason: 'missed' });
  });

  test('B offline: "unreachable"', async () => {
    const { relay, peers: [a, b] } = setup();
    relay.boxes.delete(b!.mailbox);
    const call = a!.manager.dial(b!.address);
    await flush();
    expect(call).toMatchObject({ state: 'ended', reason: 'unreachable' });
  });

  test('a second call while busy is declined with "busy"', async () => {
    const { peers: [a, b, c] } = setup(3);
    b!.manager.dial(c!.address);
    await flush();
    const second = a!.manager.dial(b!.address);
    await flush();
    expect(second).toMatchObject({ state: 'ended', reason: 'busy' });
    expect(b!.ended.some((e) => e.busy)).toBe(true);
    expect(b!.manager.current!.peerAddress).toBe(c!.address); // the first call is untouched
    expect(b!.manager.current!.state).toBe('ringing');
  });

  test('nobody answers: caller "no-answer", callee "missed"', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const { peers: [a, b] } = setup();
    const call = a!.manager.dial(b!.address);
    await flush();
    expect(call.state).toBe('ringing');
    await vi.advanceTimersByTimeAsync(TIMEOUTS.ringMs + 100);
    await flush();
    expect(call).toMatchObject({ state: 'ended', reason: 'no-answer' });
    expect(b!.manager.current).toMatchObject({ state: 'ended', reason: 'missed' });
  });

  test('microphone denied at the callee: B "mic-denied", A sees the hang-up', async () => {
    const { peers: [a, b] } = setup();
    b!.media.failStart = { code: 'ERR_MIC_DENIED' };
    const call = a!.manager.dial(b!.address);
    await flush();
    b!.manager.accept();
    await flush();
    expect(b!.manager.current).toMatchObject({ state: 'ended', reason: 'mic-denied' });
    expect(call).toMatchObject({ state: 'ended', reason: 'remote-hangup' });
  });

  test('a relay that tampers with the handshake: "handshake-failed", no call rings', async () => {
    const { relay, peers: [a, b] } = setup();
    relay.tamper = (env) => {
      if (env[1] !== 0x02) return env; // RESPONSE
      const t = env.slice();
      t[40]! ^= 1;
      return t;
    };
    const call = a!.manager.dial(b!.address);
    await flush();
    expect(call).toMatchObject({ state: 'ended', reason: 'handshake-failed' });
    expect(b!.incoming).toHaveLength(0);
  });

  test('envelopes from another mailbox than the peer are ignored', async () => {
    const { peers: [a, b, c] } = setup(3);
    const call = a!.manager.dial(b!.address);
    await flush();
    // C replays what it could capture into A's call from its own mailbox: ignored.
    const inc = b!.manager.current!;
    inc.hangup = inc.hangup.bind(inc);
    a!.manager.onDeliver(c!.mailbox, new Uint8Array([1, 0x10, ...Buffer.from(call.callId, 'hex'), 0, 0, 0, 9, ...new Uint8Array(30)]));
    await flush();
    expect(call.state).toBe('ringing');
  });

  test('refuses typos, calling yourself, and a second dial in a call', async () => {
    const { peers: [a, b] } = setup();
    expect(() => a!.manager.dial(a!.address.slice(0, -1) + (a!.address.endsWith('q') ? 'p' : 'q'))).toThrowError(/typo|checksum/);
    expect(() => a!.manager.dial(a!.address)).toThrowError(/own address/);
    a!.manager.dial(b!.address);
    expect(() => a!.manager.dial(b!.address)).toThrowError(/already in a call/);
  });

  test('restarts asked for while an offer is unanswered wait their turn: no answer is ever applied out of turn', async () => {
    const { peers: [a, b] } = setup();
    const call = a!.manager.dial(b!.address);
    await flush();
    b!.manager.accept();
    await flush();
    connect(a!);
    connect(b!);
    await flush();
    const inc = b!.manager.current!;
    inc.restartIce(true);
    inc.restartIce(true);
    call.restartIce(false);
    await flush();
    const answers = a!.media.log.filter((x) => x.startsWith('answer:'));
    const offers = a!.media.log.filter((x) => x === 'offer');
    expect(offers.length).toBe(answers.length); // every offer answered once, in turn
    expect(offers.length).toBeGreaterThanOrEqual(2);
    expect(call.state).toBe('connected');
    expect(inc.state).toBe('connected');
  });

  test('mute reaches the media engine', async () => {
    const { peers: [a, b] } = setup();
    a!.manager.dial(b!.address);
    await flush();
    a!.manager.setMuted(true);
    await flush();
    expect(a!.media.log).toContain('mute:true');
    expect(a!.manager.current!.muted).toBe(true);
  });
});

describe('relays in the handshake (issue 15)', () => {
  const R = ['wss://r1.example:443/signal', 'wss://r2.example:443/signal'];
  test("each side learns the relays the other signed: the caller's from CONFIRM, the callee's from RESPONSE", async () => {
    const { peers: [a, b] } = setup(2, (i) => ({ relays: () => [R[i]!] }));
    const call = a!.manager.dial(b!.address);
    await flush();
    expect(call.peerRelays).toEqual([R[1]]);
    expect(b!.manager.current!.peerRelays).toEqual([R[0]]);
    a!.manager.hangup();
    await flush();
  });

  test("none of the callee's relays takes the HELLO (ERR_PEER_RELAYS): the call ends peer-relays-unreachable, with a sentence", async () => {
    const { endMessage } = await import('../i18n/messages');
    const { peers: [a, b] } = setup(2, (i) =>
      i === 0 ? { send: async () => Promise.reject(Object.assign(new Error("None of this person's relays could be reached"), { code: 'ERR_PEER_RELAYS' })) } : {},
    );
    const call = a!.manager.dial(b!.address);
    await flush();
    expect(call.state).toBe('ended');
    expect(call.reason).toBe('peer-relays-unreachable');
    expect(endMessage('peer-relays-unreachable', 'en')).toMatch(/^None of their relays could be reached\. Their card may be out of date/);
    expect(b!.incoming).toHaveLength(0);
  });
});

describe('prepared before Accept (issue 17)', () => {
  const hostCand = (ip: string) => ({ type: 'candidate' as const, candidate: { candidate: `candidate:1 1 udp 1 ${ip} 5000 typ host`, sdpMid: '0' } });

  test('B builds the connection while it rings, without the microphone, and sends A nothing until Accept', async () => {
    const { peers: [a, b] } = setup(2, { prepare: true });
    const call = a!.manager.dial(b!.address);
    await flush();
    const inc = b!.manager.current!;
    expect(inc.state).toBe('incoming');
    // Prepared: media started without a microphone, the offer applied; no microphone opened.
    expect(b!.media.log).toEqual(['start', 'accept:v=0 offer']);
    expect(b!.media.started!.deferMicrophone).toBe(true);
    // Candidates both ways while it rings: B keeps its own and buffers A's; A gets nothing from B.
    b!.manager.onMediaEvent(call.callId, hostCand('192.0.2.2'));
    a!.manager.onMediaEvent(call.callId, hostCand('192.0.2.1'));
    await flush();
    expect(b!.media.log).toEqual(['start', 'accept:v=0 offer']);
    expect(a!.media.log).toEqual(['start', 'offer']);

    b!.manager.accept();
    await flush();
    // Accept: the answer; A's buffered candidate applied; B's sent after the answer; then the microphone.
    expect(b!.media.log).toEqual(['start', 'accept:v=0 offer', 'cand', 'mic']);
    expect(a!.media.log).toEqual(['start', 'offer', 'answer:v=0 answer', 'cand']);
    expect(call.state).toBe('connecting');
    connect(a!);
    connect(b!);
    await flush();
    expect(inc.state).toBe('connected');
    expect(Buffer.from(a!.media.started!.sendFrameSecret).toString('hex')).toBe(Buffer.from(b!.media.started!.recvFrameSecret).toString('hex'));
  });

  test('a declined prepared call tears its connection down: no microphone, no answer', async () => {
    const { peers: [a, b] } = setup(2, { prepare: true });
    const call = a!.manager.dial(b!.address);
    await flush();
    b!.manager.onMediaEvent(call.callId, hostCand('192.0.2.2'));
    await flush();
    b!.manager.hangup();
    await flush();
    expect(call).toMatchObject({ state: 'ended', reason: 'declined' });
    expect(b!.manager.current).toMatchObject({ state: 'ended', reason: 'declined-local' });
    expect(b!.media.log).toEqual(['start', 'accept:v=0 offer', 'stop']);
    expect(a!.media.log).toEqual(['start', 'offer', 'stop']);
  });

  test('a prepared call that rings out is torn down too (missed)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], shouldAdvanceTime: true });
    const { peers: [a, b] } = setup(2, { prepare: true });
    a!.manager.dial(b!.address);
    await flush();
    expect(b!.media.log).toEqual(['start', 'accept:v=0 offer']);
    await vi.advanceTimersByTimeAsync(TIMEOUTS.ringMs + 1_000);
    await flush();
    expect(b!.manager.current!.state).toBe('ended');
    expect(b!.media.log.at(-1)).toBe('stop');
    expect(b!.media.log).not.toContain('mic');
  });
});
