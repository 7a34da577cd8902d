import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { IcePolicy, P2P_WINDOW_MS, RETRY_DIRECT_MS, EXCHANGE_FALLBACK_MS, type IceAction } from './policy';
import { parseCandidate } from './candidate';
import { classifyNat } from './nat-type';

const host = { candidate: 'candidate:1 1 udp 2122260223 10.200.1.2 50000 typ host generation 0', sdpMid: '0' };
const srflx = (port: number, base = 50000) => ({
  candidate: `candidate:2 1 udp 1686052607 203.0.113.1 ${port} typ srflx raddr 10.200.1.2 rport ${base} generation 0`,
  sdpMid: '0',
});
const relay = { candidate: 'candidate:3 1 udp 41885439 203.0.113.10 61000 typ relay raddr 203.0.113.1 rport 40000 generation 0', sdpMid: '0' };

let actions: IceAction[];
const make = (relayOnly = false) => new IcePolicy({ relayOnly }, (a) => actions.push(a));
const kinds = () => actions.map((a) => (a.type === 'send' ? `send:${a.candidate ? parseCandidate(a.candidate.candidate)?.type : 'end'}` : a.type === 'go-relay' ? `go-relay:${a.reason}` : a.type));

beforeEach(() => {
  actions = [];
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe('candidates', () => {
  test('parse every field the policy routes on', () => {
    expect(parseCandidate(srflx(40001).candidate)).toMatchObject({ type: 'srflx', protocol: 'udp', address: '203.0.113.1', port: 40001, raddr: '10.200.1.2', rport: 50000 });
    expect(parseCandidate('candidate:1 1 tcp 1518280447 10.0.0.1 9 typ host tcptype active')).toMatchObject({ protocol: 'tcp', tcptype: 'active' });
    expect(parseCandidate('garbage')).toBeUndefined();
    expect(parseCandidate('candidate:1 1 udp 1 10.0.0.1 99999 typ host')).toBeUndefined();
  });

  test('NAT classification: one mapping per base is endpoint-independent, two is symmetric', () => {
    const p = (l: { candidate: string }) => parseCandidate(l.candidate)!;
    expect(classifyNat([p(host)])).toBe('unknown');
    expect(classifyNat([p(srflx(40000)), p(srflx(40000))])).toBe('endpoint-independent');
    expect(classifyNat([p(srflx(40000)), p(srflx(40007))])).toBe('symmetric');
    // Two sockets (two bases), one mapping each: still endpoint-independent.
    expect(classifyNat([p(srflx(40000, 50000)), p(srflx(40001, 50001))])).toBe('endpoint-independent');
  });
});

describe('ICE policy', () => {
  test('trickles every candidate at once, then a direct pair inside the window settles P2P', () => {
    const p = make();
    p.localCandidate(host);
    p.localCandidate(srflx(40000));
    p.localCandidate(relay);
    p.localCandidate(null);
    p.remoteCandidate(host);
    p.remoteCandidate(null);
    expect(kinds()).toEqual(['send:host', 'send:srflx', 'send:relay', 'send:end']);
    vi.advanceTimersByTime(300);
    p.pathChanged('connected', 'p2p');
    vi.advanceTimersByTime(P2P_WINDOW_MS * 2);
    expect(kinds()).not.toContain('go-relay:window-expired');
    expect(p.report()).toMatchObject({ phase: 'direct', firstPath: 'p2p', nat: 'endpoint-independent' });
  });

  test('no direct pair within 800 ms of the exchange: go to the relay', () => {
    const p = make();
    p.localCandidate(host);
    p.localCandidate(null);
    vi.advanceTimersByTime(500); // gathering time does not count
    p.remoteCandidate(host);
    p.remoteCandidate(null);
    vi.advanceTimersByTime(P2P_WINDOW_MS - 1);
    expect(kinds()).not.toContain('go-relay:window-expired');
    vi.advanceTimersByTime(1);
    expect(kinds()).toContain('go-relay:window-expired');
    expect(p.report()).toMatchObject({ phase: 'forcing-relay', forcedRelay: 'window-expired', exchangedAt: 500 });
  });

  test('a relay pair that connected inside the window is the relay engaged: no restart', () => {
    const p = make();
    p.localCandidate(relay);
    p.localCandidate(null);
    p.remoteCandidate(relay);
    p.remoteCandidate(null);
    vi.advanceTimersByTime(200);
    p.pathChanged('connected', 'relay');
    vi.advanceTimersByTime(P2P_WINDOW_MS);
    expect(kinds()).not.toContain('go-relay:window-expired');
    expect(p.report()).toMatchObject({ phase: 'relayed', relayEngagedAt: 200 });
  });

  test('symmetric NAT: relay at once, without waiting out the window, and direct candidates withheld', () => {
    const p = make();
    p.localCandidate(host);
    p.localCandidate(srflx(40000));
    vi.advanceTimersByTime(20);
    p.localCandidate(srflx(40913)); // the alternate STUN port saw another mapping
    expect(kinds()).toEqual(['send:host', 'send:srflx', 'go-relay:symmetric-nat']);
    p.localCandidate(relay);
    p.localCandidate(srflx(41000));
    expect(kinds().slice(3)).toEqual(['send:relay']);
    expect(p.report()).toMatchObject({ nat: 'symmetric', forcedRelay: 'symmetric-nat' });
  });

  test('the window starts when the peer never says end-of-candidates, 1.5 s after its first', () => {
    const p = make();
    p.localCandidate(host);
    p.localCandidate(null);
    p.remoteCandidate(host);
    vi.advanceTimersByTime(EXCHANGE_FALLBACK_MS + P2P_WINDOW_MS);
    expect(kinds()).toContain('go-relay:window-expired');
  });

  test('after a forced relay, a direct path is tried again later; symmetric NAT never retries', () => {
    const p = make();
    p.localCandidate(null);
    p.remoteCandidate(null);
    vi.advanceTimersByTime(P2P_WINDOW_MS);
    p.restarted(true);
    p.pathChanged('connected', 'relay');
    vi.advanceTimersByTime(RETRY_DIRECT_MS);
    expect(kinds()).toContain('try-direct');

    actions = [];
    const q = make();
    q.localCandidate(srflx(1));
    q.localCandidate(srflx(2));
    q.restarted(true);
    q.pathChanged('connected', 'relay');
    vi.advanceTimersByTime(RETRY_DIRECT_MS * 2);
    expect(kinds()).not.toContain('try-direct');
  });

  test('a call that was direct and fell back to the relay tries the direct path again', () => {
    const p = make();
    p.localCandidate(null);
    p.remoteCandidate(null);
    p.pathChanged('connected', 'p2p');
    p.pathChanged('disconnected', 'p2p');
    p.restarted(false);
    p.pathChanged('connected', 'relay');
    vi.advanceTimersByTime(RETRY_DIRECT_MS - 1);
    expect(kinds()).not.toContain('try-direct');
    vi.advanceTimersByTime(1);
    expect(kinds()).toContain('try-direct');
    // Back on a direct pair: no more retries.
    actions = [];
    p.restarted(false);
    p.pathChanged('connected', 'p2p');
    vi.advanceTimersByTime(RETRY_DIRECT_MS * 3);
    expect(kinds()).not.toContain('try-direct');
  });

  test('a call relayed from the start (peer behind a symmetric NAT) does not churn with retries', () => {
    const p = make();
    p.localCandidate(null);
    p.remoteCandidate(relay);
    p.remoteCandidate(null);
    p.pathChanged('connected', 'relay');
    vi.advanceTimersByTime(RETRY_DIRECT_MS * 3);
    expect(kinds()).not.toContain('try-direct');
    expect(p.report().remoteAddresses).toEqual(['203.0.113.10', '203.0.113.1']);
  });

  test('privacy mode: only relay candidates leave, no window, no restarts', () => {
    const p = make(true);
    p.localCandidate(host);
    p.localCandidate(srflx(1));
    p.localCandidate(relay);
    p.localCandidate(null);
    p.remoteCandidate(relay);
    p.remoteCandidate(null);
    vi.advanceTimersByTime(10 * P2P_WINDOW_MS);
    expect(kinds()).toEqual(['send:relay', 'send:end']);
    expect(p.report().remoteTypes).toEqual({ relay: 1 });
  });
});

describe('ICE servers', () => {
  test("the relay's STUN on both ports and its TURN with the credentials; nothing else", async () => {
    const { iceServersFrom } = await import('./servers');
    const servers = iceServersFrom({
      username: '1700000000:abc',
      credential: 'c2VjcmV0',
      ttl: 3600,
      urls: ['stun:203.0.113.10:3478', 'turn:203.0.113.10:3478?transport=udp', 'turn:203.0.113.10:3478?transport=tcp', 'turns:203.0.113.10:443?transport=tcp'],
      stunAlt: 'stun:203.0.113.10:3479',
    });
    expect(servers).toEqual([
      { urls: ['stun:203.0.113.10:3478', 'stun:203.0.113.10:3479'] },
      {
        urls: ['turn:203.0.113.10:3478?transport=udp', 'turn:203.0.113.10:3478?transport=tcp', 'turns:203.0.113.10:443?transport=tcp'],
        username: '1700000000:abc',
        credential: 'c2VjcmV0',
      },
    ]);
    expect(iceServersFrom(undefined)).toEqual([]);
  });
});
