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

export default defineConfig({
  vite: () => ({ plugins: [preact()] }),
  // `wxt zip -b firefox` also packs the sources AMO's reviewers rebuild from: no stray logs in it.
  zip: { excludeSources: ['**/*.log'] },
  manifest: ({ browser }) => ({
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
    content_scripts: [{ matches: ['<all_urls>'], js: ['page-bar.js'], run_at: 'document_idle', all_frames: false }],
    ...(browser === 'firefox'
      ? {
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
