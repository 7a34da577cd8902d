/**
 * Issue 12, managed browsers: an organisation's policy sets Hush's relays and privacy mode
 * (lib/background/managed-settings.ts, docs/operators.md "Managed browsers").
 *
 * The real mechanism, not a stub: a policy file in Debian Chromium's managed policy directory
 * (/etc/chromium/policies/managed/*.json) with a "3rdparty" → "extensions" → <extension id> entry,
 * which Chromium validates against public/managed_schema.json and hands to the extension as
 * storage.managed. An unpacked extension's id is derived from its absolute path (SHA-256 of the
 * path, first 32 hex digits written a-p), so the id is known before the launch and the policy
 * applies only to the build in this worktree. Needs root; the file is removed in afterAll.
 *
 * What an earlier version of this test got wrong (storage.managed stayed `{}`): it removed the
 * policy file right after the launch. Checked here: with the file removed right after the launch,
 * storage.managed reads `{}` for 15 s; with the file in place for the browser's life, the entry
 * arrives a second or two after the extension starts (Debian's Chromium 156, headless, unpacked
 * extension). The likely reason: Chromium keeps an extension's 3rdparty entry only once the
 * extension has registered its managed_schema, after it loads, and then reads the directory again.
 * Hush's background takes the late policy through storage.onChanged (watchManaged). (Once, under
 * heavy load, storage.managed read through CDP in the service worker stayed `{}` for 30 s while
 * the background already held the policy; the test reads it from an extension page instead.)
 * The locked options page is docs/screenshots/options-managed.png (HUSH_SCREENSHOTS=1).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { EXTENSION_DIR, launchWithExtension, type HushBrowser } from '../harness/chromium';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { screenshotPath } from '../harness/ui';
import { request, waitText } from '../harness/hush';
import { waitFor } from '../harness/wait';

const POLICY_DIR = '/etc/chromium/policies/managed';
const POLICY_FILE = `${POLICY_DIR}/hush-e2e-managed-${process.pid}.json`;

/** Chromium's id for an unpacked extension loaded from `dir`. */
function unpackedExtensionId(dir: string): string {
  const hex = createHash('sha256').update(realpathSync(dir)).digest('hex').slice(0, 32);
  return [...hex].map((c) => String.fromCharCode('a'.charCodeAt(0) + parseInt(c, 16))).join('');
}

let relay: RelayProcess;
let hb: HushBrowser | undefined;

beforeAll(async () => {
  relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
  const id = unpackedExtensionId(EXTENSION_DIR);
  mkdirSync(POLICY_DIR, { recursive: true });
  writeFileSync(
    POLICY_FILE,
    JSON.stringify({ URLBlocklist: ['blocked.hush.test'], '3rdparty': { extensions: { [id]: { relays: [relay.signalUrl], privacyMode: true } } } }),
  );
  hb = await launchWithExtension();
  expect(hb.extensionId).toBe(id);
}, 60_000);

afterAll(async () => {
  rmSync(POLICY_FILE, { force: true });
  await hb?.close();
  await relay?.stop();
});

test('Chromium reads the policy directory and hands Hush its 3rdparty entry as storage.managed', async () => {
  const page = await hb!.browser.newPage();
  const r = await page.goto('http://blocked.hush.test/').then(
    () => 'loaded',
    (e: Error) => e.message,
  );
  expect(r).toMatch(/ERR_BLOCKED_BY_ADMINISTRATOR/);
  await page.close();
  // What Hush's background holds (it takes a late policy through storage.onChanged), then what
  // storage.managed itself gives an extension page.
  const popup = await hb!.openPopup();
  const t0 = Date.now();
  await waitFor(
    async () => {
      const v = (await request(popup, 'get-view')) as { managed?: string[] };
      return (v.managed ?? []).length === 2;
    },
    { timeout: 30_000, interval: 250, what: "the 3rdparty policy to reach Hush's background" },
  );
  const ms = Date.now() - t0;
  const managed = await popup.evaluate(() =>
    (globalThis as unknown as { chrome: { storage: { managed: { get(k: null): Promise<Record<string, unknown>> } } } }).chrome.storage.managed.get(null),
  );
  console.info(`chromium: the policy reached Hush's background ${ms} ms after its popup opened; storage.managed: ${JSON.stringify(managed)}`);
  expect(managed).toEqual({ relays: [relay.signalUrl], privacyMode: true });
  await popup.close();
}, 60_000);

test("Hush uses the organisation's relay with nothing set by the person", async () => {
  const popup = await hb!.openPopup();
  await waitText(popup, '[data-testid="relay-status"]', (t) => t === 'Connected to relay', 30_000);
  const view = (await request(popup, 'get-view')) as { settings: { relays: string[]; privacyMode: boolean }; managed?: string[] };
  expect(view.settings.relays).toEqual([relay.signalUrl]);
  expect(view.settings.privacyMode).toBe(true);
  expect([...(view.managed ?? [])].sort()).toEqual(['privacyMode', 'relays']);
  await popup.close();
});

test('the options page shows the managed values locked', async () => {
  const options = await hb!.browser.newPage();
  await options.goto(`chrome-extension://${hb!.extensionId}/options.html`);
  await options.waitForSelector('[data-testid="managed-note"]', { timeout: 20_000 });
  const privacy = await options.$eval('[data-testid="privacy-mode"]', (e) => ({ checked: (e as HTMLInputElement).checked, disabled: (e as HTMLInputElement).disabled }));
  expect(privacy).toEqual({ checked: true, disabled: true });
  const notes = await options.$$eval('[data-testid="managed-note"]', (es) => es.map((e) => ({ id: e.id, text: e.textContent })));
  expect(notes.map((n) => n.id).sort()).toEqual(['privacy-managed', 'relays-managed']);
  for (const n of notes) expect(n.text).toContain('Set by your organisation.');
  expect(await options.$$eval('[data-testid="relay"]', (es) => es.map((e) => e.getAttribute('data-url')))).toEqual([relay.signalUrl]);
  expect(await options.$('[data-testid="relay-url"]')).toBeNull();
  expect(await options.$('[data-testid="relay-remove"]')).toBeNull();
  expect(await options.$('[data-testid="relay-use"]')).toBeNull();
  await options.click('[data-testid="privacy-mode"]').catch(() => {});
  expect(await options.$eval('[data-testid="privacy-mode"]', (e) => (e as HTMLInputElement).checked)).toBe(true);
  await options.screenshot({ path: screenshotPath('options-managed.png'), fullPage: true });
  await options.close();
});

test('the background refuses a change to a managed value with the organisation sentence', async () => {
  const popup = await hb!.openPopup();
  await expect(request(popup, 'update-settings', { settings: { relays: ['ws://127.0.0.1:9/signal'] } })).rejects.toThrow(/set by your organisation/);
  await expect(request(popup, 'update-settings', { settings: { privacyMode: false } })).rejects.toThrow(/set by your organisation/);
  const view = (await request(popup, 'get-view')) as { settings: { relays: string[]; privacyMode: boolean } };
  expect(view.settings).toMatchObject({ relays: [relay.signalUrl], privacyMode: true });
  await request(popup, 'update-settings', { settings: { contactsOnly: true } }); // not managed: the person's
  await popup.close();
});
