/**
 * Running the relay as a service, through the real CLI:
 *  - SIGHUP re-reads the certificate, its key and the secrets file; a live
 *    signalling WebSocket and a live allocation carry on across it; new
 *    credentials are signed with the new first secret, old ones stay valid
 *    while their secret is listed; new TLS handshakes (TURN and wss) see the
 *    new certificate; a bad file is refused and changes nothing.
 *  - SIGTERM drains: /healthz 503, clients told ERR_DRAINING + close 1012,
 *    new connections and Allocates refused (508), live allocations relayed
 *    until they end (exit 0 at once) or until --drain-timeout (exit 0).
 *  - /metrics is Prometheus text with the aggregate families, and after real
 *    traffic names no mailbox, username, client address or port.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import WebSocket from 'ws';
import { Class } from '../../relay-server/src/stun/constants';
import { turnPassword } from '../../relay-server/src/turn/credentials';
import type { TransportAddress } from '../../relay-server/src/stun/xor-address';
import { identityFromSeed } from '../../lib/crypto/identity';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { SignalTestClient } from '../harness/signal-client';
import { TurnTestClient } from '../harness/turn-client';
import { selfSignedCert } from '../harness/tls-cert';
import { METRICS_AUTH, parsePrometheus, scrapeMetrics } from '../harness/metrics';
import { waitFor } from '../harness/wait';

const dir = mkdtempSync(join(tmpdir(), 'hush-ops-'));
const relays: RelayProcess[] = [];
const clients: TurnTestClient[] = [];
afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(relays.map((r) => r.stop()));
  rmSync(dir, { recursive: true, force: true });
});

async function relay(args: string[]): Promise<RelayProcess> {
  const r = await startRelayProcess(args);
  relays.push(r);
  return r;
}

async function turnClient(r: RelayProcess, username: string, password: string): Promise<TurnTestClient> {
  const c = new TurnTestClient({ host: '127.0.0.1', port: r.turnPort }, username, password);
  await c.open();
  clients.push(c);
  return c;
}

/** Two allocations with channels bound to each other, as a relayed call has. */
async function call(a: TurnTestClient, b: TurnTestClient): Promise<[TransportAddress, TransportAddress]> {
  const ra = await a.allocate();
  const rb = await b.allocate();
  expect((await a.channelBind(rb, 0x4000))?.cls).toBe(Class.Success);
  expect((await b.channelBind(ra, 0x4000))?.cls).toBe(Class.Success);
  return [ra, rb];
}

/** Media both ways: each side receives what the other sent. */
async function flows(a: TurnTestClient, b: TurnTestClient, tag: string): Promise<boolean> {
  const got = (c: TurnTestClient, want: string) =>
    new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 2000);
      c.onData = (d) => {
        if (d.toString() === want) {
          clearTimeout(t);
          resolve(true);
        }
      };
    });
  const ab = got(b, `${tag}:a→b`);
  const ba = got(a, `${tag}:b→a`);
  for (let i = 0; i < 3; i++) {
    a.sendChannel(0x4000, Buffer.from(`${tag}:a→b`));
    b.sendChannel(0x4000, Buffer.from(`${tag}:b→a`));
  }
  return (await ab) && (await ba);
}

async function waitOutput(r: RelayProcess, re: RegExp, timeoutMs = 5000): Promise<void> {
  await waitFor(() => re.test(r.output()), { timeout: timeoutMs, what: () => `${re} in the relay's output:\n${r.output()}` });
}

/** SHA-256 fingerprint of the certificate a fresh TLS handshake on `port` presents. */
function presented(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.destroy();
      resolve(fp);
    });
    s.on('error', reject);
  });
}

const fingerprint = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256;

