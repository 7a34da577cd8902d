/**
 * The checks that decide whether the browser's ML-DSA-87 is used (native-mldsa.ts). The real
 * native path is tested on Node 24's OpenSSL (tests/integration/native-mldsa.test.ts) and in
 * Chromium (tests/e2e/smoke.test.ts); here a WebCrypto stand-in built on noble is made to lie
 * in each way the checks must catch.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import { ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { nativeSigner, nativeVerify } from './native-mldsa';

/** A fresh copy of the module: its verifier check is decided once per context. */
async function freshModule() {
  vi.resetModules();
  return import('./native-mldsa');
}

type Key = { seed?: Uint8Array; pk: Uint8Array; sk?: Uint8Array };

/** A WebCrypto with ML-DSA-87 on noble; `lie` bends one answer. */
function fakeSubtle(lie: 'none' | 'public-key' | 'accepts-all' | 'bad-signatures') {
  const k = (x: unknown) => x as unknown as Key;
  return {
    async importKey(format: string, data: Uint8Array) {
      if (format === 'raw-seed') {
        const kp = ml_dsa87.keygen(new Uint8Array(data));
        return { seed: data, pk: kp.publicKey, sk: kp.secretKey } as unknown as CryptoKey;
      }
      return { pk: new Uint8Array(data) } as unknown as CryptoKey;
    },
    async getPublicKey(key: CryptoKey) {
      const pk = k(key).pk.slice();
      if (lie === 'public-key') pk[0]! ^= 1;
      return { pk } as unknown as CryptoKey;
    },
    async exportKey(_f: string, key: CryptoKey) {
      return k(key).pk.slice().buffer;
    },
    async sign(alg: { context: Uint8Array }, key: CryptoKey, msg: Uint8Array) {
      const sig = ml_dsa87.sign(new Uint8Array(msg), k(key).sk!, { context: new Uint8Array(alg.context) });
      if (lie === 'bad-signatures') sig[3]! ^= 1;
      return sig.buffer;
    },
    async verify(alg: { context: Uint8Array }, key: CryptoKey, sig: Uint8Array, msg: Uint8Array) {
      if (lie === 'accepts-all') return true;
      return ml_dsa87.verify(new Uint8Array(sig), new Uint8Array(msg), k(key).pk, { context: new Uint8Array(alg.context) });
    },
  };
}

const seed = new Uint8Array(32).fill(7);
const kp = ml_dsa87.keygen(seed);

const realCrypto = globalThis.crypto;

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the browser ML-DSA-87 is used only when it agrees with noble', () => {
  test('an honest implementation is used', async () => {
    vi.stubGlobal('crypto', { subtle: fakeSubtle('none'), getRandomValues: (a: Uint8Array<ArrayBuffer>) => realCrypto.getRandomValues(a) });
    expect(await nativeSigner(seed, kp.publicKey, kp.secretKey)).not.toBeNull();
  });

  test.each(['public-key', 'accepts-all', 'bad-signatures'] as const)('one that lies (%s) is not', async (lie) => {
    vi.stubGlobal('crypto', { subtle: fakeSubtle(lie), getRandomValues: (a: Uint8Array<ArrayBuffer>) => realCrypto.getRandomValues(a) });
    expect(await nativeSigner(seed, kp.publicKey, kp.secretKey)).toBeNull();
  });

  test('an honest verifier is used: it accepts the signature, refuses a tampered one', async () => {
    vi.stubGlobal('crypto', { subtle: fakeSubtle('none'), getRandomValues: (a: Uint8Array<ArrayBuffer>) => realCrypto.getRandomValues(a) });
    const m = await freshModule();
    const msg = new Uint8Array(8);
    const ctx = new Uint8Array([1]);
    const sig = ml_dsa87.sign(msg, kp.secretKey, { context: ctx });
    expect(await m.nativeVerify(kp.publicKey, ctx, msg, sig)).toBe(true);
    const bad = sig.slice();
    bad[9]! ^= 1;
    expect(await m.nativeVerify(kp.publicKey, ctx, msg, bad)).toBe(false);
  });

  test.each(['public-key', 'accepts-all', 'bad-signatures'] as const)('a verifier in a browser that lies (%s) is not used: noble decides', async (lie) => {
    vi.stubGlobal('crypto', { subtle: fakeSubtle(lie), getRandomValues: (a: Uint8Array<ArrayBuffer>) => realCrypto.getRandomValues(a) });
    const m = await freshModule();
    const msg = new Uint8Array(8);
    const forged = new Uint8Array(4627);
    expect(await m.nativeVerify(kp.publicKey, new Uint8Array(0), msg, forged)).toBeUndefined();
  });

  test('no ML-DSA in WebCrypto (Node 20, Firefox 153): noble, for signing and for checking', async () => {
    // A WebCrypto without ML-DSA, whatever the Node running the tests has (Node 24 has one).
    vi.stubGlobal('crypto', { subtle: { importKey: async () => Promise.reject(new Error('NotSupportedError')) }, getRandomValues: (a: Uint8Array<ArrayBuffer>) => realCrypto.getRandomValues(a) });
    const { nativeSigner, nativeVerify } = await freshModule();
    expect(await nativeSigner(seed, kp.publicKey, kp.secretKey)).toBeNull();
    const msg = new Uint8Array(8);
    const sig = ml_dsa87.sign(msg, kp.secretKey);
    expect(await nativeVerify(kp.publicKey, new Uint8Array(0), msg, sig)).toBeUndefined();
  });
});
