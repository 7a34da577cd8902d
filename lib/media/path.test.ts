/**
 * path.ts on real getStats() reports (fixtures/README.md says where each came
 * from). A derived case is marked as such and changes only the fields named.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { pathKind, selectedPath, statsById } from './path';
import { rtpAudioStats } from './rtp-stats';

type Stat = Record<string, unknown> & { id: string; type: string };
interface Fixture {
  browser: string;
  scenario: string;
  caller: Stat[];
  callee: Stat[];
}

function load(name: string): Fixture {
  return JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', `${name}.json`), 'utf8')) as Fixture;
}
const report = (stats: Stat[]) => new Map(stats.map((s) => [s.id, s]));

/** The recorded reports and what the selected pair must read as, per side. */
const CASES: [string, Record<'caller' | 'callee', object>][] = [
  ['chromium-host', {
    caller: { path: 'p2p', localType: 'host', remoteType: 'host', protocol: 'udp' },
    callee: { path: 'p2p', localType: 'host', remoteType: 'host', protocol: 'udp' },
  }],
  ['chromium-prflx', {
    caller: { path: 'p2p', localType: 'host', remoteType: 'prflx' },
    callee: { path: 'p2p', localType: 'host', remoteType: 'host' },
  }],
  ['chromium-relay-udp', {
    caller: { path: 'relay', localType: 'relay', remoteType: 'relay', relayProtocol: 'udp', protocol: 'udp' },
    callee: { path: 'relay', localType: 'relay', remoteType: 'relay', relayProtocol: 'udp', protocol: 'udp' },
  }],
  ['chromium-relay-tcp', {
    caller: { path: 'relay', localType: 'relay', remoteType: 'relay', relayProtocol: 'tcp' },
    callee: { path: 'relay', localType: 'relay', remoteType: 'relay', relayProtocol: 'tcp' },
  }],
  ['chromium-relay-one-side', {
    caller: { path: 'relay', localType: 'relay', remoteType: 'host', relayProtocol: 'udp' },
    // Only the remote end is relayed: still a relayed call, and no relayProtocol of ours to report.
    callee: { path: 'relay', localType: 'host', remoteType: 'relay' },
  }],
  ['firefox-host', {
    caller: { path: 'p2p', localType: 'host', remoteType: 'prflx' },
    callee: { path: 'p2p', localType: 'host', remoteType: 'host' },
  }],
  ['firefox-prflx', {
    caller: { path: 'p2p', localType: 'host', remoteType: 'prflx' },
    callee: { path: 'p2p', localType: 'host', remoteType: 'host' },
  }],
  ['firefox-relay-udp', {
    caller: { path: 'relay', localType: 'relay', remoteType: 'relay', relayProtocol: 'udp' },
    callee: { path: 'relay', localType: 'relay', remoteType: 'relay', relayProtocol: 'udp' },
  }],
  ['firefox-relay-tcp', {
    caller: { path: 'relay', localType: 'relay', remoteType: 'relay', relayProtocol: 'tcp' },
    callee: { path: 'relay', localType: 'relay', remoteType: 'relay', relayProtocol: 'tcp' },
  }],
  ['firefox-relay-one-side', {
    caller: { path: 'relay', localType: 'relay', remoteType: 'host', relayProtocol: 'udp' },
    callee: { path: 'relay', localType: 'host', remoteType: 'relay' },
  }],
];

