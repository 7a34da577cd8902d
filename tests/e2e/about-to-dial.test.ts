/**
 * Issue 17, a faster start: the media host (Chrome's offscreen document) is made while the
 * person is about to dial (typing an address, pointing at a contact's Call button), not after the
 * click; it opens no microphone and no connection, and it is closed again when no call follows.
 * Real Chromium, real clicks and keys, a real relay; the hold is shortened by a test hook
 * (`testAboutToDialHoldMs`) so the "no call follows" case takes seconds, not 20.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { click, dismiss, hangUpAll, launchSide, request, waitCallState, type HushSide } from '../harness/hush';
import { waitFor } from '../harness/wait';

let relay: RelayProcess;
let a: HushSide;
let b: HushSide;

const HOLD_MS = 2000;

beforeAll(async () => {
  relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
  [a, b] = await Promise.all([launchSide({ toneHz: 440, signalUrl: relay.signalUrl }), launchSide({ toneHz: 880, signalUrl: relay.signalUrl })]);
  await request(a.popup, 'add-contact', { address: b.address, name: 'Bob' });
  const w = await a.hb.worker();
  await w.evaluate(
    (ms) => (globalThis as unknown as { chrome: { storage: { session: { set(v: object): Promise<void> } } } }).chrome.storage.session.set({ testAboutToDialHoldMs: ms }),
    HOLD_MS,
  );
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([a?.close(), b?.close()]);
  await relay?.stop();
});

const offscreenUrl = (s: HushSide) => `chrome-extension://${s.hb.extensionId}/offscreen.html`;
const hasHost = (s: HushSide) => s.hb.browser.targets().some((t) => t.url() === offscreenUrl(s));

type Server = { hushMediaServer?: { current(): unknown } };

/** Whether the media host's engine holds a call, once its script has run (the target shows before). */
async function hostHasCall(s: HushSide): Promise<boolean> {
  const off = await s.hb.offscreen();
  await waitFor(() => off.evaluate(() => !!(globalThis as unknown as Server).hushMediaServer), { timeout: 10_000, what: "the media host's script" });
  return off.evaluate(() => (globalThis as unknown as Server).hushMediaServer!.current() !== undefined);
}

/** No media host at `s`: none yet, or the one of a test before has closed. */
async function noHost(s: HushSide): Promise<void> {
  await waitFor(() => !hasHost(s), { timeout: HOLD_MS + 10_000, interval: 100, what: 'no offscreen document' });
}

describe('the media host is made before the Call click (issue 17)', () => {
  test('typing an address makes it; without a call it closes again after the hold', async () => {
    await noHost(a);
    await a.popup.click('[data-testid="dial-address"]');
    await a.popup.type('[data-testid="dial-address"]', 'hush1');
    await waitFor(() => hasHost(a), { timeout: 10_000, interval: 50, what: "A's offscreen document while typing" });
    expect(await hostHasCall(a)).toBe(false); // no call, so no microphone and no connection
    expect(hasHost(b)).toBe(false); // nothing at the peer: nothing left the device
    await waitFor(() => !hasHost(a), { timeout: HOLD_MS + 10_000, interval: 100, what: "A's offscreen document to close after the hold" });
    // The field keeps its text: clearing it is typing too, and would make the host again (and use
    // up the popup's one request a second that the next test's pointing needs).
  });

  test("pointing at a contact's Call button makes it; the call uses it, and ends with it closed", async () => {
    await noHost(a);
    const btn = (await a.popup.waitForSelector('[data-testid="contact-call"]', { visible: true }))!;
    await btn.hover();
    await waitFor(() => hasHost(a), { timeout: 10_000, interval: 50, what: "A's offscreen document on pointing at Call" });
    await btn.click();
    await waitCallState(b.popup, 'incoming');
    await click(b.popup, 'accept');
    await waitCallState(a.popup, 'connected');
    // Past the hold, the call's host stays: the hold closes only a host no call uses.
    const past = Date.now() + HOLD_MS + 500;
    await waitFor(async () => Date.now() >= past, { timeout: HOLD_MS + 5000, interval: 100, what: 'the hold to pass' });
    expect(hasHost(a)).toBe(true);
    expect(await hostHasCall(a)).toBe(true);
    await hangUpAll(a, b);
    await waitFor(() => !hasHost(a), { timeout: 10_000, interval: 100, what: "A's offscreen document to close after the call" });
    for (const s of [a, b]) await dismiss(s.popup);
  });
});
