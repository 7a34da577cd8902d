/**
 * The manifests, checked twice:
 * - what wxt.config.ts declares for each browser (always: no build needed);
 * - what the build emitted (when .output/ holds one; `npm test` builds before
 *   the browser layers, so an earlier build is what this sees).
 * Permissions stay minimal: every one is a prompt or a review question
 * (Chrome Web Store, addons.mozilla.org). Firefox's web-ext lint runs apart:
 * `npm run lint:firefox` (scripts/lint-firefox.mjs).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import config from '../../wxt.config';

type Manifest = Record<string, unknown> & {
  permissions?: string[];
  browser_specific_settings?: { gecko?: { id?: string; strict_min_version?: string; data_collection_permissions?: { required?: string[] } } };
};

const OUT = resolve(import.meta.dirname, '../../.output');

async function declared(browser: 'chrome' | 'firefox', manifestVersion: 2 | 3): Promise<Manifest> {
  const m = config.manifest;
  if (typeof m !== 'function') throw new Error('wxt.config.ts: manifest is expected to be a function of the target browser');
  return (await m({ browser, manifestVersion, mode: 'production', command: 'build' })) as Manifest;
}

function built(dir: string): Manifest | null {
  const p = join(OUT, dir, 'manifest.json');
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as Manifest) : null;
}

describe('declared manifest (wxt.config.ts)', () => {
  test('Chrome: storage, notifications, offscreen; nothing else, no host permissions', async () => {
    const m = await declared('chrome', 3);
    expect([...(m.permissions ?? [])].sort()).toEqual(['notifications', 'offscreen', 'storage']);
    expect(m.host_permissions).toBeUndefined();
    expect(m.optional_permissions).toBeUndefined();
    expect(m.browser_specific_settings).toBeUndefined();
  });

  test('Firefox: no offscreen permission; a real gecko id; the ESR the tests run on; no data collected', async () => {
    const m = await declared('firefox', 2);
    expect([...(m.permissions ?? [])].sort()).toEqual(['notifications', 'storage']);
    expect(m.host_permissions).toBeUndefined();
    const gecko = m.browser_specific_settings?.gecko;
    // An email-like id on a real domain: never a reserved example domain, never changed after release.
    expect(gecko?.id).toMatch(/^hush@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$/);
    expect(gecko?.id).not.toMatch(/\.(example|test|invalid|localhost)$/);
    expect(gecko?.strict_min_version).toBe('153.0');
    expect(gecko?.data_collection_permissions?.required).toEqual(['none']);
  });

  test('Firefox: the toolbar button goes on the toolbar (navbar), not into the Extensions menu (issue 21)', async () => {
    const m = await declared('firefox', 2);
    expect((m.browser_action as { default_area?: string } | undefined)?.default_area).toBe('navbar');
  });
});

describe('name and description through the browser\'s i18n (public/_locales)', () => {
  const locale = (lang: string) =>
    JSON.parse(readFileSync(resolve(import.meta.dirname, `../../public/_locales/${lang}/messages.json`), 'utf8')) as Record<string, { message: string }>;

  test.each(['chrome', 'firefox'] as const)('%s: __MSG_ name and description, English by default', async (b) => {
    const m = await declared(b, b === 'chrome' ? 3 : 2);
    expect(m.name).toBe('__MSG_extName__');
    expect(m.description).toBe('__MSG_extDescription__');
    expect(m.default_locale).toBe('en');
  });

  test.each(['en', 'fr'])('_locales/%s has both messages, within the stores\' limits', (lang) => {
    const msgs = locale(lang);
    expect(msgs.extName?.message).toBe('Hush');
    expect(msgs.extDescription?.message.length).toBeGreaterThan(20);
    // Chrome Web Store: a description longer than 132 characters is refused.
    expect(msgs.extDescription!.message.length).toBeLessThanOrEqual(132);
  });

  test('the French description is French, not a copy', () => {
    expect(locale('fr').extDescription!.message).not.toBe(locale('en').extDescription!.message);
  });
});

const chrome = built('chrome-mv3');
const firefox = built('firefox-mv2');
if (!chrome || !firefox) console.warn('built-manifest checks skipped for a browser not built yet (npx wxt build; npx wxt build -b firefox)');

describe.skipIf(!chrome)('built Chrome manifest (.output/chrome-mv3)', () => {
  test('MV3: a module service worker, an action popup, no MV2 keys', () => {
    const m = chrome!;
    expect(m.manifest_version).toBe(3);
    expect(m.background).toEqual({ type: 'module', service_worker: 'background.js' });
    expect((m.action as { default_popup?: string }).default_popup).toBe('popup.html');
    for (const k of ['browser_action', 'page_action', 'browser_specific_settings', 'host_permissions']) {
      expect(m[k], k).toBeUndefined();
    }
    // Only the on-demand page chunk (lib/page-api/loader.ts), behind a per-session URL a page cannot probe.
    expect(m.web_accessible_resources).toEqual([{ resources: ['page-bar.js'], matches: ['<all_urls>'], use_dynamic_url: true }]);
    expect([...(m.permissions ?? [])].sort()).toEqual(['notifications', 'offscreen', 'storage']);
  });

  test('ships _locales/en and _locales/fr, and names itself through them', () => {
    expect(chrome!.name).toBe('__MSG_extName__');
    expect(chrome!.default_locale).toBe('en');
    for (const lang of ['en', 'fr']) expect(existsSync(join(OUT, 'chrome-mv3', '_locales', lang, 'messages.json')), lang).toBe(true);
  });

  test('ships the offscreen document, not Firefox\'s call window', () => {
    expect(existsSync(join(OUT, 'chrome-mv3', 'offscreen.html'))).toBe(true);
    expect(existsSync(join(OUT, 'chrome-mv3', 'call.html'))).toBe(false);
  });
});

describe.skipIf(!firefox)('built Firefox manifest (.output/firefox-mv2)', () => {
  test('MV2 with a persistent background page and a browser action', () => {
    const m = firefox!;
    expect(m.manifest_version).toBe(2);
    expect(m.background).toEqual({ persistent: true, scripts: ['background.js'] });
    expect((m.browser_action as { default_popup?: string }).default_popup).toBe('popup.html');
    expect((m.browser_action as { default_area?: string }).default_area).toBe('navbar');
    expect(m.permissions ?? []).not.toContain('offscreen');
    expect(m.browser_specific_settings?.gecko?.strict_min_version).toBe('153.0');
  });

  test('ships the call window, not Chrome\'s offscreen document', () => {
    expect(existsSync(join(OUT, 'firefox-mv2', 'call.html'))).toBe(true);
    expect(existsSync(join(OUT, 'firefox-mv2', 'offscreen.html'))).toBe(false);
  });
});
