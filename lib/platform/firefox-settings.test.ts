/**
 * The way out of a blocked microphone names Firefox's real labels: read from
 * the installed Firefox ESR's own localisation (outside truth, style §9), so
 * this fails the day Firefox renames a pane, a button or the dialog's action.
 *
 * - English: `localization/en-US/…` inside /usr/lib/firefox-esr/browser/omni.ja.
 * - French: the language pack Debian ships (`firefox-esr-l10n-fr`,
 *   browser/extensions/langpack-fr@firefox-esr.mozilla.org.xpi).
 * - And that the Microphone row really sits in the "Permissions" group of the
 *   "Permissions and data" pane: the settings page's own config (permissions-data.mjs).
 *
 * Skips (with a message) where Firefox ESR or the French pack is not installed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { FIREFOX_MIC_LABELS, FIREFOX_MIC_SETTINGS, firefoxMicPath, type FirefoxSettingsLabel } from './firefox-settings';
import { firefoxMicBlocked } from '../i18n/messages';

const FIREFOX = '/usr/lib/firefox-esr';
const OMNI = `${FIREFOX}/browser/omni.ja`;
const FR_PACK = `${FIREFOX}/browser/extensions/langpack-fr@firefox-esr.mozilla.org.xpi`;
const haveUnzip = (() => {
  try {
    execFileSync('unzip', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!haveUnzip) console.warn('Firefox settings labels not checked: no `unzip` (apt install unzip)');
const haveEn = haveUnzip && existsSync(OMNI);
const haveFr = haveUnzip && existsSync(FR_PACK);
if (haveUnzip && !existsSync(OMNI)) console.warn(`Firefox settings labels not checked: ${OMNI} missing (apt install firefox-esr)`);
if (haveUnzip && !existsSync(FR_PACK)) console.warn(`French Firefox settings labels not checked: ${FR_PACK} missing (apt install firefox-esr-l10n-fr)`);

function unzipText(archive: string, member: string): string {
  return execFileSync('unzip', ['-p', archive, member], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

/** A Fluent message's value (attr null) or attribute, from an .ftl file's text. Only the simple forms Firefox uses here. */
function fluent(ftl: string, id: string, attr: string | null): string | undefined {
  const lines = ftl.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^${id.replace(/[-]/g, '\\-')}\\s*=`).test(l));
  if (start < 0) return undefined;
  const head = lines[start]!.replace(/^[^=]+=\s*/, '').trim();
  if (attr === null) return head || undefined;
  for (let i = start + 1; i < lines.length && /^\s+/.test(lines[i]!); i++) {
    const m = lines[i]!.match(/^\s+\.([\w-]+)\s*=\s*(.*)$/);
    if (m && m[1] === attr) return m[2]!.trim();
  }
  return undefined;
}

function realLabels(lang: 'en' | 'fr'): Record<FirefoxSettingsLabel, string | undefined> {
  const read = (file: string) =>
    lang === 'en' ? unzipText(OMNI, `localization/en-US/${file}`) : unzipText(FR_PACK, `browser/localization/fr/${file}`);
  const cache = new Map<string, string>();
  const out = {} as Record<FirefoxSettingsLabel, string | undefined>;
  for (const [k, where] of Object.entries(FIREFOX_MIC_SETTINGS) as [FirefoxSettingsLabel, (typeof FIREFOX_MIC_SETTINGS)[FirefoxSettingsLabel]][]) {
    if (!cache.has(where.file)) cache.set(where.file, read(where.file));
    out[k] = fluent(cache.get(where.file)!, where.id, where.attr);
  }
  return out;
}

const ORIGIN = 'moz-extension://0b9e2d7c-1111-4c4c-9a9a-3e3e3e3e3e3e';

describe.each([
  ['en', haveEn],
  ['fr', haveEn && haveFr],
] as const)('Firefox ESR settings labels (%s)', (lang, available) => {
  test.skipIf(!available)('each label Hush names is the installed Firefox\'s own', () => {
    const real = realLabels(lang);
    console.info(`firefox ${lang}: ${JSON.stringify(real)}`);
    expect(real).toEqual(FIREFOX_MIC_LABELS[lang]);
  });

  test.skipIf(!available)('both sentences (call end, options page) spell the path, Hush\'s origin, Remove, Save and Allow with those labels', () => {
    const real = realLabels(lang) as Record<FirefoxSettingsLabel, string>;
    const path = [real.settings, real.pane, real.group, real.microphone].join(' → ');
    expect(firefoxMicPath(lang)).toBe(path);
    for (const key of ['ffx.micBlocked', 'ffx.micBlocked.options'] as const) {
      const s = firefoxMicBlocked(key, lang, ORIGIN);
      expect(s).toContain(path);
      expect(s).toContain(ORIGIN);
      expect(s).toContain(real.remove);
      expect(s).toContain(real.save);
      expect(s).toContain(real.allow);
      expect(s).not.toMatch(/Privacy & Security|Vie privée et sécurité|\{origin\}/); // the pre-153 pane; no placeholder left
    }
  });
});

describe.skipIf(!haveEn)('Firefox ESR settings page structure', () => {
  test('the Microphone button is in the Permissions group of the Permissions and data pane', () => {
    const config = unzipText(OMNI, 'chrome/browser/content/browser/preferences/config/permissions-data.mjs');
    const group = config.indexOf(`l10nId: "${FIREFOX_MIC_SETTINGS.group.id}"`);
    const mic = config.indexOf(`l10nId: "${FIREFOX_MIC_SETTINGS.microphone.id}"`);
    const next = config.indexOf('l10nId: "permissions-block-popups2"');
    expect(group).toBeGreaterThan(0);
    expect(mic).toBeGreaterThan(group);
    expect(next === -1 || mic < next).toBe(true);
    // The row opens the microphone exceptions dialog (the list with Remove Website / Save Changes).
    expect(config).toMatch(/microphoneSettingsButton[\s\S]{0,200}showPermissionExceptions\(\{ permissionType: "microphone" \}\)/);
  });
});