describe('selectedPath on recorded reports', () => {
  test.each(CASES)('%s', (name, want) => {
    const f = load(name);
    for (const side of ['caller', 'callee'] as const) {
      const got = selectedPath(report(f[side]));
      expect(got, `${name} ${side}`).toMatchObject(want[side]);
      // relayProtocol only when our own end is relayed.
      if (!('relayProtocol' in want[side])) expect(got.relayProtocol, `${name} ${side}`).toBeUndefined();
      expect(typeof got.roundTripMs, `${name} ${side} rtt`).toBe('number');
    }
  });

  test('each fixture holds the report we think it does (guards against an empty or mislabelled file)', () => {
    for (const [name] of CASES) {
      const f = load(name);
      expect(f.scenario).toBe(name.replace(/^(chromium|firefox)-/, ''));
      expect(f.browser).toMatch(name.startsWith('firefox') ? /firefox/i : /chrom/i);
      for (const side of ['caller', 'callee'] as const) {
        expect(f[side].filter((s) => s.type === 'candidate-pair').length).toBeGreaterThan(0);
      }
    }
  });
});

describe('derived reports (fields changed as named)', () => {
  test('srflx local candidate (a NATed host): p2p', () => {
    const f = load('chromium-host');
    const stats = f.caller.map((s) => ({ ...s }));
    const m = report(stats);
    const t = stats.find((s) => s.type === 'transport')!;
    const pair = m.get(String(t.selectedCandidatePairId))!;
    const local = m.get(String(pair.localCandidateId))!;
    local.candidateType = 'srflx';
    expect(selectedPath(m)).toMatchObject({ path: 'p2p', localType: 'srflx', remoteType: 'host' });
  });

  test('the transport\'s selectedCandidatePairId wins over another nominated, succeeded pair', () => {
    // As after a path switch: the old pair (here made relayed) is still nominated and succeeded.
    const f = load('chromium-host');
    const m = report(f.caller);
    const t = f.caller.find((s) => s.type === 'transport')!;
    const pair = m.get(String(t.selectedCandidatePairId))!;
    const local = m.get(String(pair.localCandidateId))!;
    const oldLocal = { ...local, id: 'old-local', candidateType: 'relay', relayProtocol: 'udp' };
    const oldPair = { ...pair, id: 'old-pair', localCandidateId: 'old-local', nominated: true, state: 'succeeded' };
    const withOld = report([oldPair, oldLocal, ...f.caller]);
    expect(selectedPath(withOld)).toMatchObject({ path: 'p2p', localType: 'host' });
  });

  test('TURN over TLS: relayProtocol tls', () => {
    const f = load('chromium-relay-tcp');
    const stats = f.caller.map((s) => (s.type === 'local-candidate' && s.candidateType === 'relay' ? { ...s, relayProtocol: 'tls' } : s));
    expect(selectedPath(report(stats))).toMatchObject({ path: 'relay', relayProtocol: 'tls' });
  });

  test('no transport stats (older Firefox): the pair flagged selected:true is used', () => {
    const f = load('firefox-relay-one-side');
    const stats = f.callee.filter((s) => s.type !== 'transport');
    expect(stats.some((s) => s.type === 'candidate-pair' && s.selected === true)).toBe(true);
    expect(selectedPath(report(stats))).toMatchObject({ path: 'relay', localType: 'host', remoteType: 'relay' });
  });

  test('selected pair id pointing nowhere and no flags: nominated+succeeded pair, else unknown', () => {
    const f = load('chromium-relay-udp');
    const noFlag = f.caller.map((s) => (s.type === 'transport' ? { ...s, selectedCandidatePairId: 'gone' } : s));
    const nominated = noFlag.filter((s) => s.type === 'candidate-pair' && s.nominated === true && s.state === 'succeeded');
    expect(nominated.length).toBeGreaterThan(0);
    expect(selectedPath(report(noFlag)).path).toBe('relay');
    const none = noFlag.filter((s) => s.type !== 'candidate-pair');
    expect(selectedPath(report(none))).toEqual({ path: 'unknown' });
  });

  test('before ICE: a report without pairs is unknown', () => {
    expect(selectedPath(new Map())).toEqual({ path: 'unknown' });
  });
});

