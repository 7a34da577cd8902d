import { describe, expect, test } from 'vitest';
import { identityFromSeed } from './identity';
import {
  ADDRESS_LEN,
  addressFromBundle,
  addressHash,
  bundleMatchesAddress,
  mailboxIdOf,
  mailboxIdOfBundle,
  parseAddress,
} from './address';
import { isCryptoError } from './errors';
import { toHex } from './bytes';

const alice = identityFromSeed(new Uint8Array(32).fill(1));
const bob = identityFromSeed(new Uint8Array(32).fill(2));
const addr = addressFromBundle(alice.bundleBytes);
const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

describe('address', () => {
  test('is hush1 + 38 bech32m characters and round-trips', () => {
    expect(addr).toMatch(/^hush1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{38}$/);
    expect(addr.length).toBe(ADDRESS_LEN);
    expect(ADDRESS_LEN).toBe(43);
    expect(toHex(parseAddress(addr).hash)).toBe(toHex(addressHash(alice.bundleBytes)));
  });

  test('accepts what people paste: case, spaces, dashes, web+hush: scheme', () => {
    const grouped = addr.toUpperCase().replace(/(.{5})/g, '$1 ');
    expect(parseAddress(`  ${grouped} `).address).toBe(addr);
    expect(parseAddress(`web+hush:${addr}`).address).toBe(addr);
    expect(parseAddress(addr.replace(/(.{8})/g, '$1-')).address).toBe(addr);
  });

  test('every single-character typo is caught with a sentence', () => {
    let tested = 0;
    for (let i = 5; i < addr.length; i++) {
      for (const c of CHARSET) {
        if (c === addr[i]) continue;
        const typo = addr.slice(0, i) + c + addr.slice(i + 1);
        expect(() => parseAddress(typo)).toThrowError(/typo|checksum/);
        tested++;
      }
    }
    expect(tested).toBe(38 * 31);
  });

  test('swapped neighbours, a dropped and an added character are caught', () => {
    for (let i = 5; i < addr.length - 1; i++) {
      if (addr[i] === addr[i + 1]) continue;
      const swapped = addr.slice(0, i) + addr[i + 1] + addr[i] + addr.slice(i + 2);
      expect(() => parseAddress(swapped), swapped).toThrow();
    }
    expect(() => parseAddress(addr.slice(0, -1))).toThrowError(/43 characters/);
    expect(() => parseAddress(addr + 'q')).toThrowError(/43 characters/);
  });

  test('refuses what is not an address, with a typed error', () => {
    for (const bad of ['', 'bob', 'hush', 'btc1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq', 42 as unknown as string]) {
      try {
        parseAddress(bad);
        expect.unreachable();
      } catch (e) {
        expect(isCryptoError(e, 'ERR_BAD_ADDRESS')).toBe(true);
      }
    }
  });

  test('keys match only their own address', () => {
    expect(bundleMatchesAddress(alice.bundleBytes, addr)).toBe(true);
    expect(bundleMatchesAddress(bob.bundleBytes, addr)).toBe(false);
  });

  test('mailbox id is derived from the address and differs per identity', () => {
    expect(mailboxIdOf(addr)).toBe(mailboxIdOfBundle(alice.bundleBytes));
    expect(mailboxIdOf(addr)).toMatch(/^[0-9a-f]{32}$/);
    expect(mailboxIdOfBundle(bob.bundleBytes)).not.toBe(mailboxIdOf(addr));
    expect(addr).not.toContain(mailboxIdOf(addr));
  });
});
