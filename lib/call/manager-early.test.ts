/**
 * Issue 17, a faster start: the caller's media started at dial, beside the handshake, and the
 * callee's prepared at ring before the offer is here. Two real CallManagers and real crypto
 * through an in-memory relay that records every envelope (type and order), with a media engine
 * that records every request in one timeline shared with the envelopes: "nothing leaves before
 * CONFIRM" and "no microphone before CONFIRM" are read from that order, not inferred.
 */
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { identityFromSeed, type Identity } from '../crypto/identity';
import { addressFromBundle, mailboxIdOfBundle } from '../crypto/address';
import { EnvelopeType, parseEnvelope } from '../crypto/envelope-format';
import { CallManager } from './manager';
import type { MediaPort } from './session';
import { TIMEOUTS } from './session';
import type { MediaPrestartOptions, MediaStartOptions } from '../media/types';

const TYPE_NAME: Record<number, string> = {
  [EnvelopeType.Hello]: 'HELLO',
  [EnvelopeType.Response]: 'RESPONSE',
  [EnvelopeType.Confirm]: 'CONFIRM',
  [EnvelopeType.Reveal]: 'REVEAL',
  [EnvelopeType.Sealed]: 'sealed',
};

/** A gate a test opens: what waits on it resumes then. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

/** The media engine of Chrome's offscreen document as the session sees it: every port, scripted. */
class EarlyMedia implements MediaPort {
  constructor(
    private readonly who: string,
    private readonly timeline: string[],
  ) {}
  prestarted?: MediaPrestartOptions;
  started?: MediaStartOptions;
  keys?: { send: Uint8Array; recv: Uint8Array };
  /** Set: prestart / start wait for it (a slow media host). */
  slowStart?: Promise<void>;
  failPrestart?: { code: string };
  failOffer?: { code: string };
  failMic?: { code: string };
  private note(x: string) {
    this.timeline.push(`${this.who} ${x}`);
  }
  get log(): string[] {
    return this.timeline.filter((x) => x.startsWith(`${this.who} `) && !x.startsWith(`${this.who} sent`)).map((x) => x.slice(this.who.length + 1));
  }
  async prestart(o: MediaPrestartOptions) {
    this.note('prestart');
    await this.slowStart;
    if (this.failPrestart) throw Object.assign(new Error('media'), this.failPrestart);
    this.prestarted = { ...o };
  }
  async setKeys(_id: string, send: Uint8Array, recv: Uint8Array) {
    this.keys = { send: send.slice(), recv: recv.slice() };
    this.note('keys');
  }
  async start(o: MediaStartOptions) {
    await this.slowStart;
    this.started = { ...o, sendFrameSecret: o.sendFrameSecret.slice(), recvFrameSecret: o.recvFrameSecret.slice() };
    this.note('start');
  }
  async createOffer() {
    if (this.failOffer) throw Object.assign(new Error('offer'), this.failOffer);
    this.note('offer');
    return 'v=0 offer';
  }
  async acceptOffer(_id: string, sdp: string) {
    this.note(`accept:${sdp}`);
    return 'v=0 answer';
  }
  async setAnswer(_id: string, sdp: string) {
    this.note(`answer:${sdp}`);
  }
  async addCandidate() {
    this.note('cand');
  }
  async setMuted(_id: string, m: boolean) {
    // As the real host: no engine yet (a prestart still being made), no call to mute.
    if (!this.prestarted && !this.started) throw Object.assign(new Error('no call'), { code: 'ERR_NO_CALL' });
    this.note(`mute:${m}`);
  }
  async useMicrophone() {
    if (this.failMic) throw Object.assign(new Error('mic'), this.failMic);
    this.note('mic');
  }
  async stop() {
    this.note('stop');
  }
}

/** Chrome's port without the early start (Firefox's call window has neither): media starts after CONFIRM. */
function preparingMedia(who: string, timeline: string[]): EarlyMedia {
  return Object.assign(new EarlyMedia(who, timeline), { prestart: undefined, setKeys: undefined }) as unknown as EarlyMedia;
}

interface Peer {
  id: Identity;
  address: string;
  mailbox: string;
  manager: CallManager;
  media: EarlyMedia;
}

let ids: Identity[];
beforeAll(() => {
  ids = [1, 2].map((n) => identityFromSeed(new Uint8Array(32).fill(n)));
});

interface World {
  a: Peer;
  b: Peer;
  /** Both sides' media requests and every envelope sent ("A sent CONFIRM"), in order. */
  timeline: string[];
  inFlight: number;
  /** Drop (return false) or pass an envelope on its way. */
  filter?: (from: 'A' | 'B', type: string) => boolean;
  /** Privacy mode as the settings say now (a person may switch it during the dial). */
  relayOnly: boolean;
}
let world: World | undefined;

