import { expect, test, vi } from 'vitest';

vi.mock('wxt/browser', () => ({ browser: { runtime: { id: 'hushid', getURL: (p: string) => `chrome-extension://hushid${p}` } } }));
const { senderKind, isFromBackground } = await import('./sender');

test('a sender is the extension, a web page, the background itself, or unknown (denied)', () => {
  expect(senderKind({ id: 'hushid', url: 'chrome-extension://hushid/popup.html' })).toBe('extension');
  expect(senderKind({ id: 'hushid', url: 'https://shop.example/', tab: { id: 3 } })).toBe('web');
  // Another extension's page is not ours.
  expect(senderKind({ url: 'chrome-extension://otherid/popup.html' })).toBe('web');
  expect(senderKind({ id: 'otherid', url: 'chrome-extension://hushid/popup.html' })).toBe('unknown');
  // A message without a URL is not provably ours: denied. Only a direct call (no sender) is internal.
  expect(senderKind({})).toBe('unknown');
  expect(senderKind({ id: 'hushid' })).toBe('unknown');
  expect(senderKind(undefined)).toBe('internal');
});

test('the media hosts accept only the background', () => {
  expect(isFromBackground({ id: 'hushid', url: 'chrome-extension://hushid/background.js' })).toBe(true);
  expect(isFromBackground({ id: 'hushid', url: 'chrome-extension://hushid/_generated_background_page.html' })).toBe(true);
  expect(isFromBackground({ id: 'hushid', url: 'chrome-extension://hushid/popup.html' })).toBe(false);
  expect(isFromBackground({ id: 'hushid', url: 'chrome-extension://hushid/background.js', tab: { id: 1 } })).toBe(false);
  expect(isFromBackground({ id: 'hushid', url: 'https://evil.example/background.js', tab: { id: 1 } })).toBe(false);
  expect(isFromBackground({ id: 'hushid', url: 'https://evil.example/background.js' })).toBe(false);
  expect(isFromBackground({ id: 'hushid' })).toBe(false);
  expect(isFromBackground(undefined)).toBe(false);
});
