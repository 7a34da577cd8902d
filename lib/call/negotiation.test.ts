/**
 * The negotiation on its own: a scripted media port and a list of the
 * controls it sends, no crypto, no peer. Pins the offer numbering (one offer
 * in flight, restarts queued behind it), the fresh-connection debounce, the
 * callee's held offer and the one candidate buffer.
 */
import { describe, expect, test } from 'vitest';
import type { MediaPort } from '../media/port';
import type { MediaStartOptions, OfferOptions } from '../media/types';
import type { CandidateInit, Control } from './control';
import { FRESH_DEBOUNCE_MS, MAX_PENDING_CANDIDATES, Negotiation } from './negotiation';

class ScriptedMedia implements MediaPort {
  readonly log: string[] = [];
  failSetAnswer = false;
  async start(o: MediaStartOptions) {
    this.log.push(`start:${o.role}`);
  }
  async createOffer(_id: string, opts?: OfferOptions) {
    this.log.push(opts?.iceRestart ? `offer:restart${opts.relayOnly ? ':relay' : ''}${opts.fresh ? ':fresh' : ''}` : 'offer');
    return 'v=0 offer';
  }
  async acceptOffer(_id: string, sdp: string) {
    this.log.push(`accept:${sdp}`);
    return 'v=0 answer';
  }
  async setAnswer(_id: string, sdp: string) {
    if (this.failSetAnswer) throw Object.assign(new Error('InvalidStateError'), { code: 'ERR_WEBRTC' });
    this.log.push(`answer:${sdp}`);
  }
  async addCandidate(_id: string, c: CandidateInit | null) {
    this.log.push(`cand:${c ? c.candidate : 'end'}`);
  }
  async setMuted(_id: string, m: boolean) {
    this.log.push(`mute:${m}`);
  }
  async stop() {
    this.log.push('stop');
  }
}

function setup(role: 'caller' | 'callee', opts: { relayOnly?: boolean } = {}) {
  const media = new ScriptedMedia();
  const sent: Control[] = [];
  const failures: unknown[] = [];
  const jobs: (() => Promise<void>)[] = [];
  const clock = { now: 1_000_000, live: true };
  const n = new Negotiation({
    callId: 'c0ffee',
    role,
    media,
    send: async (c) => void sent.push(c),
    iceConfig: () => ({ iceServers: [], relayOnly: opts.relayOnly ?? false }),
    live: () => clock.live,
    failed: (e) => failures.push(e),
    enqueue: (job) => jobs.push(job),
    log: () => {},
    now: () => clock.now,
  });
  const start = () =>
    n.startMedia(
      { callId: 'c0ffee', role, iceServers: [], relayOnly: opts.relayOnly ?? false, sendFrameSecret: new Uint8Array(32), recvFrameSecret: new Uint8Array(32) },
      { muted: false },
    );
  /** Run what the ICE policy queued (the session's queue, here a list). */
  const runJobs = async () => {
    while (jobs.length) await jobs.shift()!();
  };
  return { n, media, sent, failures, clock, start, runJobs };
}

const offers = (sent: Control[]) => sent.filter((c): c is Extract<Control, { k: 'offer' }> => c.k === 'offer');
const cand = (i: number): CandidateInit => ({ candidate: `candidate:${i} 1 udp 1 10.0.0.${i} 5000 typ host`, sdpMid: '0' });

