/** The gap finder of level-watch.ts on scripted blocks: silence between audible blocks, unseen time never counted as silence. */
import { describe, expect, test } from 'vitest';
import { longestSilence } from './level-watch';

const blocks = (spec: string): [number, number | null][] =>
  // '#' audible (−10 dBFS), '.' quiet (−60), '0' silent (null), ' ' unseen (no block at that index)
  [...spec].flatMap((c, i): [number, number | null][] => (c === ' ' ? [] : [[1000 + i, c === '#' ? -10 : c === '.' ? -60 : null]]));

describe('longestSilence', () => {
  test('all audible: no gap', () => {
    expect(longestSilence({ blockMs: 10, blocks: blocks('##########') })).toMatchObject({ gapMs: 0, audible: 10, unseenMs: 0 });
    expect(longestSilence({ blockMs: 10, blocks: blocks('##########') }).gapAtBlock).toBeUndefined();
  });

  test('the longest quiet or silent run between audible blocks, and where it began', () => {
    expect(longestSilence({ blockMs: 10, blocks: blocks('###..##0000.0###') })).toMatchObject({ gapMs: 60, gapAtBlock: 1007 });
  });

  test('quiet before the first audible block or after the last is no gap (the call had not started, or the watch ended)', () => {
    expect(longestSilence({ blockMs: 10, blocks: blocks('....####....') }).gapMs).toBe(0);
  });

  test('unseen blocks are reported, not counted as silence', () => {
    const r = longestSilence({ blockMs: 10, blocks: blocks('###   ###..   ##') });
    expect(r.unseenMs).toBe(60);
    expect(r.gapMs).toBe(20);
  });
});
