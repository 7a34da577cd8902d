/**
 * The kit's second example (docs/testing.md): a relay-only call (Hush's
 * privacy mode) through a relay the test starts; both sides say 'relay'.
 */
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { artifactsOnFailure, launchHush, startRelay, type Hush, type LocalRelay } from '../../testkit';

let relay: LocalRelay;
let alice: Hush;
let bob: Hush;

beforeAll(async () => {
  relay = await startRelay();
  [alice, bob] = await Promise.all([
    launchHush({ relay: relay.url, privacyMode: true }),
    launchHush({ relay: relay.url, privacyMode: true }),
  ]);
});

afterEach(artifactsOnFailure(() => [alice, bob]));

afterAll(async () => {
  await Promise.allSettled([alice?.close(), bob?.close()]);
  await relay?.stop();
});

test('privacy mode: the call goes through the relay on both sides, and is heard', async () => {
  await alice.dial(bob.address());
  await bob.accept();
  await alice.waitForState('connected');
  await bob.waitForState('connected');

  expect(await alice.waitForPath()).toBe('relay');
  expect(await bob.waitForPath()).toBe('relay');
  await bob.waitToHear(alice.toneHz);

  await bob.hangUp();
  await alice.waitForState('ended', { reason: 'remote-hangup' });
});
