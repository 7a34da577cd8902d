/**
 * Slow and half-open connections (issue 22, points 2 and 3) against the real
 * CLI on loopback, bounded in count and time: streams that trickle a byte at
 * a time hold nothing past their first-message deadline, TLS connections that
 * never send a ClientHello are cut in seconds, half-sent HTTP requests count
 * against the per-IP limit (the excess is closed at once) and end at their
 * deadline; meanwhile coturn's turnutils_uclient still allocates and relays
 * over TCP, and a WebSocket client from another address still connects.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rmSync } from 'node:fs';
import WebSocket from 'ws';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { runUclient } from '../harness/uclient';
import { selfSignedCert } from '../harness/tls-cert';
import { scrapeMetrics } from '../harness/metrics';
import { slowConnectionFlood, sources } from '../harness/floods';

const SECRET = 'slow-connections-secret';
const PER_IP = 8;
/** Plain signalling (HTTP); `tlsRelay` has a certificate: TURN over TLS and wss signalling. */
let relay: RelayProcess;
let tlsRelay: RelayProcess;
let tlsDir: string;

beforeAll(async () => {
  const tls = selfSignedCert();
  tlsDir = tls.dir;
  [relay, tlsRelay] = await Promise.all([
    startRelayProcess(['--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8', '--max-signal-per-ip', String(PER_IP)]),
    startRelayProcess(['--auth-secret', SECRET, '--tls-port', '0', '--tls-cert', tls.cert, '--tls-key', tls.key]),
  ]);
});
afterAll(async () => {
  await Promise.all([relay?.stop(), tlsRelay?.stop()]);
  if (tlsDir) rmSync(tlsDir, { recursive: true, force: true });
});

/** Open a WebSocket and wait for its first frame ('error' if the relay closed it first). */
function firstFrame(localAddress: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(relay.signalUrl, { localAddress, handshakeTimeout: 5000 });
    const done = (t: string) => {
      ws.terminate();
      resolve(t);
    };
    ws.on('error', () => done('error'));
    ws.once('message', (d) => done(String((JSON.parse(String(d)) as { t: string }).t)));
  });
}

describe('slow connections hold nothing past their deadline', () => {
  test('200 trickling STUN streams, 30 idle TLS (TURN and wss), 30 endless HTTP requests: all closed by their deadlines; TCP TURN keeps working', async () => {
    const turn = slowConnectionFlood({ port: relay.turnPort, kind: 'stun', count: 100, ips: sources(11, 4), trickleMs: 1000, seconds: 16 });
    const alt = slowConnectionFlood({ port: relay.altPort, kind: 'stun', count: 100, ips: sources(11, 4), trickleMs: 1000, seconds: 16 });
    const tls = Promise.all([
      slowConnectionFlood({ port: tlsRelay.tlsPort!, kind: 'idle', count: 15, ips: sources(12, 3), trickleMs: 1000, seconds: 16 }),
      slowConnectionFlood({ port: tlsRelay.signalPort, kind: 'idle', count: 15, ips: sources(12, 3), trickleMs: 1000, seconds: 16 }),
    ]).then(([x, y]) => ({ answers: { ...x.answers, ...y.answers }, closedAfterMs: [...x.closedAfterMs, ...y.closedAfterMs] }));
    const http = slowConnectionFlood({ port: relay.signalPort, kind: 'http', count: 30, ips: sources(13, 10), trickleMs: 1000, seconds: 16 });
    await new Promise((r) => setTimeout(r, 2000));
    const u = await runUclient(['-t', '-c', '-y', '-W', SECRET, '-u', 'slowtcp', '-m', '2', '-n', '20', '-z', '10', '-l', '160', '-p', String(relay.turnPort), '127.0.0.1']);
    expect(u.errors, u.output).toEqual([]);
    expect(u.received, u.output).toBe(u.sent);
    const [t, a, s, h] = await Promise.all([turn, alt, tls, http]);
    for (const f of [t, a, s, h]) {
      expect(f.answers['still open after 16 s'], JSON.stringify(f.answers)).toBeUndefined();
      expect(f.closedAfterMs.length).toBe(f === t || f === a ? 100 : 30);
    }
    // First complete message within 10 s (checked every second); TLS handshake within 5 s; HTTP request within 10 s.
    expect(Math.max(...t.closedAfterMs, ...a.closedAfterMs)).toBeLessThan(12_500);
    expect(Math.min(...t.closedAfterMs, ...a.closedAfterMs)).toBeGreaterThan(9_000); // trickled bytes did not end them early either
    expect(Math.max(...s.closedAfterMs)).toBeLessThan(7_000);
    expect(Math.max(...h.closedAfterMs)).toBeLessThan(12_500);
    const m = await scrapeMetrics(`http://127.0.0.1:${relay.signalPort}`);
    expect(m.hush_relay_tcp_connections).toBe(0);
  }, 40_000);

  test(`half-sent HTTP requests from one IP: ${PER_IP} held, the rest closed at once; another client still connects`, async () => {
    const flood = slowConnectionFlood({ port: relay.signalPort, kind: 'http', count: 100, ips: ['127.0.14.1'], trickleMs: 1000, seconds: 4 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(await firstFrame('127.0.0.1')).toBe('challenge');
    expect(await firstFrame('127.0.14.1')).toBe('error'); // its IP is at the limit: refused at TCP
    const f = await flood;
    f.closeAll();
    expect(f.answers['closed at once (refused)']).toBe(100 - PER_IP);
    expect(f.answers['still open after 4 s']).toBe(PER_IP);
  }, 20_000);
});
