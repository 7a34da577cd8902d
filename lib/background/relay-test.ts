/**
 * "Test" on the options page: can this relay's signalling endpoint be
 * reached from here, and how long does opening a WebSocket to it take?
 * Run from the background (the context that will really connect), with no
 * login: the relay sees a connection that closes at once.
 */
import type { RelayTestResult } from '../messaging/protocol';

export const RELAY_TEST_TIMEOUT_MS = 5000;

export function testRelay(url: string, timeoutMs = RELAY_TEST_TIMEOUT_MS): Promise<RelayTestResult> {
  return new Promise((resolve) => {
    if (!/^wss?:\/\/[^\s]+$/.test(url)) return resolve({ url, reachable: false });
    const started = performance.now();
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      return resolve({ url, reachable: false });
    }
    const done = (reachable: boolean) => {
      clearTimeout(timer);
      ws.onopen = ws.onerror = ws.onclose = null;
      try {
        ws.close();
      } catch {
        /* already closed */
      }
      resolve(reachable ? { url, reachable, latencyMs: Math.round(performance.now() - started) } : { url, reachable });
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    ws.onopen = () => done(true);
    ws.onerror = () => done(false);
    ws.onclose = () => done(false);
  });
}