function setup(opts: { relayOnly?: boolean; callee?: 'preparing' } = {}): World {
  const timeline: string[] = [];
  const w = { timeline, inFlight: 0, relayOnly: !!opts.relayOnly } as World;
  const boxes = new Map<string, Peer>();
  const peers = ids.map((id, i) => {
    const who = i === 0 ? 'A' : 'B';
    const mailbox = mailboxIdOfBundle(id.bundleBytes);
    const media = i === 1 && opts.callee === 'preparing' ? preparingMedia(who, timeline) : new EarlyMedia(who, timeline);
    const p = { id, address: addressFromBundle(id.bundleBytes), mailbox, media } as Peer;
    p.manager = new CallManager({
      identity: id,
      send: async (to, env) => {
        const type = TYPE_NAME[parseEnvelope(env).type]!;
        timeline.push(`${who} sent ${type}`);
        const peer = boxes.get(to);
        if (!peer) return 'unreachable';
        if (w.filter && !w.filter(who, type)) return 'sent';
        w.inFlight++;
        setTimeout(() => {
          w.inFlight--;
          peer.manager.onDeliver(mailbox, env);
        }, 0);
        return 'sent';
      },
      media,
      iceConfig: () => ({ iceServers: [{ urls: 'turn:relay.example:3478', username: 'u', credential: 'c' }], relayOnly: w.relayOnly }),
      onChange: () => {},
      onIncoming: () => {},
      onEnded: () => {},
    });
    boxes.set(mailbox, p);
    return p;
  });
  w.a = peers[0]!;
  w.b = peers[1]!;
  world = w;
  return w;
}

/** Until nothing is in flight and both queues are idle, three ticks in a row. */
async function flush(): Promise<void> {
  for (let quiet = 0, ticks = 0; quiet < 3; ticks++) {
    if (ticks > 20_000) throw new Error('flush: the calls never went quiet');
    await new Promise((r) => setTimeout(r, 1));
    await Promise.all([world!.a.manager.settled(), world!.b.manager.settled()]);
    quiet = world!.inFlight > 0 ? 0 : quiet + 1;
  }
}

const hostCand = (ip: string) => ({ type: 'candidate' as const, candidate: { candidate: `candidate:1 1 udp 1 ${ip} 5000 typ host`, sdpMid: '0' } });
const at = (w: World, entry: string) => w.timeline.indexOf(entry);

afterEach(() => {
  vi.useRealTimers();
  world = undefined;
});

