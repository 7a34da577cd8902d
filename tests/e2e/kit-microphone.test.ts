/**
 * The kit with the microphone left as a fresh install leaves it
 * (`microphone: 'ungranted'`): a call then ends with Hush's "mic-denied", the
 * kit says what to call, and `grantMicrophone()` (the welcome page's Allow)
 * makes the next call work. Also: a failed test's artifacts (extension logs,
 * screenshots) are written where artifactsOnFailure says.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { artifactsOnFailure, KitError, launchHush, startRelay, type Hush, type LocalRelay } from '../../testkit';

let relay: LocalRelay;
let alice: Hush;
let bob: Hush;
let dir: string;

beforeAll(async () => {
  relay = await startRelay();
  [alice, bob] = await Promise.all([launchHush({ relay: relay.url, microphone: 'ungranted' }), launchHush({ relay: relay.url })]);
  dir = await mkdtemp(join(tmpdir(), 'hush-kit-artifacts-'));
});

afterEach(artifactsOnFailure(() => [alice, bob]));

afterAll(async () => {
  await Promise.allSettled([alice?.close(), bob?.close()]);
  await relay?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('no microphone permission: Hush waits for the person, and dial() fails with a sentence that says to call grantMicrophone()', async () => {
  const e = (await alice.dial(bob.address()).catch((x: unknown) => x)) as KitError;
  expect(e).toBeInstanceOf(KitError);
  expect(e.code).toBe('ERR_NO_MICROPHONE_PERMISSION');
  expect(e.message).toMatch(/grantMicrophone\(\)/);
  expect(await alice.state()).toBe('ended');
  expect(await bob.state()).toBe(''); // nothing rang: Hush waited for the microphone before calling
});

test('after grantMicrophone() (the welcome page\'s Allow), the call connects and is heard', async () => {
  await alice.grantMicrophone();
  await alice.dial(bob.address());
  await bob.accept();
  await alice.waitForState('connected');
  await bob.waitToHear(alice.toneHz);
  await alice.hangUp();
  await bob.waitForState('ended', { reason: 'remote-hangup' });
});

test('artifactsOnFailure writes each browser\'s extension log and tab screenshots when a test failed, nothing when it passed', async () => {
  await artifactsOnFailure(() => [alice, bob], dir)({ task: { name: 'passed one', result: { state: 'pass' } } });
  expect(await readdir(dir)).toEqual([]);
  await artifactsOnFailure(() => [alice, bob], dir)({ task: { name: 'failed one', result: { state: 'fail' } } });
  const files = await readdir(dir);
  expect(files).toContain('failed-one-browser1-extension.log');
  expect(files).toContain('failed-one-browser2-extension.log');
  expect(files.some((f) => f.startsWith('failed-one-browser1-') && f.includes('popup.html') && f.endsWith('.png'))).toBe(true);
  // The log holds what Alice's service worker printed (its console since launch).
  expect(await readFile(join(dir, 'failed-one-browser1-extension.log'), 'utf8')).toMatch(/\[service-worker\]/);
});
