/**
 * Devices mid-call, in real Chromium (issue 12): the self-test page's
 * encrypted loopback call (two CallMedia wired into each other, as in
 * media-loopback.test.ts), and the caller's microphone switched to another of
 * Chromium's fake capture devices while the call runs, then back to the
 * system default. The switch is replaceTrack on the same sender: the callee
 * keeps decrypting the caller's tone, no frame fails authentication, nothing
 * is renegotiated (same keys, so no SAS change). Muting survives a switch.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Page } from 'puppeteer-core';
import { launchWithExtension, type HushBrowser } from '../harness/chromium';
import { makeTone, normaliseReading, waitForReading, type AudioReading } from '../harness/audio';
import type { CallStats, Role } from '../../lib/media/types';

const CALLER_HZ = 440;
const CALLEE_HZ = 660;
const AUDIBLE_DB = -40;
const SILENT_DB = -60;

type Hook = {
  start(o: object): Promise<unknown>;
  stop(): void;
  stats(): Promise<Record<Role, CallStats>>;
  analyse(): Record<Role, { frequency: number | null; rmsDb: number | null }>;
  mute(role: Role, muted: boolean): void;
  setInputDevice(role: Role, deviceId?: string): Promise<void>;
  inputDevice(role: Role): { deviceId?: string; label: string } | null;
};

let hb: HushBrowser;
let page: Page;
const hears = async (): Promise<AudioReading> => normaliseReading(await page.evaluate(() => (globalThis as unknown as { hushSelfTest: Hook }).hushSelfTest.analyse().callee));
const hearsTone = () => waitForReading(hears, (r) => Math.abs(r.frequency - CALLER_HZ) <= 10 && r.rmsDb > AUDIBLE_DB);
const stats = () => page.evaluate(() => (globalThis as unknown as { hushSelfTest: Hook }).hushSelfTest.stats());
const inputDevice = () => page.evaluate(() => (globalThis as unknown as { hushSelfTest: Hook }).hushSelfTest.inputDevice('caller'));

beforeAll(async () => {
  hb = await launchWithExtension({ args: [`--use-file-for-fake-audio-capture=${makeTone(CALLER_HZ)}`, '--allow-loopback-in-peer-connection'] });
  page = await hb.browser.newPage();
  await page.goto(`chrome-extension://${hb.extensionId}/selftest.html`);
  await page.waitForFunction(() => 'hushSelfTest' in globalThis);
  await page.evaluate((hz) => (globalThis as unknown as { hushSelfTest: Hook }).hushSelfTest.start({ calleeToneHz: hz }), CALLEE_HZ);
  await hearsTone();
});
afterAll(async () => {
  await page?.evaluate(() => (globalThis as unknown as { hushSelfTest: Hook }).hushSelfTest.stop()).catch(() => {});
  await hb?.close();
});

test('switching the microphone mid-call: same sender, the tone goes on, every frame still decrypts', async () => {
  const inputs = await page.evaluate(async () =>
    (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audioinput').map((d) => ({ id: d.deviceId, label: d.label })),
  );
  console.info(`fake inputs: ${inputs.map((d) => `${d.id.slice(0, 8)} "${d.label}"`).join(', ')}`);
  // Chromium lists its `default` pseudo-device, then "Fake Audio Input 1" and "2" (all fed the same file).
  const other = inputs.find((d) => d.id !== 'default');
  expect(other, 'a second fake capture device').toBeDefined();
  const before = await inputDevice();

  const a = await stats();
  await page.evaluate((id) => (globalThis as unknown as { hushSelfTest: Hook }).hushSelfTest.setInputDevice('caller', id), other!.id);
  expect((await inputDevice())?.deviceId).toBe(other!.id);
  console.info(`switched "${before?.label}" → "${(await inputDevice())?.label}"`);
  await hearsTone();
  await new Promise((r) => setTimeout(r, 1000));
  const b = await stats();
  expect(b.callee.frames.decrypted - a.callee.frames.decrypted).toBeGreaterThan(30);
  expect(b.callee.frames.authFailed).toBe(0);
  expect(b.callee.frames.dropped).toBe(0);

  // Back to the system default.
  await page.evaluate(() => (globalThis as unknown as { hushSelfTest: Hook }).hushSelfTest.setInputDevice('caller', undefined));
  expect((await inputDevice())?.deviceId).toBe(before?.deviceId);
  await hearsTone();
  const c = await stats();
  expect(c.callee.frames.decrypted).toBeGreaterThan(b.callee.frames.decrypted);
  expect(c.callee.frames.authFailed).toBe(0);
});

test('a switch while muted stays muted', async () => {
  const inputs = await page.evaluate(async () => (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audioinput').map((d) => d.deviceId));
  await page.evaluate(() => (globalThis as unknown as { hushSelfTest: Hook }).hushSelfTest.mute('caller', true));
  await waitForReading(hears, (r) => r.rmsDb < SILENT_DB);
  await page.evaluate((id) => (globalThis as unknown as { hushSelfTest: Hook }).hushSelfTest.setInputDevice('caller', id), inputs[inputs.length - 1]);
  await new Promise((r) => setTimeout(r, 500));
  expect((await hears()).rmsDb).toBeLessThan(SILENT_DB);
  await page.evaluate(() => (globalThis as unknown as { hushSelfTest: Hook }).hushSelfTest.mute('caller', false));
  await hearsTone();
});
