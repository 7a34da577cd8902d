import { expect, test } from 'vitest';
import { slopePerMinute } from './soak';

test('slopePerMinute: least squares over ms timestamps, per minute', () => {
  // 1000 bytes more every 15 s = 4000 bytes a minute, with ±50 bytes of alternating noise.
  const pts = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => ({ t: i * 15_000, y: 1_000_000 + i * 1000 + (i % 2 ? 50 : -50) }));
  // The alternating noise leaves 200/42 bytes per step (Σ(i−3.5)·e_i / Σ(i−3.5)²), 4 steps a minute.
  expect(slopePerMinute(pts)).toBeCloseTo(4000 + (4 * 200) / 42, 6);
  expect(slopePerMinute(pts.map((p) => ({ t: p.t, y: 5 })))).toBe(0);
  expect(slopePerMinute([{ t: 0, y: 1 }])).toBe(0);
});
