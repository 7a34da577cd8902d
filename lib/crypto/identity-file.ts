/**
 * The identity export file: the 32-byte master seed (identity.ts), sealed
 * with a passphrase, in a small versioned JSON document a person can keep
 * anywhere. Format and reasons: docs/protocol.md, "Identity export file".
 *
 *   {
 *     "format": "hush-identity", "v": 1,
 *     "address": "hush1…",                      which identity this file holds (readable without the passphrase)
 *     "createdAt": "2025-01-01T00:00:00.000Z",
 *     "kdf": { "name": "argon2id", "m": 65536, "t": 3, "p": 1, "salt": b64(16) },
 *     "cipher": { "name": "AES-256-GCM", "iv": b64(12) },
 *     "ciphertext": b64(32 + 16)                 seed ‖ GCM tag
 *   }
 *
 * key = Argon2id(passphrase NFC, salt, m KiB, t passes, p lanes) → 32 bytes
 * AAD = "hush/v1/identity-file" ‖ 0x00 ‖ JSON([format, v, address, createdAt, kdf name, m, t, p, salt, cipher name, iv])
 *
 * Every header field is in the AAD, so a file whose address (or KDF
 * parameters) was edited fails to open exactly like a wrong passphrase.
 * After decryption the seed must derive the header's address, so even a
 * well-formed file cannot lie about whose identity it holds.
 *
 * Caveats: GCM cannot tell a wrong passphrase from an altered file; both
 * give ERR_FILE_PASSPHRASE with one sentence that covers both. The KDF is
 * the only protection of a stolen file: a short passphrase is refused at
 * export, not at import (an old file must always open).
 */
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { base64 } from '@scure/base';
import { addressFromBundle, parseAddress } from './address';
import { concat, utf8, wipe } from './bytes';
import { MASTER_SEED_LEN } from './constants';
import { identityFromSeed, wipeIdentity } from './identity';

export const IDENTITY_FILE_FORMAT = 'hush-identity';
export const IDENTITY_FILE_VERSION = 1;
/** Argon2id, RFC 9106 §4 "second recommended option" (64 MiB, 3 passes), one lane: JS has one thread. */
export const DEFAULT_KDF = { name: 'argon2id', m: 65536, t: 3, p: 1 } as const;
/** Bounds a file may ask for: below, it is not a file we write; above, opening it would hang the browser. */
const KDF_BOUNDS = { mMin: 8192, mMax: 262144, tMin: 1, tMax: 10, pMin: 1, pMax: 4 };
const SALT_LEN = 16;
const IV_LEN = 12;
const TAG_LEN = 16;
/** Shortest passphrase accepted at export. */
export const MIN_PASSPHRASE = 10;
const AAD_DOMAIN = utf8('hush/v1/identity-file');

export type IdentityFileErrorCode =
  | 'ERR_FILE_FORMAT' // not a Hush identity file, or a malformed one
  | 'ERR_FILE_VERSION' // a newer format than this Hush reads
  | 'ERR_FILE_PASSPHRASE' // wrong passphrase, or the file was altered
  | 'ERR_WEAK_PASSPHRASE'; // too short to protect a file that may be stolen

export class IdentityFileError extends Error {
  override readonly name = 'IdentityFileError';
  constructor(
    readonly code: IdentityFileErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface KdfParams {
  name: 'argon2id';
  m: number;
  t: number;
  p: number;
  salt: string;
}

export interface IdentityFile {
  format: typeof IDENTITY_FILE_FORMAT;
  v: typeof IDENTITY_FILE_VERSION;
  address: string;
  createdAt: string;
  kdf: KdfParams;
  cipher: { name: 'AES-256-GCM'; iv: string };
  ciphertext: string;
}

/** Messages a person can act on; the UI translates by code (lib/i18n/messages.ts). */
const MESSAGES: Record<IdentityFileErrorCode, string> = {
  ERR_FILE_FORMAT: 'This is not a Hush identity file. Choose the hush-identity-….json file you exported.',
  ERR_FILE_VERSION: 'This identity file was made by a newer Hush. Update Hush, then import it again.',
  ERR_FILE_PASSPHRASE: 'The passphrase is wrong, or the file was altered. Check the passphrase and try again.',
  ERR_WEAK_PASSPHRASE: `Choose a passphrase of at least ${MIN_PASSPHRASE} characters: it is all that protects this file.`,
};

function fail(code: IdentityFileErrorCode): never {
  throw new IdentityFileError(code, MESSAGES[code]);
}

function aad(f: Omit<IdentityFile, 'ciphertext'>): Uint8Array {
  const fields = [f.format, f.v, f.address, f.createdAt, f.kdf.name, f.kdf.m, f.kdf.t, f.kdf.p, f.kdf.salt, f.cipher.name, f.cipher.iv];
  return concat(AAD_DOMAIN, new Uint8Array([0]), utf8(JSON.stringify(fields)));
}

async function deriveKey(passphrase: string, kdf: KdfParams): Promise<CryptoKey> {
  const raw = await argon2idAsync(utf8(passphrase.normalize('NFC')), base64.decode(kdf.salt), {
    m: kdf.m,
    t: kdf.t,
    p: kdf.p,
    dkLen: 32,
    asyncTick: 20,
  });
  try {
    return await crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, 'AES-GCM', false, ['encrypt', 'decrypt']);
  } finally {
    wipe(raw);
  }
}

/**
 * Seal a master seed into an identity file. `kdf` overrides the cost for
 * tests only; files written by the extension use DEFAULT_KDF.
 */
export async function exportIdentityFile(
  seed: Uint8Array,
  passphrase: string,
  opts: { kdf?: Partial<Omit<KdfParams, 'salt' | 'name'>>; now?: Date } = {},
): Promise<IdentityFile> {
  if (!(seed instanceof Uint8Array) || seed.length !== MASTER_SEED_LEN) throw new TypeError('expected a 32-byte seed');
  if (typeof passphrase !== 'string' || [...passphrase].length < MIN_PASSPHRASE) fail('ERR_WEAK_PASSPHRASE');
  const id = identityFromSeed(seed);
  const address = addressFromBundle(id.bundleBytes);
  wipeIdentity(id);
  const header: Omit<IdentityFile, 'ciphertext'> = {
    format: IDENTITY_FILE_FORMAT,
    v: IDENTITY_FILE_VERSION,
    address,
    createdAt: (opts.now ?? new Date()).toISOString(),
    kdf: { ...DEFAULT_KDF, ...opts.kdf, name: 'argon2id', salt: base64.encode(crypto.getRandomValues(new Uint8Array(SALT_LEN))) },
    cipher: { name: 'AES-256-GCM', iv: base64.encode(crypto.getRandomValues(new Uint8Array(IV_LEN))) },
  };
  checkKdf(header.kdf);
  const key = await deriveKey(passphrase, header.kdf);
  const ct = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: base64.decode(header.cipher.iv) as Uint8Array<ArrayBuffer>, additionalData: aad(header) as Uint8Array<ArrayBuffer> },
    key,
    seed as Uint8Array<ArrayBuffer>,
  );
  return { ...header, ciphertext: base64.encode(new Uint8Array(ct)) };
}

