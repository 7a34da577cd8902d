/**
 * The kit's errors a test author meets before any browser starts: each has
 * its code and a sentence that says what to do.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { checkRelayReachable, launchHush, KitError } from './index';
import { noChromium } from './errors';

test('an extension that is not built: says to run npm run build or set HUSH_EXTENSION_DIR', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hush-kit-empty-'));
  const e = (await launchHush({ extensionDir: dir }).catch((x: unknown) => x)) as KitError;
  expect(e).toBeInstanceOf(KitError);
  expect(e.code).toBe('ERR_EXTENSION_NOT_BUILT');
  expect(e.message).toContain(dir);
  expect(e.message).toMatch(/npm run build/);
  expect(e.message).toMatch(/HUSH_EXTENSION_DIR/);
});

test('a relay nobody listens on: names the URL and how to start one', async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r())); // a port that was free a moment ago: nobody listens
  const url = `ws://127.0.0.1:${port}/signal`;
  const e = (await checkRelayReachable(url).catch((x: unknown) => x)) as KitError;
  expect(e.code).toBe('ERR_RELAY_UNREACHABLE');
  expect(e.message).toContain(url);
  expect(e.message).toMatch(/startRelay\(\)/);
  expect(e.message).toMatch(/npm run relay/);
});

test('a relay URL that is not one: says what one looks like', async () => {
  const e = (await checkRelayReachable('https://relay.example/').catch((x: unknown) => x)) as KitError;
  expect(e.code).toBe('ERR_RELAY_UNREACHABLE');
  expect(e.message).toMatch(/ws:\/\/ or wss:\/\//);
});

test('no Chromium: names the package and CHROMIUM_PATH', async () => {
  expect(noChromium(['/usr/bin/chromium']).message).toMatch(/apt-get install -y chromium/);
  const before = process.env.CHROMIUM_PATH;
  process.env.CHROMIUM_PATH = '/nowhere/chromium';
  const ext = mkdtempSync(join(tmpdir(), 'hush-kit-ext-'));
  writeFileSync(join(ext, 'manifest.json'), '{}'); // looks built: the browser is what is missing
  const e = (await launchHush({ extensionDir: ext }).catch((x: unknown) => x).finally(() => {
    if (before === undefined) delete process.env.CHROMIUM_PATH;
    else process.env.CHROMIUM_PATH = before;
  })) as KitError;
  expect(e.message).toContain('/nowhere/chromium');
  expect(e.code).toBe('ERR_NO_CHROMIUM');
  expect(e.message).toMatch(/apt-get install -y chromium/);
  expect(e.message).toMatch(/CHROMIUM_PATH/);
});

test('Firefox: says it is not in the kit yet, before launching anything', async () => {
  const e = (await launchHush({ firefox: true }).catch((x: unknown) => x)) as KitError;
  expect(e.code).toBe('ERR_UNSUPPORTED');
});
