/**
 * The Hush extension inside a lab host: loads (puppeteer over the pipe,
 * through `ip netns exec`), and its background reaches the relay's
 * signalling in the internet namespace, through the NAT, by IP literal
 * with every name lookup refused. This is the plumbing the extension-based
 * NAT scenarios stand on; the calls themselves come with those scenarios.
 *
 * Needs a build (`npm run build`); skipped with a message without one,
 * since a missing build is not a broken lab.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EXTENSION_DIR } from '../harness/chromium';
import { request, waitText } from '../harness/hush';
import { launchExtensionInNamespace } from './chromium-in-ns';
import { createLab, requireRoot, type Lab } from './netns';
import { SIGNAL_PORT, startLabRelay, type LabRelay } from './relay-in-ns';

const support = requireRoot();
const built = existsSync(join(EXTENSION_DIR, 'manifest.json'));
if (!support.skip && !built) console.warn(`lab extension test skipped: no build at ${EXTENSION_DIR} (run \`npm run build\`)`);

describe.skipIf(support.skip || !built)('the extension in a lab host', () => {
  let lab: Lab;
  let relay: LabRelay;

  beforeAll(async () => {
    lab = await createLab();
    relay = await startLabRelay(lab, { kind: 'hush' });
  });
  afterAll(async () => {
    await relay?.stop().catch(() => {});
    await lab?.destroy();
  });

  test('loads behind router A and connects to the relay\'s signalling', async () => {
    const hb = await launchExtensionInNamespace(lab, 'hostA', EXTENSION_DIR);
    try {
      expect(hb.ns).toBe(lab.ns.hostA);
      const popup = await hb.openPopup();
      await popup.waitForSelector('[data-testid="my-address"]', { timeout: 20_000 });
      await request(popup, 'update-settings', { settings: { relays: [relay.signalUrl] } });
      await waitText(popup, '[data-testid="relay-status"]', (t) => t === 'Connected to relay', 20_000);
      // The relay saw the connection from router A's public address, not from the host.
      const { stdout } = await lab.exec('inet', 'ss', ['-Htn', 'state', 'established', `sport = :${SIGNAL_PORT}`]);
      expect(stdout).toContain(`${lab.addresses.wanA}:`);
      expect(stdout).not.toContain(lab.addresses.hostA);
    } finally {
      await hb.close();
    }
  });
});
