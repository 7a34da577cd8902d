/**
 * Issue 12, switching devices from the call screen: two Chromium processes, a real relay,
 * A calls B, and A picks another of Chromium's fake capture devices in the call screen's
 * picker ("Microphone and speaker"). The request travels popup → background (`set-call-device`)
 * → media host (`media-set-input` → CallMedia.setInputDevice: replaceTrack on the same sender).
 * Outside truth at B: A's 440 Hz tone goes on, B keeps decrypting A's frames with no
 * authentication failure, and the SAS on both screens is unchanged (same keys). Then back to
 * the system default.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { waitForReading } from '../harness/audio';
import { callState, click, dialByUi, hangUpAll, hears, launchSide, request, stats, waitCallState, waitText, type HushSide } from '../harness/hush';
import { waitFor } from '../harness/wait';

const A_HZ = 440;
const B_HZ = 880;
let relay: RelayProcess;
let a: HushSide;
let b: HushSide;

beforeAll(async () => {
  relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
  [a, b] = await Promise.all([launchSide({ toneHz: A_HZ, signalUrl: relay.signalUrl }), launchSide({ toneHz: B_HZ, signalUrl: relay.signalUrl })]);
}, 90_000);

afterAll(async () => {
  if (a && b) await hangUpAll(a, b).catch(() => {});
  await Promise.allSettled([a?.close(), b?.close()]);
  await relay?.stop();
});

/** The microphone A's media host sends now (CallMedia.inputDevice). */
async function aInput(): Promise<{ deviceId?: string; label: string } | null> {
  const off = await a.hb.offscreen();
  return off.evaluate(() => {
    const s = (globalThis as unknown as { hushMediaServer?: { current(): { inputDevice(): { deviceId?: string; label: string } | null } | undefined } }).hushMediaServer;
    return s?.current()?.inputDevice() ?? null;
  });
}

const bHearsA = () => waitForReading(() => hears(b), (r) => Math.abs(r.frequency - A_HZ) < 10 && r.rmsDb > -40);
const sasOf = (s: HushSide) => s.popup.$eval('[data-testid="sas"]', (e) => e.textContent);

test('A switches microphone from the call screen: B keeps decrypting and hearing A, SAS unchanged', async () => {
  await dialByUi(a.popup, b.address);
  await waitCallState(b.popup, 'incoming');
  await click(b.popup, 'accept');
  await waitCallState(a.popup, 'connected');
  await waitCallState(b.popup, 'connected');
  await bHearsA();
  const sas = await sasOf(a);
  expect(await sasOf(b)).toBe(sas);

  // The picker, as the person uses it: open it, choose a microphone other than the one in use.
  await a.popup.click('[data-testid="device-picker"] summary');
  await a.popup.waitForSelector('[data-testid="call-input"] option:nth-child(2)');
  const options = await a.popup.$$eval('[data-testid="call-input"] option', (os) => os.map((o) => ({ value: (o as HTMLOptionElement).value, label: o.textContent ?? '' })));
  console.info(`call screen microphones: ${options.map((o) => `"${o.label}"`).join(', ')}`);
  expect(options[0]).toEqual({ value: '', label: 'System default' });
  // Labels show: the permission Hush holds lets the popup see them.
  expect(options.slice(1).every((o) => o.label.startsWith('Fake'))).toBe(true);
  const before = await aInput();
  const other = options.slice(1).find((o) => o.value !== before?.deviceId);
  expect(other, 'a second fake capture device').toBeDefined();

  const s0 = await stats(b);
  await a.popup.select('[data-testid="call-input"]', other!.value);
  await waitFor(async () => (await aInput())?.deviceId === other!.value, { timeout: 10_000, what: 'A sends from the chosen microphone' });
  console.info(`A switched "${before?.label}" → "${(await aInput())?.label}"`);
  await bHearsA();
  await new Promise((r) => setTimeout(r, 1000));
  const s1 = await stats(b);
  expect(s1.frames.decrypted - s0.frames.decrypted).toBeGreaterThan(30);
  expect(s1.frames.authFailed).toBe(0);
  expect(await sasOf(a)).toBe(sas);
  expect(await sasOf(b)).toBe(sas);
  expect(await a.popup.$eval('[data-testid="call-input"]', (e) => (e as HTMLSelectElement).value)).toBe(other!.value);
  expect(await a.popup.$('[data-testid="device-error"]')).toBeNull();

  // Back to the system default, from the same picker.
  await a.popup.select('[data-testid="call-input"]', '');
  await waitFor(async () => (await aInput())?.deviceId === before?.deviceId, { timeout: 10_000, what: 'A back on the default microphone' });
  await bHearsA();
  const s2 = await stats(b);
  expect(s2.frames.decrypted).toBeGreaterThan(s1.frames.decrypted);
  expect(s2.frames.authFailed).toBe(0);
  expect(await sasOf(b)).toBe(sas);
  await waitCallState(a.popup, 'connected');
}, 120_000);

/**
 * The microphone in use gone (ERR_MIC_GONE, non-fatal) and back (`cleared: true`): the events the
 * media host's DeviceFollower emits, sent from the offscreen document as the host sends them (a
 * fake capture device cannot be unplugged in headless Chromium, so the follower's own side is
 * covered by lib/media/device-follower.test.ts). The call screen shows the sentence, the call
 * stays connected with the same SAS, and the sentence goes when the microphone is back.
 */
test('microphone gone: the sentence on the call screen, the call stays up; cleared when one is back', async () => {
  const sas = await sasOf(a);
  const off = await a.hb.offscreen();
  const view = (await request(a.popup, 'get-view')) as { call: { callId: string } };
  const callId = view.call.callId;
  const send = (cleared: boolean) =>
    off.evaluate(
      (cleared, callId) =>
        (globalThis as unknown as { chrome: { runtime: { sendMessage(m: unknown): Promise<unknown> } } }).chrome.runtime.sendMessage({
          target: 'background',
          kind: 'media-event',
          callId,
          event: { type: 'error', code: 'ERR_MIC_GONE', fatal: false, message: 'gone', ...(cleared ? { cleared: true } : {}) },
        }),
      cleared,
      callId,
    );
  await send(false);
  const text = await waitText(a.popup, '[data-testid="mic-gone"]', (t) => t.length > 0);
  expect(text).toBe('Your microphone is disconnected: the call stays up, muted. Plug one in.');
  expect(await callState(a.popup)).toBe('connected');
  expect(await sasOf(a)).toBe(sas);
  await send(true);
  await waitFor(async () => (await a.popup.$('[data-testid="mic-gone"]')) === null, { timeout: 5_000, what: 'the sentence gone once the microphone is back' });
  expect(await callState(a.popup)).toBe('connected');
}, 30_000);
