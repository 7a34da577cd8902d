import { expect, test, vi } from 'vitest';

vi.mock('wxt/browser', () => ({ browser: { runtime: { getURL: (p: string) => `chrome-extension://hushid${p}` } } }));
const { senderKind } = await import('./sender');

test('a sender is the extension, a web page, or the background itself', () => {
  expect(senderKind({ url: 'chrome-extension://hushid/popup.html' })).toBe('extension');
  expect(senderKind({ url: 'https://shop.example/' })).toBe('web');
  // Another extension's page is not ours.
  expect(senderKind({ url: 'chrome-extension://otherid/popup.html' })).toBe('web');
  expect(senderKind({})).toBe('internal');
  expect(senderKind(undefined)).toBe('internal');
});
