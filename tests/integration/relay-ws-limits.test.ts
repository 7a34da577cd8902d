/**
 * WebSocket limits beyond the message rate (issue 22, point 7): pings are
 * messages. A client pinging as fast as it can gets pongs only within the
 * connection's rate (burst 100, 50/s), then is closed 1008; another client
 * connects and is challenged meanwhile.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { startRelayProcess, type RelayProcess } from '../harness/relay';

let relay: RelayProcess;

beforeAll(async () => {
  relay = await startRelayProcess(['--auth-secret', 'ws-limits-secret']);
});
afterAll(async () => {
  await relay?.stop();
});

function open(): Promise<{ ws: WebSocket; first: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(relay.signalUrl, { handshakeTimeout: 5000 });
    ws.on('error', reject);
    ws.once('message', (d) => resolve({ ws, first: (JSON.parse(String(d)) as { t: string }).t }));
  });
}

describe('WebSocket pings count as messages', () => {
  test('5,000 pings in a burst: at most the burst is answered, then closed 1008; another client still connects', async () => {
    const { ws } = await open();
    let pongs = 0;
    ws.on('pong', () => pongs++);
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    const t0 = performance.now();
    for (let i = 0; i < 5000 && ws.readyState === ws.OPEN; i++) ws.ping();
    const code = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 5000))]);
    const seconds = (performance.now() - t0) / 1000;
    expect(code).toBe(1008);
    // Burst 100 plus 50/s for the time it took; the 51st strike closes.
    expect(pongs).toBeLessThanOrEqual(100 + Math.ceil(50 * seconds) + 1);
    expect(pongs).toBeGreaterThan(0);
    const other = await open();
    expect(other.first).toBe('challenge');
    other.ws.terminate();
  });

  test('a client pinging within the rate keeps its connection and gets every pong', async () => {
    const { ws } = await open();
    let pongs = 0;
    ws.on('pong', () => pongs++);
    for (let i = 0; i < 20; i++) {
      ws.ping();
      await new Promise((r) => setTimeout(r, 25));
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(pongs).toBe(20);
    expect(ws.readyState).toBe(ws.OPEN);
    ws.terminate();
  });
});
