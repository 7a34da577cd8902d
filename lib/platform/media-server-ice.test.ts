/**
 * Issue 17, long calls: `media-ice-servers` (renewed TURN credentials, pushed by the background)
 * reaches the running call's CallMedia.setIceServers in the media host; one for a call the host
 * does not run (the renewal crossed the call's end) changes nothing and is no error.
 */
import { expect, test, vi } from 'vitest';

const setIceServers = vi.fn((_s: RTCIceServer[]) => {});
vi.mock('../media/call-media', () => ({
  CallMedia: { create: async () => ({ setIceServers, close() {} }) },
}));
vi.mock('../ui/ringtone', () => ({ startRingtone: () => () => {} }));

const { MediaServer } = await import('./media-server');

test('media-ice-servers updates the running call, and only that one', async () => {
  const server = new MediaServer(() => {});
  const opts = { callId: 'c1', role: 'caller' as const, iceServers: [], relayOnly: false, sendFrameSecret: [1], recvFrameSecret: [2] };
  expect(await server.handle({ target: 'offscreen', kind: 'media-start', opts })).toEqual({ ok: true, value: null });
  const renewed = [{ urls: ['turn:127.0.0.1:3478'], username: '160:k', credential: 'p' }];
  expect(await server.handle({ target: 'offscreen', kind: 'media-ice-servers', callId: 'c1', iceServers: renewed })).toEqual({ ok: true, value: null });
  expect(setIceServers).toHaveBeenCalledWith(renewed);
  expect(await server.handle({ target: 'offscreen', kind: 'media-ice-servers', callId: 'gone', iceServers: renewed })).toEqual({ ok: true, value: null });
  expect(setIceServers).toHaveBeenCalledTimes(1);
});