describe('SIGHUP: certificate and secrets reloaded, nothing live dropped', () => {
  test('rotate the secret and the certificate under a live WebSocket and a live allocation', async () => {
    const certs = selfSignedCert(join(dir));
    const ca1 = readFileSync(certs.cert);
    const fp1 = fingerprint(certs.cert);
    const secretsFile = join(dir, 'turn-secrets');
    writeFileSync(secretsFile, '# TURN secrets, first signs\nold-secret-111\n');
    const r = await relay(['--tls-cert', certs.cert, '--tls-key', certs.key, '--tls-port', '0', '--auth-secrets-file', secretsFile, '--allow-peer', '127.0.0.0/8']);
    expect(r.signalUrl.startsWith('wss://')).toBe(true);
    expect(r.output()).toMatch(/^TURN auth: shared secret \(1 from the secrets file\)/m);

    // A client: signalling over wss, its credentials, a call's two allocations.
    const sig = await SignalTestClient.connect(r.signalUrl, { ca: ca1 });
    const ready = await sig.auth(identityFromSeed(new Uint8Array(32).fill(41)));
    const t1 = ready.turn as { username: string; credential: string };
    expect(t1.credential).toBe(turnPassword('old-secret-111', t1.username));
    const wsFp = (sig.ws as unknown as { _socket: tls.TLSSocket })._socket.getPeerCertificate().fingerprint256;
    expect(wsFp).toBe(fp1);
    expect(await presented(r.tlsPort!, ca1)).toBe(fp1);
    const a = await turnClient(r, t1.username, t1.credential);
    const b = await turnClient(r, t1.username, t1.credential);
    await call(a, b);
    expect(await flows(a, b, 'before')).toBe(true);

    // Rotate: a new certificate and key in the same files, a new first secret, the old one still listed.
    selfSignedCert(dir);
    const ca2 = readFileSync(certs.cert);
    const fp2 = fingerprint(certs.cert);
    expect(fp2).not.toBe(fp1);
    writeFileSync(secretsFile, 'new-secret-222\nold-secret-111\n');
    process.kill(r.pid, 'SIGHUP');
    await waitOutput(r, /^reloaded: certificate .*; TURN secrets: 2 from the secrets file$/m);

    // Live things carried on: the WebSocket answers, the allocation refreshes and relays.
    sig.send({ t: 'turn', id: 5 });
    const t2 = (await sig.next((f) => f.t === 'turn')).turn as { username: string; credential: string };
    expect(t2.credential).toBe(turnPassword('new-secret-222', t2.username));
    expect((await a.refresh(600))?.cls).toBe(Class.Success);
    expect(await flows(a, b, 'after-rotation')).toBe(true);
    // Old credentials are still good for a new allocation while their secret is listed; new ones too.
    const c = await turnClient(r, t1.username, t1.credential);
    await c.allocate();
    const d = await turnClient(r, t2.username, t2.credential);
    await d.allocate();
    // New handshakes, TURN-over-TLS and wss, see the new certificate.
    expect(await presented(r.tlsPort!, ca2)).toBe(fp2);
    expect(await presented(r.signalPort, ca2)).toBe(fp2);

    // Drop the old secret: its credentials make nothing new; the live call is not cut.
    writeFileSync(secretsFile, 'new-secret-222\n');
    process.kill(r.pid, 'SIGHUP');
    await waitOutput(r, /TURN secrets: 1 from the secrets file$/m);
    const late = await turnClient(r, t1.username, t1.credential);
    await expect(late.allocate()).rejects.toThrow(/401/);
    expect((await a.refresh(600))?.cls).toBe(Class.Success);
    expect(await flows(a, b, 'after-drop')).toBe(true);

    // A broken file is refused: nothing changes.
    writeFileSync(certs.key, 'not a key');
    process.kill(r.pid, 'SIGHUP');
    await waitOutput(r, /^reload refused, settings unchanged: the TLS certificate and key are not valid PEM or do not belong together$/m);
    expect(await presented(r.tlsPort!, ca2)).toBe(fp2);
    expect(sig.ws.readyState).toBe(sig.ws.OPEN);
    sig.close();
  });
});

