import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { QualityMonitor } from './quality-monitor';
import type { QualitySample } from '../ui/call-quality';

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

/** A call's cumulative counters that grow 50 packets a second, losing `lossPct` of them. */
function fakeCall() {
  let received = 0;
  let lost = 0;
  let lossPct = 0;
  return {
    setLoss: (p: number) => void (lossPct = p),
    tick: () => {
      lost += (50 * lossPct) / 100;
      received += 50 - (50 * lossPct) / 100;
    },
    sample: (): QualitySample => ({ packetsReceived: received, packetsLost: lost, frames: { decrypted: received, dropped: 0 } }),
  };
}

test('a reading after one window; loss turns it weak then bad, and back to good; the view is pushed only on a change', async () => {
  const call = fakeCall();
  const asked: string[] = [];
  const seen: string[] = [];
  const changed = vi.fn(() => void seen.push(m.reading('c1')!.quality));
  const m = new QualityMonitor({
    stats: async (id) => {
      asked.push(id);
      call.tick();
      return call.sample();
    },
    changed,
    now: () => Date.now(),
  });
  m.follow('c1');
  await vi.advanceTimersByTimeAsync(3000);
  expect(m.reading('c1')).toBeUndefined(); // not a whole window yet
  await vi.advanceTimersByTimeAsync(2000);
  expect(m.reading('c1')?.quality).toBe('good');
  expect(changed).toHaveBeenCalledTimes(1);
  await vi.advanceTimersByTimeAsync(10_000);
  expect(changed).toHaveBeenCalledTimes(1); // still good: no push
  call.setLoss(8);
  await vi.advanceTimersByTimeAsync(6000);
  expect(m.reading('c1')?.quality).toBe('weak');
  call.setLoss(20);
  await vi.advanceTimersByTimeAsync(6000);
  expect(m.reading('c1')?.quality).toBe('bad');
  call.setLoss(0);
  await vi.advanceTimersByTimeAsync(6000);
  expect(m.reading('c1')?.quality).toBe('good');
  // Each push was a change of class; leaving "bad" the window passes through "weak" on its way back.
  expect(seen.join(' ')).toMatch(/^good weak bad (weak )?good$/);
  expect(new Set(asked)).toEqual(new Set(['c1']));
  m.follow(undefined);
});

test('following another call (or none) forgets the reading and ignores the old call\'s late answer', async () => {
  let release: (s: QualitySample) => void = () => {};
  const changed = vi.fn();
  const m = new QualityMonitor({ stats: () => new Promise((r) => (release = r)), changed });
  m.follow('c1');
  await vi.advanceTimersByTimeAsync(10);
  m.follow('c2'); // c1's request is still out
  release({ packetsReceived: 1, frames: { decrypted: 1, dropped: 0 } });
  await vi.advanceTimersByTimeAsync(10);
  expect(m.reading('c1')).toBeUndefined();
  expect(m.reading('c2')).toBeUndefined();
  expect(changed).not.toHaveBeenCalled();
  m.follow(undefined);
  await vi.advanceTimersByTimeAsync(10_000);
  expect(vi.getTimerCount()).toBe(0);
});

test('a failed or empty stats answer is skipped, the polling goes on', async () => {
  let n = 0;
  const m = new QualityMonitor({
    stats: async () => {
      n++;
      if (n % 2) throw new Error('media host gone');
      return { packetsReceived: n * 50, frames: { decrypted: n * 50, dropped: 0 } };
    },
    changed: () => {},
    now: () => Date.now(),
  });
  m.follow('c');
  await vi.advanceTimersByTimeAsync(12_000);
  expect(n).toBeGreaterThan(10);
  expect(m.reading('c')?.quality).toBe('good');
  m.follow(undefined);
});
