import { beforeEach, expect, test, vi } from 'vitest';
import { CallState } from '../call/state';
import type { CallManager } from '../call/manager';

const cleared = vi.fn();
vi.mock('./notifications', () => ({ INCOMING_ID: 'hush-incoming', clearIncomingNotification: () => cleared() }));
const { callControls } = await import('./call-controls');

function fakeCalls(state?: CallState) {
  return { accept: vi.fn(), hangup: vi.fn(), setMuted: vi.fn(), current: state ? { state } : undefined } as unknown as CallManager & {
    accept: ReturnType<typeof vi.fn>;
    hangup: ReturnType<typeof vi.fn>;
    setMuted: ReturnType<typeof vi.fn>;
  };
}

beforeEach(() => cleared.mockReset());

test('accept and hang up act on the current manager and take the notification away', () => {
  let calls = fakeCalls(CallState.Incoming);
  const c = callControls(() => calls, () => {});
  c.accept();
  expect(calls.accept).toHaveBeenCalledOnce();
  // An imported identity brings a new manager: the controls follow it.
  calls = fakeCalls(CallState.Incoming);
  c.hangup();
  expect(calls.hangup).toHaveBeenCalledOnce();
  expect(cleared).toHaveBeenCalledTimes(2);
  c.mute(true);
  expect(calls.setMuted).toHaveBeenCalledWith(true);
});

test('dismiss forgets an ended call only, and always re-pushes the view', () => {
  const changed = vi.fn();
  const ended = fakeCalls(CallState.Ended);
  callControls(() => ended, changed).dismiss();
  expect(ended.current).toBeUndefined();
  const live = fakeCalls(CallState.Connected);
  callControls(() => live, changed).dismiss();
  expect(live.current).toBeDefined();
  expect(changed).toHaveBeenCalledTimes(2);
});

test('notification buttons: 0 accepts, 1 declines, other notifications are ignored', () => {
  const calls = fakeCalls(CallState.Incoming);
  const c = callControls(() => calls, () => {});
  c.notificationButton('hush-incoming', 0);
  c.notificationButton('hush-incoming', 1);
  c.notificationButton('something-else', 0);
  expect(calls.accept).toHaveBeenCalledOnce();
  expect(calls.hangup).toHaveBeenCalledOnce();
});