describe('the caller starts its media at dial (issue 17)', () => {
  test('made at dial, held until CONFIRM: no sealed message, candidate, key or microphone before it', async () => {
    const w = setup();
    const call = w.a.manager.dial(w.b.address);
    // Gathered before the handshake is done: a candidate of A's while it runs.
    w.a.manager.onMediaEvent(call.callId, hostCand('192.0.2.1'));
    await flush();
    expect(call.state).toBe('ringing');
    const confirm = at(w, 'A sent CONFIRM');
    expect(at(w, 'A prestart')).toBeGreaterThanOrEqual(0);
    expect(at(w, 'A prestart')).toBeLessThan(at(w, 'A sent HELLO')); // at dial, not after the handshake
    // Nothing of the call's media leaves, no key reaches the worker, no microphone before CONFIRM.
    const firstSealed = w.timeline.findIndex((x) => x === 'A sent sealed');
    expect(confirm).toBeGreaterThan(0);
    expect(firstSealed).toBeGreaterThan(confirm);
    expect(at(w, 'A keys')).toBeGreaterThan(confirm);
    expect(at(w, 'A keys')).toBeLessThan(firstSealed);
    expect(at(w, 'A mic')).toBeGreaterThan(confirm);
    // After CONFIRM: keys, then the offer and the held candidate (two sealed), then the microphone.
    expect(w.a.media.log).toEqual(['prestart', 'offer', 'keys', 'mic']);
    expect(w.timeline.filter((x) => x === 'A sent sealed').length).toBeGreaterThanOrEqual(2);
    expect(at(w, 'A mic')).toBeGreaterThan(firstSealed);
    // The held candidate leaves before the microphone opens (it does not wait for the device).
    expect(w.timeline.slice(0, at(w, 'A mic')).filter((x) => x === 'A sent sealed').length).toBeGreaterThanOrEqual(2);
    expect(w.a.media.prestarted).toMatchObject({ callId: call.callId, role: 'caller', relayOnly: false });
    expect(w.a.media.prestarted!.iceServers[0]).toMatchObject({ username: 'u', credential: 'c' });

    // B prepared at ring; the call connects with the keys A got at CONFIRM, mirrored.
    expect(w.b.media.log).toEqual(['start', 'accept:v=0 offer']);
    w.b.manager.accept();
    await flush();
    expect(w.b.media.log).toEqual(['start', 'accept:v=0 offer', 'cand', 'mic']); // A's held candidate reached B
    expect(w.a.media.log).toEqual(['prestart', 'offer', 'keys', 'mic', 'answer:v=0 answer']);
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    expect(hex(w.a.media.keys!.send)).toBe(hex(w.b.media.started!.recvFrameSecret));
    expect(hex(w.a.media.keys!.recv)).toBe(hex(w.b.media.started!.sendFrameSecret));
  });

  test('privacy mode: the early start gathers relay only from the first moment', async () => {
    const w = setup({ relayOnly: true });
    w.a.manager.dial(w.b.address);
    await flush();
    expect(w.a.media.prestarted).toMatchObject({ relayOnly: true });
  });

  test('a handshake that fails closes the early media: no key, no microphone, nothing sealed sent', async () => {
    const w = setup();
    w.filter = (from, type) => !(from === 'B' && type === 'RESPONSE'); // B's RESPONSE never comes
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], shouldAdvanceTime: true });
    const call = w.a.manager.dial(w.b.address);
    await flush();
    expect(w.a.media.log).toEqual(['prestart', 'offer']);
    await vi.advanceTimersByTimeAsync(TIMEOUTS.handshakeMs + 1_000);
    await flush();
    expect(call.state).toBe('ended');
    expect(w.a.media.log).toEqual(['prestart', 'offer', 'stop']);
    expect(w.timeline).not.toContain('A sent sealed');
  });

  test('a RESPONSE that does not check out: the early media stops, no CONFIRM, no key', async () => {
    const w = setup();
    const call = w.a.manager.dial(w.b.address);
    // Flip a byte of B's RESPONSE on its way in (its signature check fails).
    const deliver = w.a.manager.onDeliver.bind(w.a.manager);
    w.a.manager.onDeliver = (from: string, env: Uint8Array) => {
      if (parseEnvelope(env).type !== EnvelopeType.Response) return deliver(from, env);
      const t = env.slice();
      t[t.length - 10]! ^= 0x01;
      return deliver(from, t);
    };
    await flush();
    expect(call).toMatchObject({ state: 'ended', reason: 'handshake-failed' });
    expect(w.a.media.log).toEqual(['prestart', 'offer', 'stop']);
    expect(w.timeline).not.toContain('A sent CONFIRM');
    expect(w.timeline).not.toContain('A sent sealed');
  });

  test('cancelled while the media host is still starting: the engine it makes is stopped', async () => {
    const w = setup();
    const slow = gate();
    w.a.media.slowStart = slow.wait;
    const call = w.a.manager.dial(w.b.address);
    w.a.manager.hangup();
    await flush();
    expect(call).toMatchObject({ state: 'ended' });
    slow.open();
    await flush();
    // A stop after the close (which came before the engine existed), no offer, no key, no microphone.
    expect(w.a.media.log.at(-1)).toBe('stop');
    expect(w.a.media.log).not.toContain('keys');
    expect(w.a.media.log).not.toContain('mic');
    expect(w.timeline).not.toContain('A sent sealed');
  });

  test('an early start that failed before the microphone check answered: the call ends, no HELLO (nothing rings at the callee)', async () => {
    const w = setup();
    w.a.media.failPrestart = { code: 'ERR_WEBRTC' };
    const call = w.a.manager.dial(w.b.address);
    await flush();
    expect(call).toMatchObject({ state: 'ended', reason: 'media-failed' });
    expect(w.timeline).not.toContain('A sent HELLO');
    expect(w.b.manager.inCall).toBe(false);
    expect(w.a.media.log).not.toContain('keys');
    expect(w.a.media.log).not.toContain('mic');
  });

  test('an early start whose failure is known when RESPONSE arrives: the call ends without CONFIRM (the callee never rings)', async () => {
    const w = setup();
    const slow = gate();
    w.a.media.slowStart = slow.wait;
    w.a.media.failPrestart = { code: 'ERR_WEBRTC' };
    // The media host's failure lands after HELLO left, before RESPONSE is read.
    w.filter = (from, type) => {
      if (from === 'B' && type === 'RESPONSE') slow.open();
      return true;
    };
    const call = w.a.manager.dial(w.b.address);
    await flush();
    expect(call).toMatchObject({ state: 'ended', reason: 'media-failed' });
    expect(w.timeline).toContain('A sent HELLO');
    expect(w.timeline).not.toContain('A sent CONFIRM');
    expect(w.timeline).not.toContain('B sent REVEAL');
  });

  test('an early start that fails after its engine exists (the offer throws): the engine is stopped, the call ends at CONFIRM', async () => {
    const w = setup();
    w.a.media.failOffer = { code: 'ERR_WEBRTC' };
    const call = w.a.manager.dial(w.b.address);
    await flush();
    expect(call).toMatchObject({ state: 'ended', reason: 'media-failed' });
    // The engine made at dial (its connection, worker, document use) is stopped, not left to the next call.
    expect(w.a.media.log[0]).toBe('prestart');
    expect(w.a.media.log).toContain('stop');
    expect(w.a.media.log).not.toContain('keys');
    expect(w.a.media.log).not.toContain('mic');
  });

  test('privacy mode switched on between the dial and CONFIRM: what the dial gathered is dropped, the media starts relay-only', async () => {
    const w = setup();
    const call = w.a.manager.dial(w.b.address);
    // Gathered at dial with privacy mode off: a host candidate (A's address), held.
    w.a.manager.onMediaEvent(call.callId, hostCand('192.0.2.1'));
    w.relayOnly = true; // the person turns privacy mode on while the handshake runs
    await flush();
    expect(call.state).toBe('ringing');
    expect(w.a.media.prestarted).toMatchObject({ relayOnly: false });
    // The early engine stopped before the new start; the new one is relay-only and gets the keys in its start.
    const log = w.a.media.log;
    expect(log.slice(0, 4)).toEqual(['prestart', 'offer', 'stop', 'start']);
    expect(w.a.media.started).toMatchObject({ relayOnly: true });
    expect(log).not.toContain('keys');
    // A late candidate of the dropped engine, after CONFIRM, goes through the relay-only policy: withheld.
    w.a.manager.onMediaEvent(call.callId, hostCand('192.0.2.2'));
    await flush();
    // B got the offer, and no candidate at all: the held host candidate never left, nor the late one.
    w.b.manager.accept();
    await flush();
    expect(w.b.media.log).toContain('accept:v=0 offer');
    expect(w.b.media.log).not.toContain('cand');
  });

  test('muted while the dial is still making the engine: the engine hears of it before the microphone replaces the silence', async () => {
    const w = setup();
    const slow = gate();
    w.a.media.slowStart = slow.wait;
    w.a.manager.dial(w.b.address);
    w.a.manager.setMuted(true); // the host has no call yet: this mute reaches nobody
    slow.open();
    await flush();
    const log = w.a.media.log;
    expect(log).toContain('mic');
    expect(log.indexOf('mute:true')).toBeGreaterThanOrEqual(0);
    expect(log.indexOf('mute:true')).toBeLessThan(log.indexOf('mic'));
  });

  test("a microphone that fails after CONFIRM ends the call ('no-microphone')", async () => {
    const w = setup();
    w.a.media.failMic = { code: 'ERR_NO_MICROPHONE' };
    const call = w.a.manager.dial(w.b.address);
    await flush();
    expect(call).toMatchObject({ state: 'ended', reason: 'no-microphone' });
    expect(w.a.media.log.at(-1)).toBe('stop');
  });
});

