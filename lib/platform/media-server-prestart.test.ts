/**
 * Issue 17: the caller's media made at dial in the media host (`media-prestart`), its keys after
 * CONFIRM (`media-keys`, the wire arrays wiped), and a `media-stop` that overtakes a prestart still
 * being made (a call cancelled right after dial): the engine is closed as soon as it exists and
 * never becomes the host's call. CallMedia is scripted: the real one runs in the browser tests.
 */
import { expect, test, vi } from 'vitest';

let release: () => void = () => {};
const made: { closed: boolean; keys?: number[][] }[] = [];
vi.mock('../media/call-media', () => ({
  CallMedia: {
    prestart: async () => {
      await new Promise<void>((r) => (release = r));
      const media = {
        closed: false,
        keys: undefined as number[][] | undefined,
        close() {
          media.closed = true;
        },
        async importKeys(send: Uint8Array, recv: Uint8Array) {
          media.keys = [Array.from(send), Array.from(recv)];
        },
      };
      made.push(media);
      return media;
    },
  },
}));
vi.mock('../ui/ringtone', () => ({ startTone: () => () => {} }));

const { MediaServer } = await import('./media-server');
const opts = (callId: string) => ({ callId, role: 'caller' as const, iceServers: [], relayOnly: false });

test('a prestarted call takes its keys later; the wire arrays are wiped', async () => {
  const server = new MediaServer(() => {});
  const started = server.handle({ target: 'offscreen', kind: 'media-prestart', opts: opts('c1') });
  release();
  expect(await started).toEqual({ ok: true, value: null });
  const send = [1, 2, 3];
  const recv = [4, 5, 6];
  expect(await server.handle({ target: 'offscreen', kind: 'media-keys', callId: 'c1', sendFrameSecret: send, recvFrameSecret: recv })).toEqual({ ok: true, value: null });
  expect(made.at(-1)!.keys).toEqual([[1, 2, 3], [4, 5, 6]]);
  expect([...send, ...recv].every((b) => b === 0)).toBe(true);
  expect(server.current()).toBe(made.at(-1));
});

test('a stop that overtakes the prestart closes the engine once made; it is never the running call', async () => {
  const server = new MediaServer(() => {});
  const started = server.handle({ target: 'offscreen', kind: 'media-prestart', opts: opts('c2') });
  expect(await server.handle({ target: 'offscreen', kind: 'media-stop', callId: 'c2' })).toEqual({ ok: true, value: null });
  release();
  expect(await started).toMatchObject({ ok: false, code: 'ERR_WEBRTC' });
  expect(made.at(-1)!.closed).toBe(true);
  expect(server.current()).toBeUndefined();
  // Its keys find no call.
  expect(await server.handle({ target: 'offscreen', kind: 'media-keys', callId: 'c2', sendFrameSecret: [1], recvFrameSecret: [2] })).toMatchObject({ ok: false });
});
