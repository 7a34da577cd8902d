/**
 * A relay node that shuts down closes its clients with 1012 (docs/relay-protocol.md):
 * the client goes to the next relay at once instead of backing off, and says so
 * (onMoved) once it is online there, so a call can move its media too. A node
 * that refuses a new connection with 1012 (still draining) gets the usual backoff.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { identityFromSeed } from '../crypto/identity';
import { SignalClient } from './client';
import { FakeWs } from './fake-ws.fixture';

beforeEach(() => {
  FakeWs.reset();
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

async function settle() {
  await vi.advanceTimersByTimeAsync(0);
}

describe('SignalClient and a draining relay', () => {
  test('close 1012 while online: the next relay at once, then onMoved; a crash (1006) backs off and is not a move', async () => {
    const moved = vi.fn();
    const c = new SignalClient({ urls: ['wss://n1/signal', 'wss://n2/signal'], identity: identityFromSeed(new Uint8Array(32).fill(5)), onDeliver: () => {}, onMoved: moved, WebSocketImpl: FakeWs as never });
    c.start();
    await settle();
    FakeWs.all[0]!.ready();
    expect(c.online).toBe(true);

    FakeWs.all[0]!.drop(1012);
    await settle();
    expect(FakeWs.all.map((w) => w.url)).toEqual(['wss://n1/signal', 'wss://n2/signal']);
    expect(moved).not.toHaveBeenCalled();
    FakeWs.all[1]!.ready();
    expect(moved).toHaveBeenCalledTimes(1);

    FakeWs.all[1]!.drop(1006);
    await settle();
    expect(FakeWs.all.length).toBe(2); // backoff: not yet
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeWs.all.length).toBe(3);
    FakeWs.all[2]!.ready();
    expect(moved).toHaveBeenCalledTimes(1);
    c.stop();
  });

  test('1012 on a connection that never got online (that node is still draining): the usual backoff', async () => {
    const c = new SignalClient({ urls: ['wss://n1/signal'], identity: identityFromSeed(new Uint8Array(32).fill(5)), onDeliver: () => {}, WebSocketImpl: FakeWs as never });
    c.start();
    await settle();
    FakeWs.all[0]!.drop(1012);
    await settle();
    expect(FakeWs.all.length).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeWs.all.length).toBe(2);
    c.stop();
  });
});
