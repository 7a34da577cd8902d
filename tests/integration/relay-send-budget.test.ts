/**
 * The global send budget (issue 22, point 8) on the real CLI with
 * `--send-budget-mb 2`: six authenticated readers stop reading while a sender
 * each pushes 64 KiB envelopes to them as fast as the rate limit lets it. The
 * bytes queued to them are bounded in total: the readers holding the most are
 * closed, and the relay's memory does not follow the flood. A reader that
 * keeps reading stays connected and gets every envelope sent to it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type WebSocket from 'ws';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { authenticatedMailbox, processMemory } from '../harness/floods';
import { scrapeMetrics } from '../harness/metrics';
import { identityFromSeed } from '../../lib/crypto/identity';

const STALLED = 6;
let relay: RelayProcess;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  relay = await startRelayProcess(['--auth-secret', 'send-budget-secret', '--send-budget-mb', '2']);
});
afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await relay?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DATA = Buffer.alloc(47 * 1024, 7).toString('base64'); // ~63 KiB of base64: near the 64 KiB frame limit

async function party(seed: number, ip: string): Promise<{ ws: WebSocket; mailbox: string }> {
  const id = identityFromSeed(new Uint8Array(32).fill(seed));
  const p = await authenticatedMailbox(relay.signalUrl, id, ip);
  sockets.push(p.ws);
  return p;
}

describe('global send budget', () => {
  test(`${STALLED} stalled readers flooded with 64 KiB envelopes: the slowest are closed, a reading client keeps everything`, async () => {
    const rssBefore = processMemory(relay.pid).rss;
    const stalled = await Promise.all(Array.from({ length: STALLED }, (_, i) => party(0x20 + i, `127.0.20.${i + 1}`)));
    for (const { ws } of stalled) (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const senders = await Promise.all(stalled.map((_, i) => party(0x40 + i, `127.0.21.${i + 1}`)));
    const reader = await party(0x60, '127.0.22.1');
    const readerSender = await party(0x61, '127.0.22.2');
    const senderSeen: Record<string, number> = {};
    readerSender.ws.on('message', (d) => {
      const f = JSON.parse(String(d)) as { t: string; code?: string };
      const k = f.t === 'error' ? `error ${f.code}` : f.t;
      senderSeen[k] = (senderSeen[k] ?? 0) + 1;
    });
    let delivered = 0;
    const seen: Record<string, number> = {};
    reader.ws.on('message', (d) => {
      const t = (JSON.parse(String(d)) as { t: string }).t;
      seen[t] = (seen[t] ?? 0) + 1;
      if (t === 'deliver') delivered++;
    });
    // Each sender: its burst (100 messages) at once, then 20 more a second for 3 s.
    const send = (ws: WebSocket, to: string, n: number, from = 0) => {
      for (let i = 0; i < n; i++) ws.send(JSON.stringify({ t: 'send', to, id: from + i, data: DATA }));
    };
    senders.forEach((s, i) => send(s.ws, stalled[i]!.mailbox, 100));
    let readerSent = 0;
    for (let sec = 0; sec < 3; sec++) {
      senders.forEach((s, i) => send(s.ws, stalled[i]!.mailbox, 20, 100 + sec * 20));
      send(readerSender.ws, reader.mailbox, 10, readerSent);
      readerSent += 10;
      await sleep(1000);
    }
    await sleep(1500);
    // The stalled clients never read, so they cannot see their close: count on the relay's side.
    const connections = (await scrapeMetrics(`http://127.0.0.1:${relay.signalPort}`)).hush_relay_signal_connections!;
    const closedCount = 2 * STALLED + 2 - connections;
    const rssAfter = processMemory(relay.pid).rss;
    // 6 × 100+ × 64 KiB (≥ 38 MB) pushed at readers that never read; the budget is 2 MiB plus kernel buffers.
    // Each stalled reader can hold up to 1 MiB queued (its own high-water mark) plus kernel buffers:
    // under a 2 MiB budget at most two stay. Nothing else was closed (senders and the reader are open).
    expect(closedCount).toBeGreaterThanOrEqual(STALLED - 2);
    expect(closedCount).toBeLessThanOrEqual(STALLED);
    expect(delivered, JSON.stringify({ seen, senderSeen })).toBe(readerSent);
    expect(reader.ws.readyState).toBe(reader.ws.OPEN);
    // ~60 MB of envelopes went through the relay; RSS grows by its garbage (no GC forced here), not by the queues.
    expect(rssAfter - rssBefore).toBeLessThan(150 * 1024 * 1024);
    console.log(`stalled readers closed: ${closedCount}/${STALLED}; relay RSS ${(rssBefore / 1048576).toFixed(0)} → ${(rssAfter / 1048576).toFixed(0)} MB`);
  }, 30_000);
});
