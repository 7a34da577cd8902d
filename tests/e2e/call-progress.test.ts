/**
 * What a person notices around a call that is not the call's audio (issue 18), with real
 * browsers and a real relay: the caller hears a ringback while the callee's device rings (read
 * from the caller's media host: which tone plays, and an analyser on its output reads 425 Hz);
 * a second caller turned away "busy" shows as a call-waiting notice and a "missed (you were in a
 * call)" history entry; the toolbar badge shows the open (or muted) microphone during a call and
 * the missed-call count after it; the mic-denied end screen opens Chrome's settings for Hush.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'puppeteer-core';
import { permissionWindow, setMicPermission } from '../harness/permission';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { callState, click, dialByUi, dismiss, hangUpAll, launchSide, request, waitCallState, type HushSide } from '../harness/hush';
import { waitFor } from '../harness/wait';

let relay: RelayProcess;
let a: HushSide;
let b: HushSide;
let c: HushSide;
const extra: HushSide[] = [];

beforeAll(async () => {
  relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
  [a, b] = await Promise.all([launchSide({ toneHz: 440, signalUrl: relay.signalUrl }), launchSide({ toneHz: 880, signalUrl: relay.signalUrl })]);
  c = await launchSide({ toneHz: 660, signalUrl: relay.signalUrl });
});

afterAll(async () => {
  await Promise.allSettled([a?.close(), b?.close(), c?.close(), ...extra.map((s) => s.close())]);
  await relay?.stop();
});

async function reset(...sides: HushSide[]) {
  if (b.popup.isClosed()) b.popup = await b.hb.openPopup();
  await hangUpAll(...sides);
  for (const s of sides) await dismiss(s.popup);
}

type Server = { hushMediaServer: { tone: string | null; toneAnalyser?: AnalyserNode } };
const tone = async (s: HushSide) => (await s.hb.offscreen()).evaluate(() => (globalThis as unknown as Server).hushMediaServer.tone);

/** The loudest frequency on the media host's tone output, once the cadence is "on" (null: silence). */
async function toneHz(off: Page): Promise<number | null> {
  return off.evaluate(() => {
    const an = (globalThis as unknown as Server).hushMediaServer.toneAnalyser;
    if (!an) return null;
    const bins = new Float32Array(an.frequencyBinCount);
    an.getFloatFrequencyData(bins);
    let best = 0;
    for (let i = 1; i < bins.length; i++) if (bins[i]! > bins[best]!) best = i;
    if (!(bins[best]! > -60)) return null;
    return (best * an.context.sampleRate) / an.fftSize;
  });
}

type View = { call: { ringback?: boolean; waiting?: { address: string }; state: string } | null };
type Sw = {
  chrome: { action: { getBadgeText(d: object): Promise<string>; getBadgeBackgroundColor(d: object): Promise<number[]>; getTitle(d: object): Promise<string> } };
};
async function badge(s: HushSide): Promise<{ text: string; color: number[]; title: string }> {
  const w = await s.hb.worker();
  return w.evaluate(async () => {
    const act = (globalThis as unknown as Sw).chrome.action;
    return { text: await act.getBadgeText({}), color: await act.getBadgeBackgroundColor({}), title: await act.getTitle({}) };
  });
}
const RED = [217, 48, 37, 255];
const GREY = [95, 99, 104, 255];

