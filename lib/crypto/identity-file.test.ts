import { describe, expect, test } from 'vitest';
import { base64 } from '@scure/base';
import { addressFromBundle } from './address';
import { identityFromSeed } from './identity';
import {
  DEFAULT_KDF,
  IdentityFileError,
  exportIdentityFile,
  openIdentityFile,
  readIdentityFile,
  type IdentityFile,
} from './identity-file';

const seed = new Uint8Array(32).map((_, i) => i * 7 + 1);
const address = addressFromBundle(identityFromSeed(seed).bundleBytes);
const PASS = 'correct horse battery staple';
/** Cheap parameters for the negative cases; one test runs the real ones. */
const CHEAP = { m: 8192, t: 1, p: 1 };

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(IdentityFileError);
    return (e as IdentityFileError).code;
  }
  throw new Error('expected a failure');
}

describe('identity export file', () => {
  test('round trip with the default Argon2id parameters: same seed, same address, header names it', async () => {
    const file = await exportIdentityFile(seed, PASS);
    expect(file).toMatchObject({ format: 'hush-identity', v: 1, address, kdf: { ...DEFAULT_KDF }, cipher: { name: 'AES-256-GCM' } });
    expect(base64.decode(file.kdf.salt)).toHaveLength(16);
    expect(base64.decode(file.ciphertext)).toHaveLength(48);
    expect(JSON.stringify(file)).not.toContain(base64.encode(seed));
    const text = JSON.stringify(file);
    expect(readIdentityFile(text).address).toBe(address);
    const opened = await openIdentityFile(text, PASS);
    expect(opened.address).toBe(address);
    expect(opened.seed).toEqual(seed);
  }, 30_000);

  test('two exports of one seed differ (fresh salt and IV)', async () => {
    const a = await exportIdentityFile(seed, PASS, { kdf: CHEAP });
    const b = await exportIdentityFile(seed, PASS, { kdf: CHEAP });
    expect(a.kdf.salt).not.toBe(b.kdf.salt);
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  test('a wrong passphrase fails with ERR_FILE_PASSPHRASE', async () => {
    const text = JSON.stringify(await exportIdentityFile(seed, PASS, { kdf: CHEAP }));
    expect(await code(openIdentityFile(text, PASS + '!'))).toBe('ERR_FILE_PASSPHRASE');
    expect(await code(openIdentityFile(text, ''))).toBe('ERR_FILE_PASSPHRASE');
  });

  test('a tampered file fails: ciphertext, address, or KDF parameters edited', async () => {
    const file = await exportIdentityFile(seed, PASS, { kdf: CHEAP });
    const ct = base64.decode(file.ciphertext);
    ct[3] = ct[3]! ^ 1;
    const other = addressFromBundle(identityFromSeed(new Uint8Array(32).fill(9)).bundleBytes);
    const variants: IdentityFile[] = [
      { ...file, ciphertext: base64.encode(ct) },
      { ...file, address: other },
      { ...file, kdf: { ...file.kdf, t: 2 } },
      { ...file, createdAt: '2000-01-01T00:00:00.000Z' },
    ];
    for (const v of variants) expect(await code(openIdentityFile(JSON.stringify(v), PASS))).toBe('ERR_FILE_PASSPHRASE');
  });

  test('an unsupported version, or something that is not an identity file, is refused before any KDF work', async () => {
    const file = await exportIdentityFile(seed, PASS, { kdf: CHEAP });
    expect(await code(openIdentityFile(JSON.stringify({ ...file, v: 2 }), PASS))).toBe('ERR_FILE_VERSION');
    expect(await code(openIdentityFile(JSON.stringify({ ...file, v: 0 }), PASS))).toBe('ERR_FILE_FORMAT');
    expect(await code(openIdentityFile('not json', PASS))).toBe('ERR_FILE_FORMAT');
    expect(await code(openIdentityFile('{"format":"other"}', PASS))).toBe('ERR_FILE_FORMAT');
    expect(await code(openIdentityFile(JSON.stringify({ ...file, kdf: { ...file.kdf, m: 1 << 24 } }), PASS))).toBe('ERR_FILE_FORMAT');
    expect(await code(openIdentityFile(JSON.stringify({ ...file, ciphertext: 'AAAA' }), PASS))).toBe('ERR_FILE_FORMAT');
    expect(await code(openIdentityFile(JSON.stringify({ ...file, address: 'hush1nope' }), PASS))).toBe('ERR_FILE_FORMAT');
  });

  test('a short passphrase is refused at export', async () => {
    expect(await code(exportIdentityFile(seed, 'short', { kdf: CHEAP }))).toBe('ERR_WEAK_PASSPHRASE');
  });
});
