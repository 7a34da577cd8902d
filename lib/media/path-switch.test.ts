/**
 * Make before break, the decision alone (path-switch.ts), on scripted inputs:
 * a direct path that stops delivering, a standby that is or is not ready, the
 * peer coming back on the main connection, consent responses proving the
 * direct path alive.
 */
import { describe, expect, test } from 'vitest';
import { BACK_FRAMES, BACK_RESPONSES, DEAD_MS, MAX_DEAD_MS, PathSwitch, type SwitchInput } from './path-switch';

const base: SwitchInput = { now: 0, mainPacketAt: 0, standbyReady: true, mainDirectConnected: true };

/** Feed packets every 20 ms on main up to `until`, then `silentFor` ms of nothing. */
function run(sw: PathSwitch, until: number, extra: Partial<SwitchInput> = {}): ReturnType<PathSwitch['next']>[] {
  const out = [];
  for (let t = 0; t <= until; t += 20) out.push(sw.next({ ...base, ...extra, now: t, mainPacketAt: t }));
  return out;
}

describe('PathSwitch', () => {
  test('stays on main while packets arrive', () => {
    const sw = new PathSwitch();
    expect(run(sw, 2000).every((d) => d.leg === 'main' && !d.reason)).toBe(true);
  });

  test('before any packet, silence is not a dead path', () => {
    const sw = new PathSwitch();
    expect(sw.next({ ...base, now: 5000, mainPacketAt: 0 })).toEqual({ leg: 'main' });
  });

  test(`no packet on main for ${DEAD_MS} ms with the standby ready: to the standby, once`, () => {
    const sw = new PathSwitch();
    run(sw, 1000);
    expect(sw.next({ ...base, now: 1000 + DEAD_MS - 1, mainPacketAt: 1000 })).toEqual({ leg: 'main' });
    expect(sw.next({ ...base, now: 1000 + DEAD_MS, mainPacketAt: 1000 })).toEqual({ leg: 'standby', reason: 'main-silent' });
    expect(sw.next({ ...base, now: 1000 + DEAD_MS + 20, mainPacketAt: 1000 })).toEqual({ leg: 'standby' });
    expect(sw.leg).toBe('standby');
  });

  test('a jittery main (long recent gaps between packets) waits twice the longest gap, up to MAX_DEAD_MS', () => {
    const sw = new PathSwitch();
    run(sw, 1000);
    expect(sw.next({ ...base, now: 1000 + DEAD_MS, mainPacketAt: 1000, mainJitterMs: 120 }).leg).toBe('main');
    expect(sw.next({ ...base, now: 1239, mainPacketAt: 1000, mainJitterMs: 120 }).leg).toBe('main');
    expect(sw.next({ ...base, now: 1240, mainPacketAt: 1000, mainJitterMs: 120 }).reason).toBe('main-silent');
    const sw2 = new PathSwitch();
    run(sw2, 1000);
    expect(sw2.next({ ...base, now: 1000 + MAX_DEAD_MS, mainPacketAt: 1000, mainJitterMs: 900 }).reason).toBe('main-silent');
  });

  test("the worker's own silence figure wins over the page's clock: a late page is not a dead path", () => {
    const sw = new PathSwitch();
    run(sw, 1000, { mainSilentMs: 0 });
    // The page handled nothing for 400 ms; the tick it now handles says the last frame was 20 ms before it was made.
    expect(sw.next({ ...base, now: 1400, mainPacketAt: 1000, mainSilentMs: 20 })).toEqual({ leg: 'main' });
    // The same late page, but the worker saw the silence too: that is a dead path.
    expect(sw.next({ ...base, now: 1420, mainPacketAt: 1000, mainSilentMs: DEAD_MS })).toEqual({ leg: 'standby', reason: 'main-silent' });
    // Without the worker's figure the page's clock decides (the older behaviour): the same late page switches.
    const sw2 = new PathSwitch();
    run(sw2, 1000);
    expect(sw2.next({ ...base, now: 1400, mainPacketAt: 1000 }).reason).toBe('main-silent');
    // Jitter still stretches the wait when the worker's figure is used.
    const sw3 = new PathSwitch();
    run(sw3, 1000, { mainSilentMs: 0 });
    expect(sw3.next({ ...base, now: 1300, mainPacketAt: 1000, mainSilentMs: 200, mainJitterMs: 120 }).leg).toBe('main');
    expect(sw3.next({ ...base, now: 1340, mainPacketAt: 1000, mainSilentMs: 240, mainJitterMs: 120 }).reason).toBe('main-silent');
  });

  test('without a ready standby, a silent main stays main (the stall watcher rebuilds the path)', () => {
    const sw = new PathSwitch();
    run(sw, 1000);
    expect(sw.next({ ...base, standbyReady: false, now: 3000, mainPacketAt: 1000 })).toEqual({ leg: 'main' });
  });

  test(`${BACK_FRAMES} frames on main again bring our sending back only while our side's ICE is up on a direct pair`, () => {
    const sw = new PathSwitch();
    sw.next({ ...base, now: 1000, mainPacketAt: 1000, mainPackets: 50 });
    expect(sw.next({ ...base, now: 1200, mainPacketAt: 1000, mainPackets: 50 }).reason).toBe('main-silent');
    // The peer's frames arrive, but our side's main ICE is not up on a direct pair: they prove only its direction.
    expect(sw.next({ ...base, now: 3000, mainPacketAt: 2990, mainPackets: 80, mainDirectConnected: false }).leg).toBe('standby');
    const sw2 = new PathSwitch();
    sw2.next({ ...base, now: 1000, mainPacketAt: 1000, mainPackets: 50 });
    sw2.next({ ...base, now: 1200, mainPacketAt: 1000, mainPackets: 50 });
    expect(sw2.next({ ...base, now: 1300, mainPacketAt: 1290, mainPackets: 50 + BACK_FRAMES - 1 }).leg).toBe('standby');
    expect(sw2.next({ ...base, now: 1320, mainPacketAt: 1310, mainPackets: 50 + BACK_FRAMES })).toEqual({ leg: 'main', reason: 'main-packets' });
  });

  test(`${BACK_RESPONSES} consent responses on a direct, connected main after leaving it: back`, () => {
    const sw = new PathSwitch();
    run(sw, 1000);
    sw.next({ ...base, now: 1200, mainPacketAt: 1000, mainResponses: 40 });
    // Baseline taken on the first reading after the switch; a response in flight before the cut counts from there.
    expect(sw.next({ ...base, now: 1300, mainPacketAt: 1000, mainResponses: 40 }).leg).toBe('standby');
    expect(sw.next({ ...base, now: 3000, mainPacketAt: 1000, mainResponses: 40 + BACK_RESPONSES - 1 }).leg).toBe('standby');
    // Responses, but on a relayed or disconnected main: not the direct path back.
    expect(sw.next({ ...base, now: 3500, mainPacketAt: 1000, mainResponses: 40 + BACK_RESPONSES, mainDirectConnected: false }).leg).toBe('standby');
    expect(sw.next({ ...base, now: 4000, mainPacketAt: 1000, mainResponses: 40 + BACK_RESPONSES })).toEqual({ leg: 'main', reason: 'main-consent' });
  });

  test('an ICE restart of main (a new pair, counters from 0) takes a new baseline', () => {
    const sw = new PathSwitch();
    run(sw, 1000);
    sw.next({ ...base, now: 1200, mainPacketAt: 1000, mainResponses: 40 });
    sw.next({ ...base, now: 1300, mainPacketAt: 1000, mainResponses: 40 });
    expect(sw.next({ ...base, now: 5000, mainPacketAt: 1000, mainResponses: 0 }).leg).toBe('standby');
    expect(sw.next({ ...base, now: 5500, mainPacketAt: 1000, mainResponses: 1 }).leg).toBe('standby');
    expect(sw.next({ ...base, now: 6000, mainPacketAt: 1000, mainResponses: BACK_RESPONSES }).reason).toBe('main-consent');
  });

  test('the standby fails while it carries the audio: back to main', () => {
    const sw = new PathSwitch();
    run(sw, 1000);
    sw.next({ ...base, now: 1200, mainPacketAt: 1000 });
    expect(sw.next({ ...base, standbyReady: false, now: 1300, mainPacketAt: 1000 })).toEqual({ leg: 'main', reason: 'standby-lost' });
  });

  test('reset (a fresh main connection): main, and a later silence switches again', () => {
    const sw = new PathSwitch();
    run(sw, 1000);
    sw.next({ ...base, now: 1200, mainPacketAt: 1000 });
    sw.reset();
    expect(sw.leg).toBe('main');
    expect(sw.next({ ...base, now: 1300, mainPacketAt: 1290 }).leg).toBe('main');
    expect(sw.next({ ...base, now: 1290 + DEAD_MS, mainPacketAt: 1290 }).reason).toBe('main-silent');
  });
});
