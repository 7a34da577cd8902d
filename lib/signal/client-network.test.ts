/**
 * Network changes (network-watch.ts → SignalClient.networkChanged): going offline drops the
 * socket at once, coming back reconnects at once (no backoff, no waiting for a ping to stall)
 * and says onMoved so a live call restarts ICE; a connection-type change counts as a new
 * network, Chrome's estimate changes (rtt, downlink) do not.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { identityFromSeed } from '../crypto/identity';
import { SignalClient } from './client';
import { watchNetwork, type NetworkScope } from './network-watch';
import { FakeWs } from './fake-ws.fixture';

/** A global scope with a Network Information `connection` whose type the test sets. */
function fakeScope(type?: string) {
  const scope = new EventTarget() as EventTarget & NetworkScope;
  const connection = Object.assign(new EventTarget(), { type, rtt: 50 });
  scope.navigator = { connection };
  return { scope, connection };
}

let moved: ReturnType<typeof vi.fn<() => void>>;
let client: SignalClient;
let unwatch: () => void;

function start(scope: NetworkScope) {
  moved = vi.fn<() => void>();
  client = new SignalClient({ urls: ['wss://n1/signal', 'wss://n2/signal'], identity: identityFromSeed(new Uint8Array(32).fill(5)), onDeliver: () => {}, onMoved: moved, WebSocketImpl: FakeWs as never, keepaliveMs: 20_000 });
  unwatch = watchNetwork(scope, (online) => client.networkChanged(online));
  client.start();
}

beforeEach(() => {
  FakeWs.reset();
  vi.useFakeTimers();
});
afterEach(() => {
  unwatch?.();
  client?.stop();
  vi.useRealTimers();
});

describe('SignalClient and the device’s network', () => {
  test('offline drops the socket now; online reconnects to the same relay at once and says onMoved (ICE restart)', async () => {
    const { scope } = fakeScope();
    start(scope);
    await vi.advanceTimersByTimeAsync(0);
    FakeWs.all[0]!.ready();
    expect(client.online).toBe(true);

    scope.dispatchEvent(new Event('offline'));
    expect(FakeWs.all[0]!.closed).toBe(true);
    expect(client.online).toBe(false);
    // Nothing retries while the device is offline (only the slow 30 s safety net).
    await vi.advanceTimersByTimeAsync(10_000);
    expect(FakeWs.all.length).toBe(1);

    scope.dispatchEvent(new Event('online'));
    expect(FakeWs.all.length).toBe(2); // at once, no timer
    expect(FakeWs.all[1]!.url).toBe('wss://n1/signal');
    await vi.advanceTimersByTimeAsync(0);
    FakeWs.all[1]!.ready();
    expect(client.online).toBe(true);
    expect(moved).toHaveBeenCalledTimes(1);
  });

  test('online while a backoff is pending: the wait is cut short', async () => {
    const { scope } = fakeScope();
    start(scope);
    await vi.advanceTimersByTimeAsync(0);
    FakeWs.all[0]!.onclose?.({ code: 1006 }); // the relay could not be reached: 1 s backoff
    await vi.advanceTimersByTimeAsync(500);
    expect(FakeWs.all.length).toBe(1);
    scope.dispatchEvent(new Event('online'));
    expect(FakeWs.all.length).toBe(2);
    await vi.advanceTimersByTimeAsync(600); // the old backoff timer is gone
    expect(FakeWs.all.length).toBe(2);
  });

  test('a new connection type reconnects at once; an estimate change (rtt) or a stopped client does nothing', async () => {
    const { scope, connection } = fakeScope('wifi');
    start(scope);
    await vi.advanceTimersByTimeAsync(0);
    FakeWs.all[0]!.ready();

    connection.rtt = 300;
    connection.dispatchEvent(new Event('change'));
    expect(FakeWs.all.length).toBe(1);

    connection.type = 'cellular';
    connection.dispatchEvent(new Event('change'));
    expect(FakeWs.all.length).toBe(2);
    expect(FakeWs.all[0]!.closed).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    FakeWs.all[1]!.ready();
    expect(moved).toHaveBeenCalledTimes(1);

    client.stop();
    scope.dispatchEvent(new Event('online'));
    expect(FakeWs.all.length).toBe(2);
  });

  test('without the Network Information API only online/offline act', () => {
    const scope = new EventTarget() as EventTarget & NetworkScope;
    const seen: boolean[] = [];
    const off = watchNetwork(scope, (o) => seen.push(o));
    scope.dispatchEvent(new Event('offline'));
    scope.dispatchEvent(new Event('online'));
    off();
    scope.dispatchEvent(new Event('offline'));
    expect(seen).toEqual([false, true]);
  });
});

test('the MV3 service worker’s way (measured): no online/offline event, navigator.onLine flips and connection fires change; reported once', () => {
  const scope = new EventTarget() as EventTarget & NetworkScope;
  const connection = Object.assign(new EventTarget(), { type: undefined as string | undefined });
  const nav = { onLine: true, connection };
  scope.navigator = nav;
  const seen: boolean[] = [];
  const off = watchNetwork(scope, (o) => seen.push(o));
  connection.dispatchEvent(new Event('change')); // an estimate moved: nothing
  nav.onLine = false;
  connection.dispatchEvent(new Event('change'));
  scope.dispatchEvent(new Event('offline')); // a window gets both: still once
  nav.onLine = true;
  connection.dispatchEvent(new Event('change'));
  off();
  expect(seen).toEqual([false, true]);
});
