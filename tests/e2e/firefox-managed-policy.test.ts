/**
 * Issue 12, managed browsers, in Firefox: an organisation's policies.json with
 * a `3rdparty` → `Extensions` → `hush@hushvoice.org` entry sets Hush's relays
 * and privacy mode (lib/background/managed-settings.ts, docs/operators.md).
 * Firefox hands that entry to the extension as `storage.managed`: the options
 * page shows both values locked, the background refuses to change them, and
 * Hush connects to the organisation's relay without the person doing anything.
 *
 * The policy file: Firefox reads /etc/firefox/policies/policies.json
 * (machine-wide) unless that file is missing and the pref
 * `browser.policies.alternatePath` names another one; this ESR honours that
 * pref (checked below through `Services.policies`), so the test writes the
 * policy into its own temporary directory and nothing outside it changes.
 * If the machine-wide file exists, it wins over the pref: the test then fails
 * with that sentence rather than touch an operator's file.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FIREFOX_EXTENSION_DIR, firefoxAvailable, geckoIdOf } from '../harness/firefox';
import { launchFirefoxSide, type FirefoxSide } from '../harness/firefox-hush';
import { request, waitText } from '../harness/hush';
import { startRelayProcess, type RelayProcess } from '../harness/relay';

const SYSTEM_POLICIES = '/etc/firefox/policies/policies.json';
/**
 * Firefox honours `browser.policies.alternatePath` only in automation (`Cu.isInAutomation`, on a
 * release build such as this ESR): that is this pref together with MOZ_DISABLE_NONLOCAL_CONNECTIONS
 * (toolkit's xpc::IsInAutomation). The test touches only loopback, so refusing other hosts costs nothing.
 */
const AUTOMATION_PREFS = { 'security.turn_off_all_security_so_that_viruses_can_take_over_this_computer': true };
const AUTOMATION_ENV = { MOZ_DISABLE_NONLOCAL_CONNECTIONS: '1' };
const built = existsSync(join(FIREFOX_EXTENSION_DIR, 'manifest.json'));
const haveFirefox = firefoxAvailable();
if (!built) console.warn(`Firefox managed-policy test skipped: no build at ${FIREFOX_EXTENSION_DIR} (npx wxt build -b firefox)`);
if (!haveFirefox) console.warn('Firefox managed-policy test skipped: firefox-esr is not installed');

describe.skipIf(!built || !haveFirefox)('an organisation manages Hush in Firefox (policies.json 3rdparty)', () => {
  let relay: RelayProcess;
  let scratch: string;
  let policyFile: string;
  let a: FirefoxSide;
  const geckoId = geckoIdOf(FIREFOX_EXTENSION_DIR);

  beforeAll(async () => {
    expect(existsSync(SYSTEM_POLICIES), `${SYSTEM_POLICIES} exists: Firefox would read it instead of the test's policy`).toBe(false);
    relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
    scratch = mkdtempSync(join(tmpdir(), 'hush-ff-policy-'));
    policyFile = join(scratch, 'policies.json');
    writeFileSync(policyFile, JSON.stringify({ policies: { '3rdparty': { Extensions: { [geckoId]: { relays: [relay.signalUrl], privacyMode: true } } } } }));
    // No relay set by the test (noRelay): the organisation's is the one Hush must use.
    a = await launchFirefoxSide({ signalUrl: relay.signalUrl, noRelay: true, prefs: { ...AUTOMATION_PREFS, 'browser.policies.alternatePath': policyFile }, env: AUTOMATION_ENV });
  }, 90_000);

  afterAll(async () => {
    await a?.close();
    await relay?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test('Firefox read the policy file the pref names, and hands Hush its entry as storage.managed', async () => {
    const engine = await a.fb.chrome<{ status: number; active: number; policy: unknown }>(`
      return { status: Services.policies.status, active: Services.policies.ACTIVE, policy: Services.policies.getExtensionPolicy(${JSON.stringify(geckoId)}) };`);
    expect(engine.status).toBe(engine.active);
    expect(engine.policy).toEqual({ relays: [relay.signalUrl], privacyMode: true });
    const managed = await a.popup.evaluate(() => (globalThis as unknown as { browser: { storage: { managed: { get(k: null): Promise<unknown> } } } }).browser.storage.managed.get(null));
    expect(managed).toEqual({ relays: [relay.signalUrl], privacyMode: true });
  });

  test("Hush uses the organisation's relay with nothing set by the person", async () => {
    await waitText(a.popup, '[data-testid="relay-status"]', (t) => t === 'Connected to relay', 30_000);
  });

  test('the options page shows the managed values locked', async () => {
    const options = await a.fb.openTab(a.url('options.html'));
    await options.waitForSelector('[data-testid="privacy-mode"]', { timeout: 20_000 });
    const privacy = await options.$eval('[data-testid="privacy-mode"]', (e) => ({ checked: (e as HTMLInputElement).checked, disabled: (e as HTMLInputElement).disabled }));
    expect(privacy).toEqual({ checked: true, disabled: true });
    const notes = await options.$$eval('[data-testid="managed-note"]', (es) => es.map((e) => ({ id: e.id, text: e.textContent })));
    expect(notes.map((n) => n.id).sort()).toEqual(['privacy-managed', 'relays-managed']);
    for (const n of notes) expect(n.text).toMatch(/organisation|organization/i);
    expect(await options.$$eval('[data-testid="relay"]', (es) => es.map((e) => e.getAttribute('data-url')))).toEqual([relay.signalUrl]);
    // No way to edit the list: no add form, no remove or reorder buttons.
    expect(await options.$('[data-testid="relay-url"]')).toBeNull();
    expect(await options.$('[data-testid="relay-remove"]')).toBeNull();
    expect(await options.$('[data-testid="relay-use"]')).toBeNull();
    // A click on the locked checkbox changes nothing.
    await options.click('[data-testid="privacy-mode"]').catch(() => {});
    expect(await options.$eval('[data-testid="privacy-mode"]', (e) => (e as HTMLInputElement).checked)).toBe(true);
    console.info(`firefox managed options: ${JSON.stringify(notes)}`);
    await options.close();
  });

  test('the background refuses a change to a managed value, and keeps the policy in force', async () => {
    await expect(request(a.popup, 'update-settings', { settings: { relays: ['ws://127.0.0.1:9/signal'] } })).rejects.toThrow(/set by your organisation/);
    await expect(request(a.popup, 'update-settings', { settings: { privacyMode: false } })).rejects.toThrow(/set by your organisation/);
    const view = (await request(a.popup, 'get-view')) as { settings: { relays: string[]; privacyMode: boolean }; managed?: string[] };
    expect(view.settings.relays).toEqual([relay.signalUrl]);
    expect(view.settings.privacyMode).toBe(true);
    expect([...(view.managed ?? [])].sort()).toEqual(['privacyMode', 'relays']);
    // What is not managed stays the person's to change.
    await request(a.popup, 'update-settings', { settings: { contactsOnly: true } });
  });
});
