import { expect, test } from 'vitest';
import { MESSAGE_KEYS, errorText, t, tf } from './messages';

test('every string exists in English and French, non-empty, with the same {placeholders}', () => {
  expect(MESSAGE_KEYS.length).toBeGreaterThan(100);
  const holes = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const k of MESSAGE_KEYS) {
    const en = t(k, 'en');
    const fr = t(k, 'fr');
    expect(en, k).toBeTruthy();
    expect(fr, k).toBeTruthy();
    expect(holes(fr), k).toEqual(holes(en));
  }
});

test('tf fills placeholders; errorText translates known codes', () => {
  expect(tf('page.confirm', { who: 'Alice' }, 'en')).toBe('Call Alice with Hush?');
  expect(tf('page.confirm', { who: 'Alice' }, 'fr')).toBe('Appeler Alice avec Hush ?');
  const e = Object.assign(new Error('x'), { code: 'ERR_FILE_PASSPHRASE' });
  expect(errorText(e, 'fr')).toMatch(/phrase secrète est fausse/);
  const addr = Object.assign(new Error('This address has a typo'), { code: 'ERR_BAD_ADDRESS' });
  expect(errorText(addr, 'en')).toBe('This address has a typo');
  expect(errorText(addr, 'fr')).toMatch(/adresse Hush valide/);
});
