import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { ReplayWindow } from './replay-window';
import { REPLAY_WINDOW } from './constants';

describe('replay window', () => {
  test('accepts each counter once, reordered within the window', () => {
    const w = new ReplayWindow();
    for (const c of [5, 3, 4, 10, 6]) {
      expect(w.check(c)).toBe('fresh');
      w.accept(c);
    }
    for (const c of [5, 3, 4, 10, 6]) expect(w.check(c)).toBe('replayed');
    expect(w.check(7)).toBe('fresh');
  });

  test('older than the window is stale; the edge of the window is not', () => {
    const w = new ReplayWindow();
    w.accept(1000);
    expect(w.check(1000 - (REPLAY_WINDOW - 1))).toBe('fresh');
    expect(w.check(1000 - REPLAY_WINDOW)).toBe('stale');
    expect(REPLAY_WINDOW).toBeGreaterThanOrEqual(128);
  });

  test('matches a reference model on random sequences', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(600), { maxLength: 400 }), (seq) => {
        const w = new ReplayWindow();
        const seen = new Set<number>();
        let top = -1;
        for (const c of seq) {
          const expected = seen.has(c) ? 'replayed' : c <= top - REPLAY_WINDOW ? 'stale' : 'fresh';
          const got = w.check(c);
          // A seen counter that has slid out of the window reports stale, not replayed.
          if (expected === 'replayed' && c <= top - REPLAY_WINDOW) expect(got).toBe('stale');
          else expect(got).toBe(expected);
          if (got === 'fresh') {
            w.accept(c);
            seen.add(c);
            top = Math.max(top, c);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
