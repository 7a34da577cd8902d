/**
 * Hush addresses: `hush1` + bech32m (BIP 350) of the first 20 bytes of
 * SHA-256("hush/v1/address" ‖ bundle). 43 characters, lower case, no
 * look-alike characters (no 1/b/i/o in the data part), and a BCH checksum
 * that catches any typo of up to four characters, so a mistyped address is
 * refused instead of dialling a stranger.
 *
 * Whoever presents a bundle proves it matches an address by hashing; no
 * server vouches for anyone. The relay routes by the mailbox id, a further
 * hash of the address hash, and never needs the address itself.
 */
import { bech32m } from '@scure/base';
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, equalBytes, toHex, utf8 } from './bytes';
import { ADDRESS_HASH_LEN, ADDRESS_HRP, MAILBOX_ID_LEN } from './constants';
import { fail } from './errors';

const ADDRESS_DOMAIN = utf8('hush/v1/address');
const MAILBOX_DOMAIN = utf8('hush/v1/mailbox');
/** hrp(4) + '1' + 32 data chars + 6 checksum chars. */
export const ADDRESS_LEN = ADDRESS_HRP.length + 1 + Math.ceil((ADDRESS_HASH_LEN * 8) / 5) + 6;

/** The 20-byte address hash of an encoded bundle. */
export function addressHash(bundleBytes: Uint8Array): Uint8Array {
  return sha256(concat(ADDRESS_DOMAIN, bundleBytes)).slice(0, ADDRESS_HASH_LEN);
}

export function addressFromBundle(bundleBytes: Uint8Array): string {
  return bech32m.encode(ADDRESS_HRP, bech32m.toWords(addressHash(bundleBytes)));
}

/**
 * Parse an address typed or pasted by a person. Accepts surrounding spaces,
 * upper case, spaces or dashes inside, and a `web+hush:` scheme.
 * ERR_BAD_ADDRESS with a sentence a person can act on otherwise.
 */
export function parseAddress(input: string): { address: string; hash: Uint8Array } {
  if (typeof input !== 'string') fail('ERR_BAD_ADDRESS', 'An address is text starting with "hush1".');
  const s = input.trim().toLowerCase().replace(/^web\+hush:(\/\/)?/, '').replace(/[\s-]/g, '');
  if (!s.startsWith(`${ADDRESS_HRP}1`)) fail('ERR_BAD_ADDRESS', 'A Hush address starts with "hush1".');
  if (s.length !== ADDRESS_LEN) {
    fail('ERR_BAD_ADDRESS', `A Hush address has ${ADDRESS_LEN} characters; this one has ${s.length}.`);
  }
  const decoded = bech32m.decodeUnsafe(s, ADDRESS_LEN);
  if (!decoded || decoded.prefix !== ADDRESS_HRP) {
    fail('ERR_BAD_ADDRESS', 'This address has a typo: its checksum does not match. Check each character.');
  }
  const hash = bech32m.fromWordsUnsafe(decoded.words);
  if (!hash || hash.length !== ADDRESS_HASH_LEN) fail('ERR_BAD_ADDRESS', 'This is not a Hush address.');
  return { address: s, hash };
}

/** Does this encoded bundle belong to this address? (constant-time compare) */
export function bundleMatchesAddress(bundleBytes: Uint8Array, address: string): boolean {
  const { hash } = parseAddress(address);
  return equalBytes(addressHash(bundleBytes), hash);
}

/** The relay's routing id for an address hash: 16 bytes, hex. */
export function mailboxIdFromHash(hash: Uint8Array): string {
  return toHex(sha256(concat(MAILBOX_DOMAIN, hash)).slice(0, MAILBOX_ID_LEN));
}

export function mailboxIdOf(address: string): string {
  return mailboxIdFromHash(parseAddress(address).hash);
}

export function mailboxIdOfBundle(bundleBytes: Uint8Array): string {
  return mailboxIdFromHash(addressHash(bundleBytes));
}
