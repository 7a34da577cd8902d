/**
 * Smoke, through the test kit (testkit/, docs/testing.md): the built extension
 * loads in Debian's Chromium, its service worker starts, the popup renders the
 * identity, the popup → background → offscreen round trip works, and the
 * identity survives a browser restart (same profile).
 */
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artifactsOnFailure, launchHush, type Hush } from '../../testkit';

let hush: Hush;
let profile: string;
beforeAll(async () => {
  profile = await mkdtemp(join(tmpdir(), 'hush-smoke-'));
  hush = await launchHush({ profileDir: profile });
});
afterEach(artifactsOnFailure(() => [hush]));
afterAll(async () => {
  await hush?.close();
  await rm(profile, { recursive: true, force: true });
});

test('service worker starts with a stable extension id', async () => {
  expect(hush.extensionId).toMatch(/^[a-p]{32}$/);
  expect(hush.browser.targets().some((t) => t.type() === 'service_worker' && t.url() === `chrome-extension://${hush.extensionId}/background.js`)).toBe(true);
});

test('popup renders the identity and reaches the offscreen document through the background', async () => {
  expect(hush.address()).toMatch(/^hush1[02-9ac-hj-np-z]{38}$/);

  // What the popup asks the background on open (its status line): the media host answers.
  const status = await hush.popup.evaluate(() =>
    (globalThis as unknown as { chrome: { runtime: { sendMessage(m: unknown): Promise<unknown> } } }).chrome.runtime.sendMessage({
      target: 'background',
      kind: 'status',
    }),
  );
  expect(status).toMatchObject({ ok: true, value: { offscreen: { kind: 'pong', capabilities: { peerConnection: true, scriptTransform: true } } } });
  // Issue 17: Chromium's own ML-DSA-87 signs the transcripts, after its check against noble
  // (lib/crypto/native-mldsa.ts); a browser that fails the check would say 'noble' here.
  expect(status).toMatchObject({ ok: true, value: { signer: 'webcrypto' } });
});

test('the identity survives a browser restart', async () => {
  const address = hush.address();
  await hush.close();
  hush = await launchHush({ profileDir: profile });
  expect(hush.address()).toBe(address);
});
