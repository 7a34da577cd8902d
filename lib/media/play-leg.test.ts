/**
 * Which connection the receiver hears (play-leg.ts), on scripted receive
 * clocks: the peer moving to the standby on a cut, and back over an overlap
 * in which both connections bring its audio.
 */
import { describe, expect, test } from 'vitest';
import { DRAINED_MS, HOLD_MS, MAX_HOLD_MS, PlayLeg, type PlayInput } from './play-leg';
import { RUN_GAP_MS } from './worker-protocol';

const onMain: PlayInput = { mainFrames: 500, mainSilentMs: 5, mainRunMs: 10_000, standbyFrames: 0, standbySilentMs: 0 };
const onStandby: PlayInput = { mainFrames: 500, mainSilentMs: 3000, mainRunMs: 0, standbyFrames: 150, standbySilentMs: 5 };
/** The way back: the peer sends on both; main's run is `runMs` long. */
const overlap = (runMs: number, levels: Pick<PlayInput, 'mainDb' | 'standbyDb'> = {}): PlayInput => ({ ...onStandby, mainFrames: 520, mainSilentMs: 5, mainRunMs: runMs, ...levels });

function hearingStandby(): PlayLeg {
  const p = new PlayLeg();
  p.next(onMain);
  expect(p.next(onStandby)).toBe('standby');
  return p;
}

describe('PlayLeg', () => {
  test('hears main while its frames arrive, standby frames or not', () => {
    const p = new PlayLeg();
    expect(p.next(onMain)).toBe('main');
    expect(p.next({ ...onMain, standbyFrames: 10, standbySilentMs: 5 })).toBe('main');
    expect(p.next({ ...onMain, mainSilentMs: RUN_GAP_MS })).toBe('main');
  });

  test('main silent, the standby bringing frames: the standby; main silent alone (a stalled call) changes nothing', () => {
    const p = new PlayLeg();
    p.next(onMain);
    expect(p.next({ ...onMain, mainSilentMs: 2000, mainRunMs: 0 })).toBe('main');
    expect(p.next({ ...onMain, mainSilentMs: RUN_GAP_MS + 1, mainRunMs: 0, standbyFrames: 3, standbySilentMs: 5 })).toBe('standby');
    expect(p.next({ ...onStandby, standbySilentMs: 2000 })).toBe('standby');
  });

  test(`on the way back, the standby stays heard while main's audio has not started, up to ${MAX_HOLD_MS} ms`, () => {
    const p = hearingStandby();
    expect(p.next(overlap(20))).toBe('standby');
    expect(p.next(overlap(HOLD_MS - 1, { mainDb: -10, standbyDb: -10 }))).toBe('standby');
    // Main's playout is still silence (its jitter buffer starting) while the standby plays the tone.
    expect(p.next(overlap(HOLD_MS, { mainDb: -Infinity, standbyDb: -8 }))).toBe('standby');
    expect(p.next(overlap(MAX_HOLD_MS - 1, { mainDb: -85, standbyDb: -8 }))).toBe('standby');
    expect(p.next(overlap(MAX_HOLD_MS, { mainDb: -85, standbyDb: -8 }))).toBe('main');
  });

  test(`main heard once its playout is about as loud as the standby's, after ${HOLD_MS} ms of its frames`, () => {
    const p = hearingStandby();
    expect(p.next(overlap(HOLD_MS + 20, { mainDb: -12, standbyDb: -8 }))).toBe('main');
    expect(p.next(overlap(HOLD_MS + 40, { mainDb: -90, standbyDb: -8 }))).toBe('main'); // no way back while main brings frames
  });

  test('a pause in the speech (both quiet) or unknown levels: main after HOLD_MS', () => {
    const p = hearingStandby();
    expect(p.next(overlap(HOLD_MS, { mainDb: -80, standbyDb: -75 }))).toBe('main');
    const q = hearingStandby();
    expect(q.next(overlap(HOLD_MS))).toBe('main');
  });

  test("the standby stopped while main brings frames: main once main's playout started, or the standby's buffer played out", () => {
    const p = hearingStandby();
    // A hole in the standby (relay jitter) while main's jitter buffer is still silent: the standby's last words play on.
    expect(p.next({ ...overlap(20, { mainDb: -90, standbyDb: -8 }), standbySilentMs: RUN_GAP_MS + 1 })).toBe('standby');
    expect(p.next({ ...overlap(40, { mainDb: -90, standbyDb: -8 }), standbySilentMs: DRAINED_MS })).toBe('main');
    const q = hearingStandby();
    expect(q.next({ ...overlap(20, { mainDb: -12, standbyDb: -8 }), standbySilentMs: RUN_GAP_MS + 1 })).toBe('main');
    const r = hearingStandby();
    expect(r.next({ ...overlap(20), standbySilentMs: RUN_GAP_MS + 1 })).toBe('main'); // levels unknown
  });

  test('a few stray frames on main do not take the standby away', () => {
    const p = hearingStandby();
    expect(p.next(overlap(40))).toBe('standby');
    expect(p.next(onStandby)).toBe('standby');
  });

  test('reset: main', () => {
    const p = hearingStandby();
    p.reset();
    expect(p.leg).toBe('main');
  });
});
