import { defineConfig } from 'wxt';
import preact from '@preact/preset-vite';

// One source, two browsers. Chrome (MV3) gets an offscreen document for media;
// Firefox runs media in its background page (see docs/architecture.md).
export default defineConfig({
  vite: () => ({ plugins: [preact()] }),
  manifest: ({ browser }) => ({
    name: 'Hush',
    description: 'End-to-end-encrypted, post-quantum voice calls on any web page.',
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
            gecko: { id: 'hush@hush.example', strict_min_version: '128.0' },
          },
        }
      : {}),
  }),
});