describe('the callee prepares at ring (issue 17)', () => {
  test("it rings before the caller's offer is here: the media starts at ring, the offer is answered when it comes, nothing sent", async () => {
    const w = setup({ callee: 'preparing' });
    const slow = gate();
    w.a.media.slowStart = slow.wait; // A's early start is slow: its offer leaves late
    const call = w.a.manager.dial(w.b.address);
    // Not flush(): A's queue waits for its media at CONFIRM (the gate) meanwhile.
    await vi.waitFor(() => expect(w.b.media.log).toEqual(['start']), { timeout: 4_000 });
    await w.b.manager.settled();
    expect(w.b.manager.current!.state).toBe('incoming');
    expect(w.b.media.log).toEqual(['start']); // ready before the offer, no microphone
    expect(w.b.media.started!.deferMicrophone).toBe(true);
    slow.open();
    await flush();
    expect(w.b.media.log).toEqual(['start', 'accept:v=0 offer']);
    expect(w.timeline.filter((x) => x.startsWith('B sent')).every((x) => x === 'B sent RESPONSE' || x === 'B sent REVEAL' || x === 'B sent sealed')).toBe(true);
    // Only B's 'ringing' is sealed before Accept: no answer, no candidate.
    expect(w.timeline.filter((x) => x === 'B sent sealed')).toHaveLength(1);
    w.b.manager.accept();
    await flush();
    expect(w.b.media.log).toEqual(['start', 'accept:v=0 offer', 'mic']);
    expect(w.a.media.log.at(-1)).toBe('answer:v=0 answer');
    expect(call.state).toBe('connecting');
  });

  test('a HELLO that is never confirmed starts nothing at the callee (no media host, no TURN allocation)', async () => {
    const w = setup();
    w.filter = (from, type) => !(from === 'A' && type === 'CONFIRM');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], shouldAdvanceTime: true });
    w.a.manager.dial(w.b.address);
    await flush();
    await vi.advanceTimersByTimeAsync(TIMEOUTS.handshakeMs + 1_000);
    await flush();
    expect(w.b.media.log).toEqual([]);
  });
});
