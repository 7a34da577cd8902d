/**
 * Issue 12: `media-set-input` / `media-set-output` reach the call's CallMedia in the media host
 * ('' = the system default, passed on as undefined), and a request for a call the host does not
 * run fails with a code instead of touching another call.
 */
import { expect, test, vi } from 'vitest';

const setInputDevice = vi.fn(async (_id: string | undefined) => {});
const setOutputDevice = vi.fn(async (_id: string | undefined) => {});
vi.mock('../media/call-media', () => ({
  CallMedia: { create: async () => ({ setInputDevice, setOutputDevice, close() {} }) },
}));
vi.mock('../ui/ringtone', () => ({ startRingtone: () => () => {} }));

const { MediaServer } = await import('./media-server');

test('media-set-input / media-set-output switch the running call’s devices', async () => {
  const server = new MediaServer(() => {});
  const opts = { callId: 'c1', role: 'caller' as const, iceServers: [], relayOnly: false, sendFrameSecret: [1], recvFrameSecret: [2] };
  expect(await server.handle({ target: 'offscreen', kind: 'media-start', opts })).toEqual({ ok: true, value: null });

  expect(await server.handle({ target: 'offscreen', kind: 'media-set-input', callId: 'c1', deviceId: 'mic-2' })).toEqual({ ok: true, value: undefined });
  expect(setInputDevice).toHaveBeenLastCalledWith('mic-2');
  await server.handle({ target: 'offscreen', kind: 'media-set-input', callId: 'c1', deviceId: '' });
  expect(setInputDevice).toHaveBeenLastCalledWith(undefined);
  await server.handle({ target: 'offscreen', kind: 'media-set-output', callId: 'c1', deviceId: 'spk-1' });
  expect(setOutputDevice).toHaveBeenLastCalledWith('spk-1');

  const r = await server.handle({ target: 'offscreen', kind: 'media-set-input', callId: 'other', deviceId: 'mic-2' });
  expect(r).toMatchObject({ ok: false, code: 'ERR_WEBRTC' });
  expect(setInputDevice).toHaveBeenCalledTimes(2);
});