/**
 * Read a file's header without the passphrase: which address it holds.
 * Throws ERR_FILE_FORMAT / ERR_FILE_VERSION. The address is a claim until
 * `openIdentityFile` proves it.
 */
export function readIdentityFile(text: string): IdentityFile {
  let f: unknown;
  try {
    f = JSON.parse(text);
  } catch {
    fail('ERR_FILE_FORMAT');
  }
  if (typeof f !== 'object' || f === null || (f as { format?: unknown }).format !== IDENTITY_FILE_FORMAT) fail('ERR_FILE_FORMAT');
  const file = f as IdentityFile;
  if (file.v !== IDENTITY_FILE_VERSION) {
    if (typeof file.v === 'number' && file.v > IDENTITY_FILE_VERSION) fail('ERR_FILE_VERSION');
    fail('ERR_FILE_FORMAT');
  }
  const isB64 = (s: unknown, len: number) => {
    try {
      return typeof s === 'string' && base64.decode(s).length === len;
    } catch {
      return false;
    }
  };
  if (
    typeof file.address !== 'string' ||
    typeof file.createdAt !== 'string' ||
    typeof file.kdf !== 'object' ||
    file.kdf === null ||
    file.kdf.name !== 'argon2id' ||
    !isB64(file.kdf.salt, SALT_LEN) ||
    typeof file.cipher !== 'object' ||
    file.cipher === null ||
    file.cipher.name !== 'AES-256-GCM' ||
    !isB64(file.cipher.iv, IV_LEN) ||
    !isB64(file.ciphertext, MASTER_SEED_LEN + TAG_LEN)
  ) {
    fail('ERR_FILE_FORMAT');
  }
  checkKdf(file.kdf);
  try {
    if (parseAddress(file.address).address !== file.address) fail('ERR_FILE_FORMAT');
  } catch {
    fail('ERR_FILE_FORMAT');
  }
  return file;
}

/** Open a file with its passphrase: the seed (caller wipes it) and the proven address. */
export async function openIdentityFile(text: string, passphrase: string): Promise<{ seed: Uint8Array; address: string }> {
  const file = readIdentityFile(text);
  const key = await deriveKey(String(passphrase ?? ''), file.kdf);
  let seed: Uint8Array;
  try {
    const { ciphertext, ...header } = file;
    const pt = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: base64.decode(file.cipher.iv) as Uint8Array<ArrayBuffer>, additionalData: aad(header) as Uint8Array<ArrayBuffer> },
      key,
      base64.decode(ciphertext) as Uint8Array<ArrayBuffer>,
    );
    seed = new Uint8Array(pt);
  } catch {
    fail('ERR_FILE_PASSPHRASE');
  }
  const id = identityFromSeed(seed);
  const address = addressFromBundle(id.bundleBytes);
  wipeIdentity(id);
  if (address !== file.address) {
    wipe(seed);
    fail('ERR_FILE_PASSPHRASE');
  }
  return { seed, address };
}

function checkKdf(k: KdfParams): void {
  const int = (n: unknown, lo: number, hi: number) => Number.isInteger(n) && (n as number) >= lo && (n as number) <= hi;
  if (!int(k.m, KDF_BOUNDS.mMin, KDF_BOUNDS.mMax) || !int(k.t, KDF_BOUNDS.tMin, KDF_BOUNDS.tMax) || !int(k.p, KDF_BOUNDS.pMin, KDF_BOUNDS.pMax)) {
    fail('ERR_FILE_FORMAT');
  }
}

/** A file name that says whose identity it is, e.g. "hush-identity-hush1k2l6qtj.json". */
export function identityFileName(address: string): string {
  return `hush-identity-${address.slice(0, 12)}.json`;
}