describe('around the call', () => {
  test('the caller hears a 425 Hz ringback while the callee rings; it stops on answer', async () => {
    try {
      await dialByUi(a.popup, b.address);
      await waitCallState(a.popup, 'ringing');
      await waitCallState(b.popup, 'incoming');
      expect(((await request(a.popup, 'get-view')) as View).call?.ringback).toBe(true);
      await waitFor(async () => (await tone(a)) === 'ringback', { timeout: 5000, what: "A's ringback" });
      expect(await tone(b)).toBe('ringtone');
      // 1 s on, 4 s off: within one period the analyser on the tone's output reads 425 Hz (± a bin).
      const off = await a.hb.offscreen();
      const hz = await waitFor(async () => (await toneHz(off)) ?? false, { timeout: 7000, interval: 100, what: 'a tone on the ringback output' });
      expect(Math.abs(hz - 425)).toBeLessThan(12);
      await click(b.popup, 'accept');
      await waitCallState(a.popup, 'connected');
      expect(await tone(a)).toBe(null);
      expect(await tone(b)).toBe(null);
      expect(((await request(a.popup, 'get-view')) as View).call?.ringback).toBe(false);
    } finally {
      await reset(a, b);
    }
  });

  test('the ringback stops when the callee declines', async () => {
    try {
      await dialByUi(a.popup, b.address);
      await waitCallState(a.popup, 'ringing');
      await waitFor(async () => (await tone(a)) === 'ringback', { timeout: 5000, what: "A's ringback" });
      await click(b.popup, 'decline');
      await waitCallState(a.popup, 'ended');
      // The media host is released after a call that never needed it, or at least silent.
      await waitFor(async () => (await a.hb.browser.targets()).every((t) => !t.url().endsWith('/offscreen.html')) || (await tone(a)) === null, {
        timeout: 5000,
        what: "A's ringback to stop",
      });
    } finally {
      await reset(a, b);
    }
  });

  test('call waiting: C is told busy, B sees who tried during the call and a missed entry after it', async () => {
    try {
      await dialByUi(a.popup, b.address);
      await click(b.popup, 'accept');
      await waitCallState(a.popup, 'connected');
      await waitCallState(b.popup, 'connected');
      await dialByUi(c.popup, b.address);
      await waitCallState(c.popup, 'ended');
      const notice = await b.popup.waitForSelector('[data-testid="call-waiting"]', { timeout: 10_000 });
      expect(await notice!.evaluate((e) => e.getAttribute('data-address'))).toBe(c.address);
      expect(((await request(b.popup, 'get-view')) as View).call?.waiting?.address).toBe(c.address);
      expect(await callState(a.popup)).toBe('connected');
      await click(b.popup, 'hangup');
      await waitCallState(a.popup, 'ended');
      await dismiss(b.popup);
      const kinds = await b.popup.$$eval('[data-testid="history-entry"]', (els) => els.map((e) => [e.getAttribute('data-kind'), e.textContent]));
      expect(kinds.some(([k, text]) => k === 'busy-missed' && /you were in a call/i.test(text ?? ''))).toBe(true);
    } finally {
      await reset(a, b, c);
    }
  });

  test('the toolbar badge shows the open microphone (red ●, grey when muted), then the missed count', async () => {
    try {
      await dialByUi(a.popup, b.address);
      await click(b.popup, 'accept');
      await waitCallState(b.popup, 'connected');
      await waitFor(async () => (await badge(b)).text === '●', { timeout: 5000, what: "B's ● badge" });
      expect((await badge(b)).color).toEqual(RED);
      expect((await badge(b)).title).toMatch(/microphone is on/);
      await click(b.popup, 'mute');
      await waitFor(async () => (await badge(b)).color.join() === GREY.join(), { timeout: 5000, what: "B's grey (muted) badge" });
      expect((await badge(b)).text).toBe('●');
      expect((await badge(b)).title).toMatch(/muted/);
      await click(b.popup, 'mute');
      // No Hush page open on B: C's call turned away busy is a missed call to count, but the microphone keeps the badge.
      await b.popup.close();
      await dialByUi(c.popup, b.address);
      await waitCallState(c.popup, 'ended');
      await new Promise((r) => setTimeout(r, 500));
      expect(await badge(b)).toMatchObject({ text: '●', color: RED });
      await click(a.popup, 'hangup');
      await waitFor(async () => (await badge(b)).text === '1', { timeout: 5000, what: "B's missed-call count to come back" });
      expect((await badge(b)).color).toEqual(RED);
      expect((await badge(b)).title).toBe('Hush');
    } finally {
      await reset(a, b, c);
    }
  });

  test('mic-denied on Chrome: the end screen opens Hush’s site settings', async () => {
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
      // Record the tab the button opens instead of opening it: puppeteer stalls on a chrome://settings
      // tab (it tries to attach to the WebUI page), so the test stops at the tabs.create call.
      type Tabs = { chrome: { tabs: { create(o: { url: string }): Promise<unknown> } }; openedUrls?: string[] };
      await d.popup.evaluate(() => {
        const g = globalThis as unknown as Tabs;
        g.openedUrls = [];
        g.chrome.tabs.create = async (o) => void g.openedUrls!.push(o.url);
      });
      await click(d.popup, 'open-mic-settings');
      const url = await waitFor(async () => (await d.popup.evaluate(() => (globalThis as unknown as Tabs).openedUrls?.[0])) ?? false, {
        timeout: 5000,
        what: "the settings tab's URL",
      });
      expect(url).toBe(`chrome://settings/content/siteDetails?site=${encodeURIComponent(`chrome-extension://${d.hb.extensionId}`)}`);
    } finally {
      await reset(a, d);
    }
  });
});
