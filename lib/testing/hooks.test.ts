import { expect, test } from 'vitest';
import { TEST_HOOKS, forwardMediaHooks, iceHooks, mediaStartHooks, retryDirectMsOf, spoilRecvSecretForTest, tapFramesOf, testToneOf } from './hooks';

// Vitest builds nothing: __HUSH_STORE_BUILD__ is undeclared, so the hooks are on, as in `npm run build`.
// Their absence from the store zips is tests/integration/store-build.test.ts.
test('under test the hooks are on and pass their values through', () => {
  expect(TEST_HOOKS).toBe(true);
  const hooks = () => ({ corruptRecvKey: true, tapFrames: 12, retryDirectMs: 0 });
  expect(mediaStartHooks(hooks)).toEqual({ corruptRecvKey: true, testTapFrames: 12 });
  expect(mediaStartHooks(undefined)).toEqual({ corruptRecvKey: false, testTapFrames: undefined });
  expect(iceHooks(hooks)).toEqual({ retryDirectMs: undefined }); // 0: the policy's own default
  expect(iceHooks(() => ({ retryDirectMs: 500 }))).toEqual({ retryDirectMs: 500 });
  expect(retryDirectMsOf({ retryDirectMs: 500 })).toBe(500);
  expect(forwardMediaHooks({ corruptRecvKey: true, testTapFrames: 3, testToneHz: 660 })).toEqual({ corruptRecvKey: true, testTapFrames: 3 });
  expect(testToneOf({ testToneHz: 660 })).toBe(660);
  expect(tapFramesOf({ testTapFrames: 3 })).toBe(3);
  const recv = new Uint8Array([0x0f, 1]);
  spoilRecvSecretForTest({}, recv);
  expect(recv[0]).toBe(0x0f);
  spoilRecvSecretForTest({ corruptRecvKey: true }, recv);
  expect(recv[0]).toBe(0xf0);
});
