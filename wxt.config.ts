import { defineConfig } from 'wxt';
import preact from '@preact/preset-vite';

// One source, two browsers. Chrome (MV3) gets an offscreen document for media;
// Firefox (MV2, persistent background page) gets a call window (docs/firefox.md).

/**
 * Firefox's add-on id. It names the add-on on addons.mozilla.org forever, and
 * Firefox keys the extension's storage by it: the identity keys live there, so
 * changing it after release loses every user's address. docs/firefox.md.
 */
const GECKO_ID = 'hush@hushvoice.org';
/** The oldest Firefox the tests run on (Debian's firefox-esr 153). */
const GECKO_MIN_VERSION = '153.0';

/**
 * A store build (`npm run zip` sets HUSH_STORE_BUILD=1) carries no test hooks:
 * lib/testing/hooks.ts reads this flag as the constant TEST_HOOKS, so the bundler
 * drops every hook, and the selftest page is left out. `npm run build` (what the
 * browser tests load) keeps them. tests/integration/store-build.test.ts checks the zips.
 */
const STORE_BUILD = process.env.HUSH_STORE_BUILD === '1';
/** Test-only pages, left out of store builds. */
const TEST_ENTRYPOINTS = ['selftest'];

export default defineConfig({
  // HUSH_OUT_DIR: where a build goes instead of .output/ (the store-build test builds into a temp dir).
  ...(process.env.HUSH_OUT_DIR ? { outDir: process.env.HUSH_OUT_DIR } : {}),
  vite: () => ({
    plugins: [preact()],
    define: { __HUSH_STORE_BUILD__: JSON.stringify(STORE_BUILD) },
  }),
  hooks: {
    'entrypoints:resolved'(_wxt, entrypoints) {
      if (!STORE_BUILD) return;
      for (let i = entrypoints.length - 1; i >= 0; i--) {
        if (TEST_ENTRYPOINTS.includes(entrypoints[i]!.name)) entrypoints.splice(i, 1);
      }
    },
  },
  // `wxt zip -b firefox` also packs the sources AMO's reviewers rebuild from: no stray logs in it,
  // and no test build (.output/ is the outDir, left out anyway, unless HUSH_OUT_DIR moved it).
  zip: { excludeSources: ['**/*.log', '.output/**'] },
  manifest: ({ browser, manifestVersion }) => ({
    // Name and description through the browser's own i18n, so the stores list Hush in each
    // language (public/_locales/<lang>/messages.json; the UI's strings are lib/i18n/messages.ts).
    name: '__MSG_extName__',
    description: '__MSG_extDescription__',
    default_locale: 'en',
    permissions: [
      'storage',
      'notifications',
      ...(browser === 'chrome' ? ['offscreen'] : []),
    ],
    // The in-page call bar, Hush links and the page API (entrypoints/page-bar, docs/page-api.md).
    // Declared here rather than with defineContentScript: see lib/page-api/shadow-host.ts.
    // Only the tiny loader runs on every page; page-bar.js is imported on demand (lib/page-api/loader.ts).
    // It must be web-accessible for that import; Chrome's use_dynamic_url gives it a per-session URL,
    // so a page cannot probe for it; Firefox's moz-extension UUID is random per install.
    content_scripts: [{ matches: ['<all_urls>'], js: ['page-loader.js'], run_at: 'document_idle', all_frames: false }],
    web_accessible_resources:
      manifestVersion === 3
        ? [{ resources: ['page-bar.js'], matches: ['<all_urls>'], use_dynamic_url: true }]
        : ['page-bar.js'],
    // Settings an organisation may push through enterprise policy (lib/background/managed-settings.ts,
    // docs/operators.md). Firefox reads its 3rdparty policies without a schema.
    ...(browser === 'chrome' ? { storage: { managed_schema: 'managed_schema.json' } } : {}),
    ...(browser === 'firefox'
      ? {
          // The toolbar button goes on the toolbar itself, not into the Extensions (puzzle) menu:
          // Firefox otherwise hides it there, with the missed-call badge (issue 21, docs/firefox.md).
          // WXT merges this into the generated browser_action (MV2) or action (an MV3 test build).
          ...(manifestVersion === 2 ? { browser_action: { default_area: 'navbar' } } : { action: { default_area: 'navbar' } }),
          browser_specific_settings: {
            gecko: {
              id: GECKO_ID,
              strict_min_version: GECKO_MIN_VERSION,
              // Hush sends nothing to its developers: calls go peer to peer or through the
              // relay the person chose, end-to-end encrypted (AMO's built-in data consent).
              data_collection_permissions: { required: ['none'] },
            },
          },
        }
      : {}),
  }),
});
