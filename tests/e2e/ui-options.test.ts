/**
 * Issue 7, the options page through its UI: relay servers (add, test
 * reachability from the background, use first, remove), privacy mode,
 * microphone choice with a live level meter (fake 440 Hz microphone),
 * speaker choice, ringtone, the history's clear button, and the options
 * screenshot for the README. One browser, one relay.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'puppeteer-core';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { dialByUi, launchSide, typeInto as typeIntoPage, request, waitCallState, waitText, type HushSide } from '../harness/hush';
import { screenshotPath } from '../harness/ui';
import { addressFromBundle } from '../../lib/crypto/address';
import { identityFromSeed } from '../../lib/crypto/identity';

let relay: RelayProcess;
let side: HushSide;
let options: Page;
const DEAD = 'ws://127.0.0.1:9/signal';

beforeAll(async () => {
  relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
  side = await launchSide({ toneHz: 440, signalUrl: relay.signalUrl });
  options = await side.hb.browser.newPage();
  await options.goto(`chrome-extension://${side.hb.extensionId}/options.html`);
  await options.waitForSelector('[data-testid="relay"]', { timeout: 15_000 });
});

afterAll(async () => {
  await side?.close();
  await relay?.stop();
});

const relayRow = (url: string) => `[data-testid="relay"][data-url="${url}"]`;
const relayOrder = () => options.$$eval('[data-testid="relay"]', (es) => es.map((e) => e.getAttribute('data-url')));

const typeInto = (selector: string, text: string) => typeIntoPage(options, selector, text);

async function reload(): Promise<void> {
  await options.reload();
  await options.waitForSelector('[data-testid="relay"]', { timeout: 15_000 });
}

describe('options page', () => {
  test('relays: add, refuse a non-relay address, test reachability, use first, remove', async () => {
    await options.bringToFront();
    expect(await relayOrder()).toEqual([relay.signalUrl]);
    expect(await options.$eval(relayRow(relay.signalUrl), (e) => e.textContent)).toContain('in use');
    expect(await options.$eval(`${relayRow(relay.signalUrl)} [data-testid="relay-remove"]`, (e) => (e as HTMLButtonElement).disabled)).toBe(true);

    await typeInto('[data-testid="relay-url"]', 'https://example.org');
    await options.click('[data-testid="relay-add"]');
    expect(await waitText(options, '[data-testid="relay-error"]', (t) => t.length > 0)).toMatch(/not a relay address/);

    await typeInto('[data-testid="relay-url"]', DEAD);
    await options.click('[data-testid="relay-add"]');
    await options.waitForSelector(relayRow(DEAD));
    expect(await relayOrder()).toEqual([relay.signalUrl, DEAD]);

    await options.click(`${relayRow(relay.signalUrl)} [data-testid="relay-test"]`);
    await options.click(`${relayRow(DEAD)} [data-testid="relay-test"]`);
    await options.waitForSelector(`${relayRow(relay.signalUrl)} [data-testid="relay-result"][data-reachable="true"]`, { timeout: 10_000 });
    expect(await options.$eval(`${relayRow(relay.signalUrl)} [data-testid="relay-result"]`, (e) => e.textContent)).toMatch(/^Reachable \(\d+ ms\)$/);
    await options.waitForSelector(`${relayRow(DEAD)} [data-testid="relay-result"][data-reachable="false"]`, { timeout: 10_000 });
    expect(await options.$eval(`${relayRow(DEAD)} [data-testid="relay-result"]`, (e) => e.textContent)).toBe('Unreachable');

    await options.click(`${relayRow(DEAD)} [data-testid="relay-use"]`);
    await options.waitForFunction((d) => document.querySelector('[data-testid="relay"]')?.getAttribute('data-url') === d, {}, DEAD);
    await reload();
    expect(await relayOrder()).toEqual([DEAD, relay.signalUrl]);

    await options.click(`${relayRow(DEAD)} [data-testid="relay-remove"]`);
    await options.waitForSelector(relayRow(DEAD), { hidden: true });
    expect(await relayOrder()).toEqual([relay.signalUrl]);
    await waitText(options, '[data-testid="relay-status"]', (t) => t === 'Connected to relay', 20_000);
  });

  test('privacy mode and ringtone switches persist', async () => {
    await options.click('[data-testid="privacy-mode"]');
    await options.click('[data-testid="ringtone"]');
    await options.waitForFunction(() => (document.querySelector('[data-testid="ringtone"]') as HTMLInputElement).checked === false);
    await reload();
    expect(await options.$eval('[data-testid="privacy-mode"]', (e) => (e as HTMLInputElement).checked)).toBe(true);
    expect(await options.$eval('[data-testid="ringtone"]', (e) => (e as HTMLInputElement).checked)).toBe(false);
    const v = (await request(side.popup, 'get-view')) as { settings: { privacyMode: boolean; ringtone: boolean } };
    expect(v.settings).toMatchObject({ privacyMode: true, ringtone: false });
    await options.click('[data-testid="privacy-mode"]');
    await options.click('[data-testid="ringtone"]');
    await options.waitForFunction(() => (document.querySelector('[data-testid="ringtone"]') as HTMLInputElement).checked === true);
  });

  test('microphone: allow, a live level meter on the fake 440 Hz microphone, choose a device; speaker list', async () => {
    await options.bringToFront();
    // The page asks for the microphone itself; with the test's auto-accepting media UI the
    // permission may already be granted (then the device list shows at once).
    await options.waitForSelector('[data-testid="audio-allow"], [data-testid="audio-input"]', { timeout: 10_000 });
    if (await options.$('[data-testid="audio-allow"]')) await options.click('[data-testid="audio-allow"]');
    await options.waitForSelector('[data-testid="audio-input"]', { timeout: 10_000 });
    await options.waitForFunction(() => (document.querySelector('[data-testid="audio-level"]') as HTMLMeterElement).value > 0.05, { timeout: 10_000 });
    const level = await options.$eval('[data-testid="audio-level"]', (e) => (e as HTMLMeterElement).value);
    console.log(`options meter: ${level.toFixed(3)}`);

    const inputs = await options.$$eval('[data-testid="audio-input"] option', (os) => os.map((o) => (o as HTMLOptionElement).value).filter(Boolean));
    expect(inputs.length).toBeGreaterThan(0);
    await options.select('[data-testid="audio-input"]', inputs[0]!);
    await options.waitForFunction(
      async () => {
        const r = (await (globalThis as unknown as { chrome: { runtime: { sendMessage(m: unknown): Promise<{ value: { settings: { inputDeviceId?: string } } }> } } }).chrome.runtime.sendMessage({
          target: 'background',
          kind: 'get-view',
        })) as { value: { settings: { inputDeviceId?: string } } };
        return !!r.value.settings.inputDeviceId;
      },
      { timeout: 5000 },
    );
    await reload();
    await options.waitForSelector('[data-testid="audio-input"]', { timeout: 10_000 });
    expect(await options.$eval('[data-testid="audio-input"]', (e) => (e as HTMLSelectElement).value)).toBe(inputs[0]);
    expect(await options.$('[data-testid="audio-output"]')).not.toBeNull();
    // Back to the default so later calls use whatever the fake device is.
    await options.select('[data-testid="audio-input"]', '');
  });

  test('history: count and clear; sites: none yet (and the options screenshot)', async () => {
    // One call to an address that is offline makes one history entry.
    const offline = addressFromBundle(identityFromSeed(crypto.getRandomValues(new Uint8Array(32))).bundleBytes);
    await side.popup.bringToFront();
    await dialByUi(side.popup, offline);
    await waitCallState(side.popup, 'ended');
    await request(side.popup, 'dismiss-call');

    await options.bringToFront();
    await options.waitForSelector('[data-testid="history-count"][data-count="1"]', { timeout: 5000 });
    expect(await options.$('[data-testid="sites-empty"]')).not.toBeNull();
    await options.setViewport({ width: 760, height: 900 });
    await options.screenshot({ path: screenshotPath('options.png'), fullPage: true });
    await options.click('[data-testid="history-clear"]');
    await options.waitForSelector('[data-testid="history-count"][data-count="0"]', { timeout: 5000 });
    expect(await options.$eval('[data-testid="history-clear"]', (e) => (e as HTMLButtonElement).disabled)).toBe(true);
  });
});
