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
    ...(browser === 'firefox'
      ? {
          browser_specific_settings: {
            gecko: { id: 'hush@hush.example', strict_min_version: '128.0' },
          },
        }
      : {}),
  }),
});
