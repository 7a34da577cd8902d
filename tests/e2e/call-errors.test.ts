/**
 * The call's other endings, end to end with real browsers and a real relay:
 * an incoming call rings with the popup closed (system notification) and is
 * answered from it; a second call while busy is declined "busy"; a callee
 * with no microphone, or who denied it, ends with a sentence on both sides;
 * a relay that cannot be reached is said so before dialling.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { permissionWindow, setMicPermission } from '../harness/permission';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { launchWithExtension } from '../harness/chromium';
import { callState, click, dialByUi, dismiss, hangUpAll, launchSide, request, waitCallState, waitText, type HushSide } from '../harness/hush';
import { waitFor } from '../harness/wait';

let relay: RelayProcess;
let a: HushSide;
let b: HushSide;
const extra: HushSide[] = [];

beforeAll(async () => {
  relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
  [a, b] = await Promise.all([launchSide({ toneHz: 440, signalUrl: relay.signalUrl }), launchSide({ toneHz: 880, signalUrl: relay.signalUrl })]);
});

afterAll(async () => {
  await Promise.allSettled([a?.close(), b?.close(), ...extra.map((s) => s.close())]);
  await relay?.stop();
});

async function reset(...sides: HushSide[]) {
  await hangUpAll(...sides);
  for (const s of sides) await dismiss(s.popup);
}

const reason = (s: HushSide) => s.popup.$eval('[data-testid="end-message"]', (e) => e.getAttribute('data-reason'));

type Sw = { chrome: { notifications: { getAll(): Promise<Record<string, unknown>> } } };

describe('endings and errors', () => {
  test('with the popup closed, an incoming call rings as a system notification and is answered from the popup', async () => {
    await b.popup.close();
    try {
      await dialByUi(a.popup, b.address);
      await waitCallState(a.popup, 'ringing');
      const w = await b.hb.worker();
      let notes = await waitFor(
        async () => {
          const n = await w.evaluate(() => (globalThis as unknown as Sw).chrome.notifications.getAll());
          return 'hush-incoming' in n && n;
        },
        { timeout: 10_000, interval: 100, what: "B's incoming-call notification" },
      );
      expect(Object.keys(notes)).toContain('hush-incoming');
      // …and it rings: the ringtone plays in the offscreen document, no Hush page is open.
      const ringing = async () =>
        (await b.hb.offscreen()).evaluate(() => (globalThis as unknown as { hushMediaServer: { ringing: boolean } }).hushMediaServer.ringing);
      expect(await ringing()).toBe(true);
      // The person opens the popup (toolbar button or notification): the incoming view is there.
      b.popup = await b.hb.openPopup();
      await waitCallState(b.popup, 'incoming');
      await click(b.popup, 'accept');
      await waitCallState(a.popup, 'connected');
      await waitCallState(b.popup, 'connected');
      notes = await w.evaluate(() => (globalThis as unknown as Sw).chrome.notifications.getAll());
      expect(Object.keys(notes)).not.toContain('hush-incoming');
      expect(await ringing()).toBe(false);
    } finally {
      if (b.popup.isClosed()) b.popup = await b.hb.openPopup();
      await reset(a, b);
    }
  });

  test('a second call while busy is declined with "busy"; the first call is untouched', async () => {
    const c = await launchSide({ toneHz: 660, signalUrl: relay.signalUrl });
    extra.push(c);
    try {
      await dialByUi(a.popup, b.address);
      await click(b.popup, 'accept');
      await waitCallState(a.popup, 'connected');
      await dialByUi(c.popup, b.address);
      await waitCallState(c.popup, 'ended');
      expect(await reason(c)).toBe('busy');
      expect(await c.popup.$eval('[data-testid="end-message"]', (e) => e.textContent)).toMatch(/another call/);
      expect(await callState(a.popup)).toBe('connected');
      expect(await callState(b.popup)).toBe('connected');
    } finally {
      await reset(a, b, c);
    }
  });

  test('a callee without a microphone: both sides end, with a sentence', async () => {
    // No fake capture device: this browser has no microphone at all.
    const hb = await launchWithExtension({ args: ['--allow-loopback-in-peer-connection'] , noFakeMedia: true });
    const popup = await hb.openPopup();
    const m: HushSide = { hb, popup, address: '', close: () => hb.close() };
    extra.push(m);
    await popup.waitForSelector('[data-testid="my-address"]', { timeout: 20_000 });
    m.address = (await popup.$eval('[data-testid="my-address"]', (e) => e.textContent)) ?? '';
    await request(popup, 'update-settings', { settings: { relays: [relay.signalUrl] } });
    await waitText(popup, '[data-testid="relay-status"]', (t) => t === 'Connected to relay', 20_000);
    try {
      await dialByUi(a.popup, m.address);
      await click(m.popup, 'accept');
      await waitCallState(m.popup, 'ended');
      expect(await reason(m)).toBe('no-microphone');
      expect(await m.popup.$eval('[data-testid="end-message"]', (e) => e.textContent)).toMatch(/microphone/i);
      await waitCallState(a.popup, 'ended');
      expect(await reason(a)).toBe('remote-hangup');
    } finally {
      await reset(a, m);
    }
  });

  test('a callee who denied the microphone: "mic-denied" with what to do', async () => {
    // A person who blocked the microphone for Hush: the Block recorded as Chrome records it (no launch flag).
    const d = await launchSide({ toneHz: 550, signalUrl: relay.signalUrl, micPermission: 'prompt' });
    await setMicPermission(d.hb, 'denied');
    extra.push(d);
    try {
      await dialByUi(a.popup, d.address);
      await click(d.popup, 'accept');
      // Hush's permission window says where to lift the block; the person closes it.
      await (await permissionWindow(d.hb)).close();
      await waitCallState(d.popup, 'ended');
      expect(await reason(d)).toBe('mic-denied');
      expect(await d.popup.$eval('[data-testid="end-message"]', (e) => e.textContent)).toMatch(/allow/i);
      await waitCallState(a.popup, 'ended');
      // A person's Block goes through Hush's permission window, and the caller is told why (issue 12).
      expect(await reason(a)).toBe('remote-mic-denied');
    } finally {
      await reset(a, d);
    }
  });

  test('relay unreachable: dialling says so, nothing rings', async () => {
    await request(a.popup, 'update-settings', { settings: { relays: ['ws://127.0.0.1:9/signal'] } });
    try {
      await waitText(a.popup, '[data-testid="relay-status"]', (t) => t !== 'Connected to relay');
      await dialByUi(a.popup, b.address);
      const err = await waitText(a.popup, '[data-testid="dial-error"]', (t) => t.length > 0, 15_000);
      expect(err).toMatch(/relay/i);
      expect(await callState(b.popup)).toBe('');
    } finally {
      await request(a.popup, 'update-settings', { settings: { relays: [relay.signalUrl] } });
      await waitText(a.popup, '[data-testid="relay-status"]', (t) => t === 'Connected to relay', 20_000);
      await a.popup.$eval('[data-testid="dial-address"]', (e) => ((e as HTMLInputElement).value = ''));
    }
  });
});
