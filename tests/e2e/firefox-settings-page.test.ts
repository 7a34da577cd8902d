/**
 * The way out of a blocked microphone, checked on Firefox's real settings page
 * (issue 21): Hush's sentence names Settings → Permissions and data →
 * Permissions → Microphone, then Hush's entry as `moz-extension://<UUID>`,
 * Remove Website and Save Changes. This opens about:preferences in Firefox ESR
 * (through the chrome scope: BiDi cannot navigate there), with Hush installed
 * and its microphone blocked as a remembered Block leaves it, and reads what
 * the page renders: the pane's name in the sidebar, the group heading, the
 * Microphone row, and, in the dialog that row opens, Hush's entry and the
 * dialog's buttons. The unit test (lib/platform/firefox-settings.test.ts)
 * checks the same labels in Firefox's localisation files, French included.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FIREFOX_EXTENSION_DIR, firefoxAvailable, geckoIdOf, launchFirefox, type FirefoxBrowser } from '../harness/firefox';
import { hushFirefoxPrefs } from '../harness/firefox-hush';
import { waitFor } from '../harness/wait';
import { FIREFOX_MIC_LABELS } from '../../lib/platform/firefox-settings';

const built = existsSync(join(FIREFOX_EXTENSION_DIR, 'manifest.json'));
const haveFirefox = firefoxAvailable();
if (!built) console.warn('Firefox settings page test skipped: build it (`npx wxt build -b firefox`)');
if (!haveFirefox) console.warn('Firefox settings page test skipped: firefox-esr is not installed');

describe.skipIf(!built || !haveFirefox)('Firefox settings page: the way out of a blocked microphone', () => {
  let fb: FirefoxBrowser;
  const uuid = '5f0c7a4e-2b1d-4c3e-9f8a-7d6b5c4a3b2c';
  const origin = `moz-extension://${uuid}`;

  beforeAll(async () => {
    fb = await launchFirefox({ prefs: hushFirefoxPrefs(geckoIdOf(FIREFOX_EXTENSION_DIR), uuid) });
    await fb.browser.installExtension(FIREFOX_EXTENSION_DIR);
    // What Block with "Remember" stores for Hush's origin.
    await fb.chrome(`
      const p = Services.scriptSecurityManager.createContentPrincipalFromOrigin(${JSON.stringify(origin)});
      Services.perms.addFromPrincipal(p, 'microphone', Services.perms.DENY_ACTION, Services.perms.EXPIRE_NEVER);`);
  });
  afterAll(async () => {
    await fb?.close();
  });

  test('Settings → Permissions and data → Permissions → Microphone lists Hush as its moz-extension origin, with Remove Website and Save Changes', async () => {
    await fb.chrome(`openPreferences('privacy-permissions');`);
    const page = await waitFor(
      () =>
        fb.chrome<Record<string, string> | null>(`
          const doc = gBrowser.selectedBrowser.contentDocument;
          if (!doc || !String(doc.location).startsWith('about:preferences')) return null;
          const text = (el) => (el ? (el.getAttribute('label') || el.getAttribute('heading') || el.textContent || '').trim() : '');
          const mic = doc.getElementById('microphoneSettingsButton');
          const pane = doc.querySelector('[data-l10n-id="pane-permissions-data-title2"]');
          const group = doc.querySelector('[data-l10n-id="permissions-header3"]');
          if (!mic || !text(mic) || !pane || !group || !text(group)) return null;
          return { title: doc.title, pane: text(pane), group: text(group), microphone: text(mic), hash: String(doc.location.hash), paneVisible: String(!!(pane.checkVisibility?.() ?? true)) };`),
      { timeout: 20_000, interval: 300, what: 'about:preferences to render the Permissions group' },
    );
    console.info(`about:preferences: ${JSON.stringify(page)}`);
    const en = FIREFOX_MIC_LABELS.en;
    expect(page.title).toBe(en.settings);
    expect(page.pane).toBe(en.pane);
    expect(page.group).toBe(en.group);
    expect(page.microphone).toBe(en.microphone);

    // The Microphone row opens the exceptions dialog: Hush is listed by its origin.
    await fb.chrome(`gBrowser.selectedBrowser.contentDocument.getElementById('microphoneSettingsButton').click();`);
    const dialog = await waitFor(
      () =>
        fb.chrome<Record<string, unknown> | null>(`
          const doc = gBrowser.selectedBrowser.contentDocument;
          const frame = doc.querySelector('.dialogFrame');
          const d = frame?.contentDocument;
          if (!d || d.readyState !== 'complete') return null;
          const sites = [...d.querySelectorAll('richlistitem')].map((i) => i.getAttribute('origin') || i.querySelector('.website-name-value, .website-name, label')?.getAttribute('value') || i.textContent.trim());
          if (!sites.length) return null;
          const dlg = d.querySelector('dialog');
          const remove = d.getElementById('removePermission');
          return { title: d.title, sites, remove: remove?.getAttribute('label') ?? '', save: dlg?.getButton?.('accept')?.label ?? dlg?.getAttribute('buttonlabelaccept') ?? '' };`),
      { timeout: 15_000, interval: 300, what: 'the microphone permissions dialog' },
    );
    console.info(`microphone permissions dialog: ${JSON.stringify(dialog)}`);
    expect(dialog.title).toContain(en.microphone);
    expect((dialog.sites as string[]).some((s) => s.includes(origin))).toBe(true);
    expect(dialog.remove).toBe(en.remove);
    expect(dialog.save).toBe(en.save);
  });
});
