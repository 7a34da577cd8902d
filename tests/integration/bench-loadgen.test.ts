/**
 * Outside truth for the relay bench's load generator (bench/loadgen/:
 * hush-loadgen.c and its Node side). The bench's figures are only as good as
 * its count of what was sent and what came back, so:
 *   - through coturn at one level, coturn's own load client
 *     (turnutils_uclient -y -c) and hush-loadgen both see every message
 *     relayed (0 lost) and the same number of forwards;
 *   - through hush-relay, the relay's own counter of relayed datagrams
 *     equals the generator's forwards (received × 2), with two sending
 *     threads;
 *   - a datagram the relay drops (ChannelData on a channel the client never
 *     bound) shows as lost, exactly those and no others.
 * Runs on the host's loopback (no root needed); needs coturn and a C compiler.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLoadgen } from '../../bench/loadgen/build';
import { startLoadgen, type LoadgenOptions, type LoadgenResult } from '../../bench/loadgen/loadgen';
import { startCoturn, type CoturnProcess } from '../harness/coturn';
import { runUclient } from '../harness/uclient';
import { startRelayProcess } from '../harness/relay';
import { scrapeMetrics } from '../harness/metrics';

const SECRET = 'loadgen-shared-secret';
const CLIENTS = 40;
const MSGS = 100;
let coturn: CoturnProcess;
let bin: string;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hush-loadgen-'));
  bin = buildLoadgen(dir);
  coturn = await startCoturn(SECRET);
});
afterAll(async () => {
  await coturn?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function generate(port: number, extra: Partial<LoadgenOptions> = {}): Promise<LoadgenResult> {
  const run = await startLoadgen({ bin, host: '127.0.0.1', ports: [port], secret: SECRET, clients: CLIENTS, msgs: MSGS, pps: 50, payload: 160, ...extra });
  return run.done;
}

describe('hush-loadgen against outside truth', () => {
  test('through coturn, turnutils_uclient and hush-loadgen at the same level both see every message relayed and the same forwards', async () => {
    const u = await runUclient(['-y', '-c', '-W', SECRET, '-u', 'crosscheck', '-m', String(CLIENTS), '-n', String(MSGS), '-z', '20', '-l', '160', '-p', String(coturn.port), '127.0.0.1']);
    expect(u.code, u.output).toBe(0);
    expect(u.sent, u.output).toBe(CLIENTS * MSGS);
    expect(u.received, u.output).toBe(u.sent);
    expect(u.lost, u.output).toBe(0);

    const r = await generate(coturn.port);
    const s = r.summary;
    expect(s.sent, r.stderr).toBe(CLIENTS * MSGS);
    expect(s.received).toBe(s.sent);
    expect(s.lost).toBe(0);
    expect(s.received * 2).toBe(u.received * 2);
    expect([s.duplicates, s.misdelivered, s.foreign, s.unsent]).toEqual([0, 0, 0, 0]);
    expect(r.generatorBound).toBeUndefined();
    const relayed = r.pairs.filter((p) => !p.direct);
    expect(relayed).toHaveLength(CLIENTS / 2);
    for (const p of relayed) expect([p.sent, p.received, p.lost]).toEqual([2 * MSGS, 2 * MSGS, 0]);
    // The direct control flows went around the server and came back too.
    expect(r.pairs.filter((p) => p.direct).every((p) => p.received === p.sent && p.sent === 2 * MSGS)).toBe(true);
    expect(s.p50_us).toBeGreaterThan(0);
    expect(s.direct_p50_us).toBeGreaterThan(0);
  });

  test('through hush-relay, the relay counts exactly the forwards the generator saw', async () => {
    const relay = await startRelayProcess(['--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8', '--threads', '1']);
    try {
      const before = (await scrapeMetrics(`http://127.0.0.1:${relay.signalPort}`)).hush_relay_relayed_packets_total ?? 0;
      const r = await generate(relay.turnPort, { senders: 2 }); // two sending threads, as the bench on 2 cores
      expect(r.summary.lost, r.stderr).toBe(0);
      expect(r.summary.received).toBe(CLIENTS * MSGS);
      const after = (await scrapeMetrics(`http://127.0.0.1:${relay.signalPort}`)).hush_relay_relayed_packets_total;
      expect(after! - before).toBe(r.summary.received * 2);
    } finally {
      await relay.stop();
    }
  });

  test('a datagram the relay drops shows as lost: client 0 sends on a channel it never bound', async () => {
    const r = await generate(coturn.port, { sendChannel: (i, bound) => (i === 0 ? 0x4001 : bound) });
    const first = r.pairs.find((p) => p.pair[0] === 0)!;
    expect(first.sent).toBe(2 * MSGS);
    expect(first.lost).toBe(MSGS); // every one of client 0's, none of client 1's
    for (const p of r.pairs.filter((x) => x !== first)) expect(p.lost, JSON.stringify(p)).toBe(0);
    expect(r.summary.lost).toBe(MSGS);
    expect(r.summary.misdelivered).toBe(0);
  });
});
