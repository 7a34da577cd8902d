/**
 * Issue 17: the hold of a media host made ahead of a call (`MediaPort.prewarm({ ms, idle })`,
 * media-port.ts, over offscreen.ts's uses counter): closed after the hold only if nothing used the
 * document since and no call is live. Chrome's offscreen API is a stand-in that keeps one
 * document and counts creations and closes; the timers are Vitest's.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';

const doc = { open: false, created: 0, closed: 0 };
vi.mock('wxt/browser', () => ({
  browser: {
    runtime: {
      getURL: (p: string) => `chrome-extension://hushid${p}`,
      getContexts: async () => (doc.open ? [{ documentUrl: 'chrome-extension://hushid/offscreen.html' }] : []),
      sendMessage: async () => ({ ok: true, value: null }),
    },
    offscreen: {
      createDocument: async () => {
        doc.open = true;
        doc.created++;
      },
      closeDocument: async () => {
        doc.open = false;
        doc.closed++;
      },
    },
  },
}));

const { offscreenMediaPort } = await import('./media-port');

const HOLD = 20_000;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  Object.assign(doc, { open: false, created: 0, closed: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Let the lifecycle queue's promises settle. */
const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('a media host made ahead of a call (prewarm with a hold)', () => {
  test('no use and no call: closed after the hold, not before', async () => {
    const port = offscreenMediaPort();
    port.prewarm!({ ms: HOLD, idle: () => true });
    await settle();
    expect(doc).toMatchObject({ open: true, created: 1 });
    await vi.advanceTimersByTimeAsync(HOLD - 1);
    expect(doc.open).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(doc).toMatchObject({ open: false, closed: 1 });
  });

  test("a use since (the dial's own prewarm, a ring): it stays", async () => {
    const port = offscreenMediaPort();
    port.prewarm!({ ms: HOLD, idle: () => true });
    await settle();
    port.prewarm!(); // the dial: a use, no hold of its own
    await vi.advanceTimersByTimeAsync(HOLD + 1);
    await settle();
    expect(doc).toMatchObject({ open: true, created: 1, closed: 0 });
  });

  test('no use since, but a call is live: it stays', async () => {
    const port = offscreenMediaPort();
    let live = true;
    port.prewarm!({ ms: HOLD, idle: () => !live });
    await vi.advanceTimersByTimeAsync(HOLD + 1);
    await settle();
    expect(doc).toMatchObject({ open: true, closed: 0 });
    live = false; // the call ended later: its own stop closes the document, not the old hold
  });

  test("a second warm-up renews the hold: the first one's close does nothing", async () => {
    const port = offscreenMediaPort();
    port.prewarm!({ ms: HOLD, idle: () => true });
    await vi.advanceTimersByTimeAsync(HOLD / 2);
    port.prewarm!({ ms: HOLD, idle: () => true });
    await vi.advanceTimersByTimeAsync(HOLD / 2 + 1);
    await settle();
    expect(doc.open).toBe(true);
    await vi.advanceTimersByTimeAsync(HOLD / 2);
    await settle();
    expect(doc).toMatchObject({ open: false, created: 1, closed: 1 });
  });
});
