import { expect, test } from 'vitest';
import { CallState, type CallState as State } from '../call/state';
import type { CallView } from '../messaging/view';
import type { CallSession } from '../call/session';
import { BADGE_LIVE, BADGE_MISSED, BADGE_MUTED, MIC_DOT, badgeLook, micIndicator } from './toolbar-badge';
import { callTone } from './call-view';

const view = (state: State, muted = false) => ({ state, muted }) as CallView;

test('the microphone takes the badge from Dialing to Reconnecting; muted is grey; not while ringing here or ended', () => {
  for (const s of [CallState.Dialing, CallState.Ringing, CallState.Connecting, CallState.Connected, CallState.Reconnecting]) {
    expect(micIndicator(view(s))).toBe('live');
    expect(micIndicator(view(s, true))).toBe('muted');
  }
  expect(micIndicator(view(CallState.Incoming))).toBe(null);
  expect(micIndicator(view(CallState.Ended))).toBe(null);
  expect(micIndicator(null)).toBe(null);
});

test('badge: red ● live, grey ● muted (missed calls wait), then the missed count or nothing', () => {
  expect(badgeLook('live', 3)).toMatchObject({ text: MIC_DOT, color: BADGE_LIVE });
  expect(badgeLook('muted', 3)).toMatchObject({ text: MIC_DOT, color: BADGE_MUTED });
  expect(badgeLook('live', 0).title).toMatch(/microphone is on/);
  expect(badgeLook(null, 2)).toEqual({ text: '2', color: BADGE_MISSED });
  expect(badgeLook(null, 0)).toEqual({ text: '', color: BADGE_MISSED });
  expect(BADGE_MUTED).not.toBe(BADGE_LIVE);
});

test('tones: ringtone while it rings here (if on), ringback while their device rings, nothing otherwise', () => {
  const s = (state: string, role: 'caller' | 'callee') => ({ state, role }) as unknown as CallSession;
  expect(callTone(s(CallState.Incoming, 'callee'), true)).toBe('ringtone');
  expect(callTone(s(CallState.Incoming, 'callee'), false)).toBe(null);
  expect(callTone(s(CallState.Ringing, 'caller'), false)).toBe('ringback');
  for (const st of [CallState.Dialing, CallState.Connecting, CallState.Connected, CallState.Ended]) expect(callTone(s(st, 'caller'), true)).toBe(null);
  expect(callTone(undefined, true)).toBe(null);
});