describe('pathKind', () => {
  test.each([
    ['host', 'host', 'p2p'],
    ['srflx', 'prflx', 'p2p'],
    ['prflx', 'srflx', 'p2p'],
    ['relay', 'host', 'relay'],
    ['host', 'relay', 'relay'],
    ['relay', undefined, 'relay'],
    ['host', undefined, 'unknown'],
    [undefined, undefined, 'unknown'],
    ['host', 'bogus', 'unknown'],
  ] as const)('%s / %s → %s', (l, r, want) => {
    expect(pathKind(l, r)).toBe(want);
  });
});

describe('rtpAudioStats on recorded reports', () => {
  test('reads the audio inbound/outbound counters the report holds', () => {
    const f = load('chromium-host');
    const stats = statsById(report(f.callee));
    const inbound = [...stats.values()].find((s) => s.type === 'inbound-rtp' && s.kind === 'audio')!;
    const outbound = [...stats.values()].find((s) => s.type === 'outbound-rtp' && s.kind === 'audio')!;
    const got = rtpAudioStats(report(f.callee));
    expect(got.packetsReceived).toBe(inbound.packetsReceived);
    expect(got.bytesReceived).toBe(inbound.bytesReceived);
    expect(got.bytesSent).toBe(outbound.bytesSent);
    expect(got.packetsReceived).toBeGreaterThan(0);
    expect(got.bytesSent).toBeGreaterThan(0);
  });

  test('the audio energy sent (media-source, as recorded) and played (inbound-rtp)', () => {
    const got = rtpAudioStats(report(load('chromium-host').callee));
    expect(got.sourceEnergy).toBeCloseTo(1.42, 6);
    expect(got.sourceSeconds).toBeCloseTo(1.52, 6);
    // The recordings were taken before anything was played (0 and 0): a report a second later.
    const played = rtpAudioStats(new Map([['IT1', { id: 'IT1', type: 'inbound-rtp', kind: 'audio', totalAudioEnergy: 0.25, totalSamplesDuration: 10 }]]));
    expect(played).toMatchObject({ playedEnergy: 0.25, playedSeconds: 10 });
    expect(rtpAudioStats(new Map()).sourceEnergy).toBeUndefined();
  });

  test('Firefox report too', () => {
    const got = rtpAudioStats(report(load('firefox-relay-udp').caller));
    expect(got.packetsReceived).toBeGreaterThan(0);
    expect(got.bytesSent).toBeGreaterThan(0);
  });

  test('an empty report is all zeros', () => {
    expect(rtpAudioStats(new Map())).toEqual({
      bytesSent: 0,
      packetsSent: 0,
      bytesReceived: 0,
      packetsReceived: 0,
      audioLevel: 0,
      packetsLost: 0,
      jitterMs: 0,
      concealedSamples: 0,
      silentConcealedSamples: 0,
      totalSamplesReceived: 0,
    });
  });

  test('the receive-quality counters, from a Firefox report (jitter in s becomes ms)', () => {
    const got = rtpAudioStats(report(load('firefox-host').callee));
    expect(got.concealedSamples).toBe(1440);
    expect(got.totalSamplesReceived).toBe(70560);
    expect(got.jitterMs).toBeCloseTo(5, 6);
    expect(got.packetsLost).toBe(0);
    expect(got.rtcpRoundTripMs).toBeUndefined();
  });

  test('the send codec as negotiated: mimeType and the fmtp of outbound-rtp\'s codec', () => {
    expect(rtpAudioStats(report(load('chromium-host').callee)).sendCodec).toBe('audio/opus minptime=10;useinbandfec=1');
    expect(rtpAudioStats(new Map()).sendCodec).toBeUndefined();
  });

  test('remote-inbound-rtp roundTripTime becomes rtcpRoundTripMs', () => {
    const r = new Map<string, unknown>([['R', { id: 'R', type: 'remote-inbound-rtp', kind: 'audio', roundTripTime: 0.123 }]]);
    expect(rtpAudioStats(r).rtcpRoundTripMs).toBeCloseTo(123, 6);
  });
});
