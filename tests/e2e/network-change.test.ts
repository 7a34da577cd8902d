/**
 * Issue 12, network changes: the device goes offline and comes back (CDP network emulation on
 * the extension's service worker, the closest a headless browser gets to pulling the cable) and
 * the signalling connection follows at once, not after a ping goes unanswered (20 s, then a
 * backoff). What the service worker sees there (measured, Chromium 156): navigator.onLine flips
 * and navigator.connection fires `change`; no online/offline event reaches the worker
 * (lib/signal/network-watch.ts reads both).
 *
 * Checked the other way too: a build with the watcher left unwired fails this test (the popup
 * still says "Connected to relay" 5 s after going offline: nothing notices before the next ping).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { CDPSession } from 'puppeteer-core';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { launchSide, waitText, type HushSide } from '../harness/hush';

let relay: RelayProcess;
let side: HushSide;
let cdp: CDPSession;

beforeAll(async () => {
  relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
  side = await launchSide({ signalUrl: relay.signalUrl });
  const sw = await side.hb.browser.waitForTarget((t) => t.type() === 'service_worker' && t.url().startsWith(`chrome-extension://${side.hb.extensionId}/`));
  cdp = await sw.createCDPSession();
  await cdp.send('Network.enable');
}, 60_000);

afterAll(async () => {
  await cdp?.detach().catch(() => {});
  await side?.close();
  await relay?.stop();
});

const emulate = (offline: boolean) => cdp.send('Network.emulateNetworkConditions', { offline, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

test('offline: the relay shows as lost at once; back online: connected again at once', async () => {
  const status = '[data-testid="relay-status"]';
  let t0 = Date.now();
  await emulate(true);
  const off = await waitText(side.popup, status, (t) => t !== 'Connected to relay', 5_000);
  const lostMs = Date.now() - t0;
  t0 = Date.now();
  await emulate(false);
  await waitText(side.popup, status, (t) => t === 'Connected to relay', 5_000);
  const backMs = Date.now() - t0;
  console.info(`offline → "${off}" in ${lostMs} ms; online → connected in ${backMs} ms (ping interval 20 s)`);
  expect(lostMs).toBeLessThan(5_000);
  expect(backMs).toBeLessThan(5_000);
}, 30_000);