describe('SIGTERM: drain', () => {
  test('clients told to move (1012), new work refused, live allocations relayed until they end; exit 0', async () => {
    const SECRET = 'drain-test-secret';
    const r = await relay(['--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8', '--drain-timeout', '20', '--metrics-port', '0']);
    const metricsPort = Number(/^listening metrics http [^\s]+:(\d+)/m.exec(r.output())![1]);
    const sig = await SignalTestClient.connect(r.signalUrl);
    expect((await sig.auth(identityFromSeed(new Uint8Array(32).fill(42)))).t).toBe('ready');
    const a = await turnClient(r, ...creds(SECRET, 'a'));
    const b = await turnClient(r, ...creds(SECRET, 'b'));
    await call(a, b);
    expect(await flows(a, b, 'before')).toBe(true);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(200);

    const t0 = Date.now();
    process.kill(r.pid, 'SIGTERM');
    // The connected client is told to go elsewhere, at once.
    expect(await sig.next((f) => f.t === 'error')).toMatchObject({ code: 'ERR_DRAINING' });
    expect((await sig.closed).code).toBe(1012);
    await waitOutput(r, /^draining: refusing new allocations and connections; 2 allocations live/m);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(503);
    expect(await (await fetch(`http://127.0.0.1:${r.signalPort}/healthz`)).text()).toBe('draining\n');
    // New signalling connections and new allocations are refused.
    const late = new WebSocket(r.signalUrl);
    const lateFrames: string[] = [];
    late.on('message', (d) => lateFrames.push(d.toString()));
    expect(await new Promise((res) => late.on('close', (code) => res(code)))).toBe(1012);
    expect(JSON.parse(lateFrames[0]!)).toMatchObject({ t: 'error', code: 'ERR_DRAINING' });
    const c = await turnClient(r, ...creds(SECRET, 'c'));
    await expect(c.allocate()).rejects.toThrow(/508/);
    // The live call still relays, and refreshes.
    expect(await flows(a, b, 'draining')).toBe(true);
    expect((await a.refresh(600))?.cls).toBe(Class.Success);
    const m = parsePrometheus(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { headers: METRICS_AUTH })).text());
    expect(m.hush_relay_draining).toBe(1);
    expect(m.hush_relay_drain_refused_total).toBe(1);

    // The call ends: the relay exits at once, 0.
    const ended = Date.now();
    await a.refresh(0);
    await b.refresh(0);
    const exit = await r.exited;
    console.log(`drain: ${Date.now() - t0} ms from SIGTERM to exit, ${Date.now() - ended} ms after the last allocation ended`);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - ended).toBeLessThan(3000);
    expect(r.output()).toMatch(/^drained in [\d.]+ s$/m);
    expect(r.output()).toMatch(/^final: /m);
  });

  test('allocations that do not end are closed at --drain-timeout; exit 0', async () => {
    const SECRET = 'drain-test-secret';
    const r = await relay(['--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8', '--drain-timeout', '2']);
    const a = await turnClient(r, ...creds(SECRET, 'a'));
    await a.allocate();
    const t0 = Date.now();
    process.kill(r.pid, 'SIGTERM');
    const exit = await r.exited;
    const ms = Date.now() - t0;
    console.log(`drain timeout 2 s: exited after ${ms} ms`);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(ms).toBeGreaterThanOrEqual(1900);
    expect(ms).toBeLessThan(5000);
    expect(r.output()).toMatch(/^drain timeout: closing 1 allocations still live$/m);
  });
});

function creds(secret: string, id: string): [string, string] {
  const username = `${Math.floor(Date.now() / 1000) + 3600}:${id}`;
  return [username, turnPassword(secret, username)];
}

