import { describe, expect, test, vi } from 'vitest';
import { decodeBundle, encodeBundle, identityFromSeed, mlkemEkValid, signHybrid, signHybridAsync, signerKind, verifyHybrid, verifyHybridAsync } from './identity';
import { BUNDLE_LEN, HYBRID_SIG_LEN, MLDSA87_SIG_LEN } from './constants';
import { isCryptoError } from './errors';
import { toHex } from './bytes';

const seed = new Uint8Array(32).fill(9);
const id = identityFromSeed(seed);
const other = identityFromSeed(new Uint8Array(32).fill(10));
const msg = new TextEncoder().encode('transcript');

describe('identity', () => {
  test('is a pure function of its 32-byte seed', () => {
    const again = identityFromSeed(seed);
    expect(toHex(again.bundleBytes)).toBe(toHex(id.bundleBytes));
    expect(id.bundleBytes.length).toBe(BUNDLE_LEN);
    expect(toHex(other.bundleBytes)).not.toBe(toHex(id.bundleBytes));
    expect(() => identityFromSeed(new Uint8Array(31))).toThrowError(/32 bytes/);
  });

  test('random identities differ', () => {
    expect(toHex(identityFromSeed().bundleBytes)).not.toBe(toHex(identityFromSeed().bundleBytes));
  });

  test('bundle codec round-trips and refuses malformed keys with typed errors', () => {
    expect(toHex(encodeBundle(decodeBundle(id.bundleBytes)))).toBe(toHex(id.bundleBytes));
    const cases: [Uint8Array, string][] = [
      [id.bundleBytes.slice(0, -1), 'ERR_BAD_BUNDLE'],
      [new Uint8Array([...id.bundleBytes, 0]), 'ERR_BAD_BUNDLE'],
      [Uint8Array.from(id.bundleBytes, (b, i) => (i === 0 ? 2 : b)), 'ERR_UNSUPPORTED_VERSION'],
    ];
    // ML-KEM key with a coefficient ≥ q (FIPS 203 §7.2 check).
    const badKem = id.bundleBytes.slice();
    const kemAt = 1 + 2592 + 32;
    badKem[kemAt] = 0xff;
    badKem[kemAt + 1] = 0xff;
    cases.push([badKem, 'ERR_BAD_BUNDLE']);
    for (const [bytes, code] of cases) {
      try {
        decodeBundle(bytes);
        expect.unreachable();
      } catch (e) {
        expect(isCryptoError(e, code as never), code).toBe(true);
      }
    }
    expect(mlkemEkValid(id.bundle.mlkemEk)).toBe(true);
  });

  test('hybrid signature verifies only with the right key, context and message', () => {
    const sig = signHybrid(id, 'hush/test', msg);
    expect(sig.length).toBe(HYBRID_SIG_LEN);
    expect(verifyHybrid(id.bundle, 'hush/test', msg, sig)).toBe(true);
    expect(verifyHybrid(other.bundle, 'hush/test', msg, sig)).toBe(false);
    expect(verifyHybrid(id.bundle, 'hush/other', msg, sig)).toBe(false);
    expect(verifyHybrid(id.bundle, 'hush/test', new TextEncoder().encode('transcripT'), sig)).toBe(false);
    expect(verifyHybrid(id.bundle, 'hush/test', msg, sig.slice(0, -1))).toBe(false);
  });

  test('both halves must verify: a forged ML-DSA or Ed25519 half is refused', () => {
    const sig = signHybrid(id, 'hush/test', msg);
    const forgedPq = sig.slice();
    forgedPq[100]! ^= 1;
    const forgedEd = sig.slice();
    forgedEd[MLDSA87_SIG_LEN + 5]! ^= 1;
    expect(verifyHybrid(id.bundle, 'hush/test', msg, forgedPq)).toBe(false);
    expect(verifyHybrid(id.bundle, 'hush/test', msg, forgedEd)).toBe(false);
    // Splice: the other identity's Ed25519 half on our ML-DSA half.
    const otherSig = signHybrid(other, 'hush/test', msg);
    const spliced = new Uint8Array([...sig.subarray(0, MLDSA87_SIG_LEN), ...otherSig.subarray(MLDSA87_SIG_LEN)]);
    expect(verifyHybrid(id.bundle, 'hush/test', msg, spliced)).toBe(false);
  });

  test('the async pair (the handshake\'s) answers as the sync one where WebCrypto has no ML-DSA (noble)', async () => {
    const real = globalThis.crypto;
    vi.stubGlobal('crypto', { subtle: { importKey: async () => Promise.reject(new Error('NotSupportedError')) }, getRandomValues: (a: Uint8Array<ArrayBuffer>) => real.getRandomValues(a) });
    try {
      await checkAsyncPair();
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

async function checkAsyncPair() {
    expect(await signerKind(id)).toBe('noble');
    const sig = await signHybridAsync(id, 'hush/test', msg);
    expect(verifyHybrid(id.bundle, 'hush/test', msg, sig)).toBe(true);
    expect(await verifyHybridAsync(id.bundle, 'hush/test', msg, signHybrid(id, 'hush/test', msg))).toBe(true);
    expect(await verifyHybridAsync(other.bundle, 'hush/test', msg, sig)).toBe(false);
    expect(await verifyHybridAsync(id.bundle, 'hush/other', msg, sig)).toBe(false);
    expect(await verifyHybridAsync(id.bundle, 'hush/test', msg, sig.slice(0, -1))).toBe(false);
    const forged = sig.slice();
    forged[100]! ^= 1;
    expect(await verifyHybridAsync(id.bundle, 'hush/test', msg, forged)).toBe(false);
}
