/**
 * The complete example of docs/testing.md (the doc includes this file verbatim;
 * testkit/docs.test.ts checks they match): a page with a Hush link → call →
 * both hear each other → hang up, in two browsers through a local relay.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { artifactsOnFailure, launchHush, startRelay, type Hush, type LocalRelay } from '../../testkit';

let relay: LocalRelay;
let alice: Hush;
let bob: Hush;
let site: ReturnType<typeof createServer>;

beforeAll(async () => {
  relay = await startRelay();
  [alice, bob] = await Promise.all([launchHush({ relay: relay.url }), launchHush({ relay: relay.url })]);
  // A shop's page with a Hush link to Bob.
  site = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>Shop</title><a id="call-bob" href="web+hush:${bob.address()}">Call Bob securely</a>`);
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
});

afterEach(artifactsOnFailure(() => [alice, bob]));

afterAll(async () => {
  await Promise.allSettled([alice?.close(), bob?.close()]);
  await relay?.stop();
  site?.close();
});

test('a Hush link on a page calls Bob; both hear each other; Alice hangs up', async () => {
  const shop = await alice.openPage(`http://127.0.0.1:${(site.address() as AddressInfo).port}/`);
  await shop.clickHushLink('#call-bob');

  await bob.accept();
  await alice.waitForState('connected');
  await bob.waitForState('connected');

  // Each browser's fake microphone plays its own tone: each hears the other's.
  await alice.waitToHear(bob.toneHz);
  await bob.waitToHear(alice.toneHz);
  expect(await alice.sas()).toBe(await bob.sas());

  await alice.hangUp();
  await bob.waitForState('ended', { reason: 'remote-hangup' });
});
