import { expect, test } from 'vitest';
import { qualityBetween, type QualitySample } from './call-quality';

const s = (packetsReceived: number, decrypted: number, dropped = 0, longestGapMs = 0): QualitySample => ({
  packetsReceived,
  frames: { decrypted, dropped, longestGapMs },
});

test('quality: frames flowing and none dropped is good; a few dropped or a long gap is fair; none arriving or ≥ 5 % dropped is poor', () => {
  expect(qualityBetween(s(100, 100), s(250, 250))).toBe('good');
  expect(qualityBetween(s(100, 100), s(250, 249, 1))).toBe('fair');
  expect(qualityBetween(s(100, 100, 0, 60), s(250, 250, 0, 800))).toBe('fair');
  expect(qualityBetween(s(100, 100), s(100, 100))).toBe('poor');
  expect(qualityBetween(s(100, 100), s(250, 140, 10))).toBe('poor');
});
