/**
 * The hybrid KEM: ML-KEM-1024 (FIPS 203) and X25519 (RFC 7748), both shared
 * secrets fed to the key schedule, so an attacker must break both to read a
 * call (docs/protocol.md §Why hybrid).
 *
 * Caveats, as noble documents them: ML-KEM decapsulation never throws and
 * never fails: a wrong or tampered ciphertext yields a different, random-
 * looking secret (implicit rejection). A tampered handshake is therefore
 * caught later, when the sealed part fails to authenticate. ML-KEM does not
 * authenticate the sender: the transcript signatures do. X25519 outputs of
 * all zeros (low-order points) are refused.
 */
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { abytes } from './bytes';
import { MLKEM1024_CT_LEN, MLKEM1024_EK_LEN, X25519_PK_LEN } from './constants';
import { fail } from './errors';
import { mlkemEkValid } from './identity';

export type Rng = (n: number) => Uint8Array;
export const systemRng: Rng = (n) => crypto.getRandomValues(new Uint8Array(n));

export interface KemKeyPair {
  ek: Uint8Array;
  dk: Uint8Array;
}

/** Fresh ML-KEM-1024 key pair (64 bytes of randomness, FIPS 203 d ‖ z). */
export function mlkemKeygen(rng: Rng): KemKeyPair {
  const { publicKey, secretKey } = ml_kem1024.keygen(rng(64));
  return { ek: publicKey, dk: secretKey };
}

export function mlkemEncaps(ek: Uint8Array, rng: Rng): { ct: Uint8Array; ss: Uint8Array } {
  abytes(ek, MLKEM1024_EK_LEN, 'ML-KEM-1024 encapsulation key');
  if (!mlkemEkValid(ek)) fail('ERR_HANDSHAKE_FORMAT', 'ML-KEM-1024 key fails the FIPS 203 modulus check');
  const { cipherText, sharedSecret } = ml_kem1024.encapsulate(ek, rng(32));
  return { ct: cipherText, ss: sharedSecret };
}

export function mlkemDecaps(ct: Uint8Array, dk: Uint8Array): Uint8Array {
  abytes(ct, MLKEM1024_CT_LEN, 'ML-KEM-1024 ciphertext');
  return ml_kem1024.decapsulate(ct, dk);
}

export interface DhKeyPair {
  pk: Uint8Array;
  sk: Uint8Array;
}

export function x25519Keygen(rng: Rng): DhKeyPair {
  const sk = rng(32);
  return { sk, pk: x25519.getPublicKey(sk) };
}

export function x25519Shared(sk: Uint8Array, pk: Uint8Array): Uint8Array {
  abytes(pk, X25519_PK_LEN, 'X25519 public key');
  let out: Uint8Array;
  try {
    out = x25519.getSharedSecret(sk, pk);
  } catch {
    fail('ERR_HANDSHAKE_FORMAT', 'X25519 public key is a low-order point');
  }
  let acc = 0;
  for (const b of out) acc |= b;
  if (acc === 0) fail('ERR_HANDSHAKE_FORMAT', 'X25519 shared secret is all zeros');
  return out;
}