describe('/metrics after real traffic', () => {
  test('Prometheus families present; nothing names a mailbox, username, address or port', async () => {
    const SECRET = 'metrics-test-secret';
    const r = await relay(['--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8', '--threads', '2']);
    const secrets: string[] = [];
    const alice = await SignalTestClient.connect(r.signalUrl);
    const bob = await SignalTestClient.connect(r.signalUrl);
    const ra = await alice.auth(identityFromSeed(new Uint8Array(32).fill(43)));
    const rb = await bob.auth(identityFromSeed(new Uint8Array(32).fill(44)));
    secrets.push(ra.mailbox as string, rb.mailbox as string);
    for (const ws of [alice.ws, bob.ws]) secrets.push(`:${(ws as unknown as { _socket: { localPort: number } })._socket.localPort}`);
    alice.send({ t: 'send', to: rb.mailbox, id: 1, data: Buffer.from('offer').toString('base64') });
    await bob.next((f) => f.t === 'deliver');
    alice.send({ t: 'send', to: 'f'.repeat(32), id: 2, data: 'AAAA' });
    await alice.next((f) => f.t === 'sent' && f.id === 2); // no presence answer (signalling v2): counted as unreachable in the metrics only

    const ta = ra.turn as { username: string; credential: string };
    const tb = rb.turn as { username: string; credential: string };
    const a = await turnClient(r, ta.username, ta.credential);
    const b = await turnClient(r, tb.username, tb.credential);
    const [relA, relB] = await call(a, b);
    expect(await flows(a, b, 'm')).toBe(true);
    // An auth failure and a denied peer, so those counters move too.
    const wrong = await turnClient(r, ta.username, 'wrong-password');
    await expect(wrong.allocate()).rejects.toThrow(/401/);
    expect((await a.createPermission({ family: 4, address: '10.0.0.1', port: 1 }))?.code).toBe(403);
    secrets.push(ta.username, tb.username, ta.username.split(':')[1]!, tb.username.split(':')[1]!);
    secrets.push(`:${a.socket.address().port}`, `:${b.socket.address().port}`, `:${relA.port}`, `:${relB.port}`, '127.0.0.1');

    // What each family must show after this traffic (at least).
    const minima: Record<string, number> = {
      hush_relay_allocations: 2,
      hush_relay_allocations_created_total: 2,
      hush_relay_relayed_packets_total: 2,
      hush_relay_relayed_bytes_total: 10,
      hush_relay_turn_auth_failures_total: 1,
      hush_relay_peer_denied_total: 1,
      hush_relay_signal_connections: 2,
      hush_relay_signal_mailboxes: 2,
      hush_relay_envelopes_delivered_total: 1,
      hush_relay_envelopes_unreachable_total: 1,
      hush_relay_dropped_total: 0,
      hush_relay_draining: 0,
      hush_relay_resident_memory_bytes: 1,
    };
    // TURN threads report every second: the allocations, the relayed packets and the 403 of a
    // thread's allocation reach /metrics with its next report. Wait for a report that counts all of it.
    await waitFor(
      async () => {
        const m = await scrapeMetrics(`http://127.0.0.1:${r.signalPort}`);
        return Object.keys(m).filter((k) => k.startsWith('hush_relay_thread_allocations_created_total{')).length === 2 && Object.entries(minima).every(([k, min]) => (m[k] ?? -1) >= min);
      },
      { timeout: 5_000, interval: 100, what: "the TURN threads' report of this call in /metrics" },
    );
    const res = await fetch(`http://127.0.0.1:${r.signalPort}/metrics`, { headers: METRICS_AUTH });
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    const m = parsePrometheus(text);
    for (const [name, min] of Object.entries(minima)) {
      expect(m[name], `${name} in\n${text}`).toBeGreaterThanOrEqual(min);
    }
    expect(Object.keys(m).filter((k) => k.startsWith('hush_relay_thread_allocations_created_total{')).length).toBe(2);
    for (const line of text.split('\n')) {
      for (const s of secrets) expect(line.includes(s), `metrics line names ${s}: ${line}`).toBe(false);
      const labels = /\{(.*)\}/.exec(line)?.[1];
      if (labels && !line.startsWith('#')) for (const kv of labels.split(',')) expect(['thread', 'version']).toContain(kv.split('=')[0]);
    }
    alice.close();
    bob.close();
  });
});
