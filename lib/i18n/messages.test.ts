import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
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

test("the browser's own strings (public/_locales): en and fr, the same keys, none empty, no stray language", () => {
  const dir = resolve(import.meta.dirname, '../../public/_locales');
  expect(readdirSync(dir).sort()).toEqual(['en', 'fr']);
  const read = (lang: string) => JSON.parse(readFileSync(resolve(dir, lang, 'messages.json'), 'utf8')) as Record<string, { message?: string }>;
  const en = read('en');
  const fr = read('fr');
  expect(Object.keys(en).length).toBeGreaterThan(0);
  expect(Object.keys(fr).sort()).toEqual(Object.keys(en).sort());
  for (const [k, v] of [...Object.entries(en), ...Object.entries(fr)]) expect(v.message, k).toBeTruthy();
});
