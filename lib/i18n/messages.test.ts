import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, test } from 'vitest';
import { MESSAGE_KEYS, addressErrorText, errorText, t, tf } from './messages';
import { parseAddress } from '../crypto/address';
import { addressFromBundle } from '../crypto/address';
import { identityFromSeed } from '../crypto/identity';

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

/** The parser's own error for `input` (outside truth: the sentence the background really sends). */
function parserError(input: string): Error & { code: string } {
  try {
    parseAddress(input);
  } catch (e) {
    return e as Error & { code: string };
  }
  throw new Error(`${input} parsed`);
}

test('French address errors follow the mistake: a one-character typo gets the checksum sentence, not the length one', () => {
  const good = addressFromBundle(identityFromSeed(new Uint8Array(32).fill(9)).bundleBytes);
  const last = good.at(-1) === 'q' ? 'p' : 'q';
  const typo = parserError(good.slice(0, -1) + last);
  expect(typo.code).toBe('ERR_BAD_ADDRESS');
  expect(errorText(typo, 'fr')).toBe(t('err.address.checksum', 'fr'));
  expect(errorText(typo, 'en')).toBe(typo.message);
  const short = parserError(good.slice(0, -3));
  expect(errorText(short, 'fr')).toBe(t('err.address', 'fr'));
  const prefix = parserError('bob1' + good.slice(5));
  expect(errorText(prefix, 'fr')).toBe(t('err.address', 'fr'));
  expect(addressErrorText('something else', 'fr')).toBe(t('err.address', 'fr'));
  // The English sentences the mapping keys on are the English ones we show.
  expect(typo.message).toBe(t('err.address.checksum', 'en'));
});

test('"Connected" in a call is "En communication" in French, not "En ligne" (online)', () => {
  expect(t('ui.call.state.connected', 'fr')).toBe('En communication');
});

/**
 * No English left in the components: every title, aria-label, placeholder and alt comes
 * from t()/tf() (or is not words: an address format like "hush1…"), and no JSX text node
 * holds words of its own. So a string missing in one language cannot hide in a tooltip.
 */
test('components carry no hard-coded words in text, title, aria-label, placeholder or alt', () => {
  const root = resolve(import.meta.dirname, '../../components');
  const files: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      if (f.isDirectory()) walk(join(d, f.name));
      else if (f.name.endsWith('.tsx')) files.push(join(d, f.name));
    }
  };
  walk(root);
  expect(files.length).toBeGreaterThan(10);
  /** Not words: addresses and URL shapes used as placeholders, and the product's name. */
  const notWords = /^(hush1…|web\+hush:hush1…|hush1… \/ web\+hush:hush1…|wss:\/\/relay\.example\/signal|Hush…?|—|✓|⚠|\+|·|[\s·:]*)$/;
  const found: string[] = [];
  for (const file of files) {
    const src = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\{\/\*[\s\S]*?\*\/\}/g, '');
    for (const m of src.matchAll(/\b(title|aria-label|placeholder|alt)="([^"]*)"/g)) {
      if (!notWords.test(m[2]!)) found.push(`${file}: ${m[1]}="${m[2]}"`);
    }
    // JSX text between tags: >Some words< (not expressions, not code).
    for (const m of src.matchAll(/>([^<>{}()=;&|`?]*[A-Za-zÀ-ÿ]{2,}[^<>{}()=;&|`?]*)</g)) {
      const text = m[1]!.trim();
      if (text && !notWords.test(text)) found.push(`${file}: text "${text}"`);
    }
  }
  expect(found).toEqual([]);
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
