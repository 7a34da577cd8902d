/**
 * Outside truth for the KEM: our ML-KEM-1024 wiring (noble) interoperates with
 * an independent implementation from npm (`mlkem`, dajiaji's port of the
 * CRYSTALS-Kyber reference), in both directions, and both derive the same
 * keys from the same FIPS 203 seed. Parameter set and encodings are thereby
 * the standard ones.
 */
import { describe, expect, test } from 'vitest';
import { MlKem1024 } from 'mlkem';
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { mlkemDecaps, mlkemEncaps, mlkemKeygen, systemRng, x25519Keygen, x25519Shared } from './kem';
import { toHex } from './bytes';
import { MLKEM1024_CT_LEN, MLKEM1024_EK_LEN } from './constants';
import { identityFromSeed } from './identity';

describe('ML-KEM-1024 against an independent implementation', () => {
  test('same seed, same key pair', async () => {
    const seed = new Uint8Array(64).map((_, i) => i);
    const [ek, dk] = await new MlKem1024().deriveKeyPair(seed);
    const ours = ml_kem1024.keygen(seed);
    expect(toHex(ek)).toBe(toHex(ours.publicKey));
    expect(toHex(dk)).toBe(toHex(ours.secretKey));
    expect(ek.length).toBe(MLKEM1024_EK_LEN);
  });

  test('they encapsulate, we decapsulate', async () => {
    const ours = mlkemKeygen(systemRng);
    const [ct, ss] = await new MlKem1024().encap(ours.ek);
    expect(ct.length).toBe(MLKEM1024_CT_LEN);
    expect(toHex(mlkemDecaps(ct, ours.dk))).toBe(toHex(ss));
  });

  test('we encapsulate, they decapsulate (to an identity static key too)', async () => {
    const kem = new MlKem1024();
    const [ek, dk] = await kem.generateKeyPair();
    const { ct, ss } = mlkemEncaps(ek, systemRng);
    expect(toHex(await kem.decap(ct, dk))).toBe(toHex(ss));
    const id = identityFromSeed();
    const s = mlkemEncaps(id.bundle.mlkemEk, systemRng);
    expect(toHex(mlkemDecaps(s.ct, id.mlkemDk))).toBe(toHex(s.ss));
  });

  test('a tampered ciphertext yields a different secret (implicit rejection), never an exception', async () => {
    const ours = mlkemKeygen(systemRng);
    const { ct, ss } = mlkemEncaps(ours.ek, systemRng);
    ct[0]! ^= 1;
    expect(toHex(mlkemDecaps(ct, ours.dk))).not.toBe(toHex(ss));
  });

  test('X25519 agrees and refuses low-order points', () => {
    const a = x25519Keygen(systemRng);
    const b = x25519Keygen(systemRng);
    expect(toHex(x25519Shared(a.sk, b.pk))).toBe(toHex(x25519Shared(b.sk, a.pk)));
    expect(() => x25519Shared(a.sk, new Uint8Array(32))).toThrow(/low-order|zeros/);
  });
});