describe('negotiation: caller', () => {
  test('offers are numbered; only the answer to the offer in flight applies', async () => {
    const { n, media, sent, start } = setup('caller');
    await start();
    await n.firstOffer();
    expect(offers(sent).map((o) => o.n)).toEqual([1]);
    await n.onAnswer({ k: 'answer', sdp: 'v=0 late', n: 0 });
    await n.onAnswer({ k: 'answer', sdp: 'v=0 answer', n: 1 });
    await n.onAnswer({ k: 'answer', sdp: 'v=0 again', n: 1 });
    expect(media.log.filter((x) => x.startsWith('answer:'))).toEqual(['answer:v=0 answer']);
  });

  test('a restart asked for while an offer is unanswered waits for the answer, relay-only if any asked for it', async () => {
    const { n, media, sent, start } = setup('caller');
    await start();
    await n.firstOffer();
    await n.restart(false);
    await n.restart(true);
    expect(offers(sent)).toHaveLength(1); // one in flight
    await n.onAnswer({ k: 'answer', sdp: 'v=0 answer', n: 1 });
    expect(offers(sent).map((o) => [o.n, o.restart, o.relay])).toEqual([
      [1, undefined, undefined],
      [2, true, true],
    ]);
    expect(media.log).toContain('offer:restart:relay');
  });

  test('fresh connections: one per FRESH_DEBOUNCE_MS however many sides ask', async () => {
    const { n, sent, clock, start } = setup('caller');
    await start();
    await n.firstOffer();
    await n.onAnswer({ k: 'answer', sdp: 'v=0 a', n: 1 });
    await n.restart(false, true);
    await n.onAnswer({ k: 'answer', sdp: 'v=0 a', n: 2 });
    clock.now += FRESH_DEBOUNCE_MS - 1;
    await n.restart(false, true);
    expect(offers(sent)).toHaveLength(2);
    clock.now += 1;
    await n.restart(false, true);
    expect(offers(sent).map((o) => o.fresh)).toEqual([undefined, true, true]);
  });

  test('no restart before media started or once the call is no longer live', async () => {
    const { n, sent, clock, start } = setup('caller');
    await n.restart(true);
    expect(sent).toEqual([]);
    await start();
    clock.live = false;
    await n.restart(true);
    expect(sent).toEqual([]);
  });

  test('privacy mode makes every restart relay-only', async () => {
    const { n, sent, start } = setup('caller', { relayOnly: true });
    await start();
    await n.restart(false);
    expect(offers(sent)[0]).toMatchObject({ restart: true, relay: true });
  });

  test('a failed setAnswer is reported to the session', async () => {
    const { n, media, failures, start } = setup('caller');
    await start();
    await n.firstOffer();
    media.failSetAnswer = true;
    await n.onAnswer({ k: 'answer', sdp: 'v=0 answer', n: 1 });
    expect(failures).toHaveLength(1);
  });

  test('remote candidates apply at once on the caller once media runs', async () => {
    const { n, media, start } = setup('caller');
    await start();
    await n.remoteCandidate(cand(1));
    expect(media.log).toContain(`cand:${cand(1).candidate}`);
  });
});

describe('negotiation: callee', () => {
  test('the offer is held until Accept, then answered with its number; candidates wait for the answer, in order', async () => {
    const { n, media, sent, start } = setup('callee');
    await n.onOffer({ k: 'offer', sdp: 'v=0 offer', n: 1 });
    await n.remoteCandidate(cand(1));
    await n.remoteCandidate(null);
    expect(media.log).toEqual([]);
    await start();
    await n.answerHeldOffer();
    expect(sent).toEqual([{ k: 'answer', sdp: 'v=0 answer', n: 1 }]);
    expect(media.log).toEqual(['start:callee', 'accept:v=0 offer', `cand:${cand(1).candidate}`, 'cand:end']);
    await n.remoteCandidate(cand(2));
    expect(media.log.at(-1)).toBe(`cand:${cand(2).candidate}`);
  });

  test('candidates trickled while ringing reach the ICE policy at Accept (its report names them)', async () => {
    const { n, start } = setup('callee');
    await n.onOffer({ k: 'offer', sdp: 'v=0 offer', n: 1 });
    await n.remoteCandidate(cand(1));
    await n.remoteCandidate({ candidate: 'candidate:9 1 udp 1 203.0.113.10 50000 typ relay raddr 0.0.0.0 rport 0', sdpMid: '0' });
    expect(n.report).toBeUndefined();
    await start();
    expect(n.report?.remoteTypes).toEqual({ host: 1, relay: 1 });
    expect(n.report?.remoteAddresses).toContain('203.0.113.10');
    await n.remoteCandidate(cand(2));
    expect(n.report?.remoteTypes).toEqual({ host: 2, relay: 1 });
  });

  test('the candidate buffer is bounded', async () => {
    const { n, media, start } = setup('callee');
    for (let i = 0; i < MAX_PENDING_CANDIDATES + 10; i++) await n.remoteCandidate(cand(i));
    await start();
    await n.onOffer({ k: 'offer', sdp: 'v=0 offer', n: 1 });
    expect(media.log.filter((x) => x.startsWith('cand:'))).toHaveLength(MAX_PENDING_CANDIDATES);
  });

  test('a re-offer while media runs is answered at once, echoing its number', async () => {
    const { n, sent, start } = setup('callee');
    await start();
    await n.onOffer({ k: 'offer', sdp: 'v=0 offer', n: 1 });
    await n.onOffer({ k: 'offer', sdp: 'v=0 offer2', n: 2, restart: true, relay: true });
    expect(sent.map((c) => c.k === 'answer' && c.n)).toEqual([1, 2]);
  });

  test('the callee never offers: a restart asks the caller to', async () => {
    const { n, sent, start } = setup('callee');
    await start();
    await n.restart(true, true);
    expect(sent).toEqual([{ k: 'restart', relay: true, fresh: true }]);
  });

  test('an answer or an offer that reaches the wrong side is ignored', async () => {
    const caller = setup('caller');
    await caller.start();
    await caller.n.onOffer({ k: 'offer', sdp: 'v=0 offer', n: 1 });
    expect(caller.sent).toEqual([]);
    const callee = setup('callee');
    await callee.start();
    await callee.n.onAnswer({ k: 'answer', sdp: 'v=0 answer', n: 1 });
    expect(callee.media.log).toEqual(['start:callee']);
  });
});

