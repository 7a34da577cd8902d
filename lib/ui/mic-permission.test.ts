import { expect, test } from 'vitest';
import { MIC_SETTINGS_URL, permissionOutcome, siteSettingsUrl } from './mic-permission';

test('a NotAllowedError is a dismissal while the state is still prompt, a block once it is denied', () => {
  // Chrome rejects both with the same name: "Permission dismissed" / "Permission denied".
  const notAllowed = { name: 'NotAllowedError', message: 'Permission dismissed' };
  expect(permissionOutcome(notAllowed, 'prompt')).toBe('dismissed');
  expect(permissionOutcome(notAllowed, 'denied')).toBe('denied');
  expect(permissionOutcome(notAllowed, 'unknown')).toBe('dismissed');
  expect(permissionOutcome({ name: 'SecurityError' }, 'denied')).toBe('denied');
});

test('failures that are not a permission answer (no device, device busy) are not reported as one', () => {
  expect(permissionOutcome({ name: 'NotFoundError' }, 'granted')).toBeNull();
  expect(permissionOutcome({ name: 'NotReadableError' }, 'granted')).toBeNull();
  expect(permissionOutcome(new TypeError('x'), 'prompt')).toBeNull();
});

test("Chrome's site settings page for the extension's origin, with the microphone list as the fallback", () => {
  expect(siteSettingsUrl('chrome-extension://abcdefghijklmnopabcdefghijklmnop')).toBe(
    'chrome://settings/content/siteDetails?site=chrome-extension%3A%2F%2Fabcdefghijklmnopabcdefghijklmnop',
  );
  expect(MIC_SETTINGS_URL).toBe('chrome://settings/content/microphone');
});
