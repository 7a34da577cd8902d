/**
 * TURN credentials over signalling (issue 17, long calls): the client asks for fresh ones at four
 * fifths of their life, on a timer of its own (with a 60 s TTL, the shortest a relay allows, a
 * check at each 20 s ping asked only once they had expired), tells `onTurn` of every set, and
 * stops asking once the connection is gone; a renewal with no usable answer is asked again every
 * 10 s, a TTL that is missing or not positive is not believed, and the same set twice is told once.
 */
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { identityFromSeed } from '../crypto/identity';
import { SignalClient } from './client';
import type { TurnCredentials } from './wire';
import { FakeWs } from './fake-ws.fixture';


const creds = (username: string, ttl: number): TurnCredentials => ({ username, credential: 'c', ttl, urls: ['turn:127.0.0.1:3478'] });

beforeEach(() => {
  FakeWs.reset();
  FakeWs.answerPings = true;
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

test('renewal at 4/5 of the TTL, each set told to onTurn; none asked after the connection ended', async () => {
  const told: string[] = [];
  const c = new SignalClient({
    urls: ['wss://r/signal'],
    identity: identityFromSeed(new Uint8Array(32).fill(5)),
    onDeliver: () => {},
    onTurn: (t) => told.push(t.username),
    WebSocketImpl: FakeWs as never,
  });
  c.start();
  await vi.advanceTimersByTimeAsync(0);
  const ws = FakeWs.all[0]!;
  ws.deliver({ t: 'ready', mailbox: 'a'.repeat(32), turn: creds('60:first', 60) });
  expect(told).toEqual(['60:first']);
  expect(c.turn?.username).toBe('60:first');

  await vi.advanceTimersByTimeAsync(47_900);
  expect(ws.asked()).toBe(0);
  await vi.advanceTimersByTimeAsync(200); // 48 s: four fifths of 60 s, 12 s before they expire
  expect(ws.asked()).toBe(1);

  ws.deliver({ t: 'turn', turn: creds('108:second', 60) });
  expect(told).toEqual(['60:first', '108:second']);
  expect(c.turn?.username).toBe('108:second');
  await vi.advanceTimersByTimeAsync(48_000);
  expect(ws.asked()).toBe(2);

  // A relay answering with no life left, or no TTL at all, is not believed: nothing told, no loop.
  ws.deliver({ t: 'turn', turn: creds('0:spent', 0) });
  ws.deliver({ t: 'turn', turn: { username: 'x:nottl', credential: 'c', urls: [] } });
  expect(told).toEqual(['60:first', '108:second']);
  await vi.advanceTimersByTimeAsync(9_900);
  expect(ws.asked()).toBe(2);
  // The renewal got no usable answer: asked again every 10 s until one comes.
  await vi.advanceTimersByTimeAsync(100);
  expect(ws.asked()).toBe(3);
  await vi.advanceTimersByTimeAsync(10_000);
  expect(ws.asked()).toBe(4);
  // The same set twice (a relay answering twice) is told once.
  ws.deliver({ t: 'turn', turn: creds('156:third', 60) });
  ws.deliver({ t: 'turn', turn: creds('156:third', 60) });
  expect(told).toEqual(['60:first', '108:second', '156:third']);

  c.stop();
  await vi.advanceTimersByTimeAsync(120_000);
  expect(ws.asked()).toBe(4);
});