describe('negotiation: local candidates', () => {
  test('before media started they go out as they are; after, through the ICE policy (queued)', async () => {
    const { n, sent, start, runJobs } = setup('caller');
    await n.localCandidate(cand(1));
    expect(sent).toEqual([{ k: 'cand', c: cand(1) }]);
    await start();
    await n.localCandidate(cand(2));
    expect(sent).toHaveLength(1); // the policy's send action waits on the queue
    await runJobs();
    expect(sent).toEqual([
      { k: 'cand', c: cand(1) },
      { k: 'cand', c: cand(2) },
    ]);
  });

  test('privacy mode: with no ICE policy to withhold it, a candidate is dropped (it could be our address)', async () => {
    const { n, sent, start, runJobs } = setup('caller', { relayOnly: true });
    await n.localCandidate(cand(1));
    expect(sent).toEqual([]);
    await start();
    await runJobs();
    expect(sent).toEqual([]);
  });

  test('close stops the engine once', async () => {
    const { n, media, start } = setup('caller');
    await start();
    n.close();
    n.close();
    expect(media.log.filter((x) => x === 'stop')).toHaveLength(1);
    expect(n.started).toBe(false);
  });
});

describe('negotiation: callee prepared before Accept (issue 17)', () => {
  class PreparingMedia extends ScriptedMedia {
    deferred?: boolean;
    override async start(o: MediaStartOptions) {
      this.deferred = o.deferMicrophone;
      await super.start(o);
    }
    async useMicrophone() {
      this.log.push('mic');
    }
  }
  function preparedSetup() {
    const s = setup('callee');
    const media = new PreparingMedia();
    const sent: Control[] = [];
    const jobs: (() => Promise<void>)[] = [];
    const n = new Negotiation({
      callId: 'c0ffee',
      role: 'callee',
      media,
      send: async (c) => void sent.push(c),
      iceConfig: () => ({ iceServers: [], relayOnly: false }),
      live: () => true,
      failed: (e) => s.failures.push(e),
      enqueue: (job) => jobs.push(job),
      log: () => {},
    });
    const runJobs = async () => {
      while (jobs.length) await jobs.shift()!();
    };
    const prepare = () =>
      n.prepare(
        { callId: 'c0ffee', role: 'callee', iceServers: [], relayOnly: false, sendFrameSecret: new Uint8Array(32), recvFrameSecret: new Uint8Array(32) },
        { muted: false },
      );
    return { n, media, sent, prepare, runJobs };
  }

  test('the held offer is answered early; answer, candidates and restarts wait for release', async () => {
    const { n, media, sent, prepare, runJobs } = preparedSetup();
    await n.onOffer({ k: 'offer', sdp: 'v=0 offer', n: 1 });
    await n.remoteCandidate(cand(1));
    await prepare();
    expect(media.deferred).toBe(true);
    expect(n.holding).toBe(true);
    await n.localCandidate(cand(2));
    await n.restart(true);
    await runJobs();
    expect(sent).toEqual([]); // nothing leaves before Accept
    expect(media.log).toEqual(['start:callee', 'accept:v=0 offer']);
    await n.release();
    await runJobs();
    expect(n.holding).toBe(false);
    expect(media.log).toEqual(['start:callee', 'accept:v=0 offer', `cand:${cand(1).candidate}`, 'mic']);
    expect(sent.map((c) => c.k)).toEqual(['answer', 'cand']);
    expect(sent[0]).toMatchObject({ k: 'answer', sdp: 'v=0 answer', n: 1 });
  });

  test('an offer with candidates in its SDP is not applied before Accept', async () => {
    const { n, media, sent, prepare } = preparedSetup();
    await n.onOffer({ k: 'offer', sdp: 'v=0 offer\r\na=candidate:1 1 udp 1 10.0.0.1 5000 typ host\r\n', n: 1 });
    await prepare();
    expect(media.log).toEqual(['start:callee']);
    await n.release();
    expect(media.log).toEqual(['start:callee', 'accept:v=0 offer\r\na=candidate:1 1 udp 1 10.0.0.1 5000 typ host\r\n', 'mic']);
    expect(sent.map((c) => c.k)).toEqual(['answer']);
  });
});
