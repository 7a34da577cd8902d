/**
 * Long-term identity: one 32-byte master seed from which four key pairs derive.
 *
 *   ML-DSA-87 (FIPS 204)    signatures: transcripts, mailbox ownership
 *   Ed25519 (RFC 8032)      signatures, hybrid with ML-DSA: both must verify
 *   ML-KEM-1024 (FIPS 203)  static KEM key: first handshake message sealed to it
 *   X25519 (RFC 7748)       static DH key, hybrid with ML-KEM
 *
 * The public half (the bundle) hashes to the address (address.ts). Hybrid
 * signatures mean a forged transcript needs a break of both ML-DSA and
 * Ed25519. Caveats: noble's ML-DSA/Ed25519 are not constant-time against a
 * local attacker with cache timing; the extension is the only code in its
 * process, so we accept that. Secret keys are plain bytes; `wipeIdentity` zeroes
 * them when an identity is dropped. Where the browser's WebCrypto has ML-DSA-87
 * (Chromium), `signHybridAsync` / `verifyHybridAsync` use it instead, after a
 * check against noble (native-mldsa.ts); the signatures are the same either way.
 * That CryptoKey is non-extractable: it cannot be zeroed like the byte keys,
 * `wipeIdentity` only drops it (a handshake still holding it signs with a
 * zeroed Ed25519 key, which no peer accepts).
 */
import { ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { abytes, concat, u16be, utf8, wipe } from './bytes';
import {
  BUNDLE_LEN,
  BUNDLE_VERSION,
  ED25519_PK_LEN,
  ED25519_SIG_LEN,
  HYBRID_SIG_LEN,
  MASTER_SEED_LEN,
  MLDSA87_PK_LEN,
  MLDSA87_SIG_LEN,
  MLKEM1024_EK_LEN,
  X25519_PK_LEN,
} from './constants';
import { fail } from './errors';
import { nativeSign, nativeSigner, nativeVerify, type NativeSigner } from './native-mldsa';

/** The public keys of an identity. */
export interface IdentityBundle {
  mldsaPk: Uint8Array;
  ed25519Pk: Uint8Array;
  mlkemEk: Uint8Array;
  x25519Pk: Uint8Array;
}

/** A full identity: the seed, the derived secret keys and the public bundle. */
export interface Identity {
  seed: Uint8Array;
  bundle: IdentityBundle;
  /** Encoded bundle (BUNDLE_LEN bytes), cached: it is hashed and sent often. */
  bundleBytes: Uint8Array;
  mldsaSk: Uint8Array;
  ed25519Sk: Uint8Array;
  mlkemDk: Uint8Array;
  x25519Sk: Uint8Array;
}

function derive(seed: Uint8Array, label: string, len: number): Uint8Array {
  return hkdf(sha256, seed, utf8('hush/v1/identity'), utf8(label), len);
}

/** Make an identity from a master seed (random when not given). */
export function identityFromSeed(seed: Uint8Array = crypto.getRandomValues(new Uint8Array(MASTER_SEED_LEN))): Identity {
  abytes(seed, MASTER_SEED_LEN, 'identity seed');
  const sDsa = derive(seed, 'ml-dsa-87', 32);
  const sEd = derive(seed, 'ed25519', 32);
  const sKem = derive(seed, 'ml-kem-1024', 64);
  const sX = derive(seed, 'x25519', 32);
  try {
    const dsa = ml_dsa87.keygen(sDsa);
    const kem = ml_kem1024.keygen(sKem);
    const bundle: IdentityBundle = {
      mldsaPk: dsa.publicKey,
      ed25519Pk: ed25519.getPublicKey(sEd),
      mlkemEk: kem.publicKey,
      x25519Pk: x25519.getPublicKey(sX),
    };
    return {
      seed: seed.slice(),
      bundle,
      bundleBytes: encodeBundle(bundle),
      mldsaSk: dsa.secretKey,
      ed25519Sk: sEd.slice(),
      mlkemDk: kem.secretKey,
      x25519Sk: sX.slice(),
    };
  } finally {
    wipe(sDsa, sEd, sKem, sX);
  }
}

export function wipeIdentity(id: Identity): void {
  signers.delete(id);
  wipe(id.seed, id.mldsaSk, id.ed25519Sk, id.mlkemDk, id.x25519Sk);
}

/** version(1) ‖ ML-DSA-87 pk(2592) ‖ Ed25519 pk(32) ‖ ML-KEM-1024 ek(1568) ‖ X25519 pk(32) */
export function encodeBundle(b: IdentityBundle): Uint8Array {
  return concat(new Uint8Array([BUNDLE_VERSION]), b.mldsaPk, b.ed25519Pk, b.mlkemEk, b.x25519Pk);
}

/** Parse and validate an encoded bundle; ERR_BAD_BUNDLE on any malformation. */
export function decodeBundle(bytes: Uint8Array): IdentityBundle {
  if (!(bytes instanceof Uint8Array) || bytes.length !== BUNDLE_LEN) {
    fail('ERR_BAD_BUNDLE', `identity keys must be ${BUNDLE_LEN} bytes`);
  }
  if (bytes[0] !== BUNDLE_VERSION) fail('ERR_UNSUPPORTED_VERSION', `identity keys version ${bytes[0]} is not supported`);
  let o = 1;
  const take = (n: number) => bytes.slice(o, (o += n));
  const b: IdentityBundle = {
    mldsaPk: take(MLDSA87_PK_LEN),
    ed25519Pk: take(ED25519_PK_LEN),
    mlkemEk: take(MLKEM1024_EK_LEN),
    x25519Pk: take(X25519_PK_LEN),
  };
  // FIPS 203 §7.2 encapsulation-key check: every coefficient reduced mod q.
  if (!mlkemEkValid(b.mlkemEk)) fail('ERR_BAD_BUNDLE', 'identity KEM key fails the FIPS 203 modulus check');
  return b;
}

/** FIPS 203 §7.2 input check: ByteEncode12(ByteDecode12(ek)) == ek, i.e. all 12-bit values < q. */
export function mlkemEkValid(ek: Uint8Array): boolean {
  if (ek.length !== MLKEM1024_EK_LEN) return false;
  const polyBytes = MLKEM1024_EK_LEN - 32; // t̂ is followed by the 32-byte seed ρ
  for (let i = 0; i < polyBytes; i += 3) {
    const a = ek[i]! | ((ek[i + 1]! & 0x0f) << 8);
    const b = (ek[i + 1]! >> 4) | (ek[i + 2]! << 4);
    if (a >= 3329 || b >= 3329) return false;
  }
  return true;
}

function ctxBytes(ctx: string): Uint8Array {
  const c = utf8(ctx);
  if (c.length > 255) fail('ERR_BAD_INPUT', 'signature context longer than 255 bytes');
  return c;
}

/**
 * Hybrid signature over `msg` in context `ctx`: ML-DSA-87 (hedged, with the
 * FIPS 204 context string) ‖ Ed25519 over (len(ctx) ‖ ctx ‖ msg).
 */
export function signHybrid(id: Identity, ctx: string, msg: Uint8Array, opts: { deterministic?: boolean } = {}): Uint8Array {
  const c = ctxBytes(ctx);
  const dsa = ml_dsa87.sign(msg, id.mldsaSk, {
    context: c,
    ...(opts.deterministic ? { extraEntropy: false as const } : {}),
  });
  const ed = ed25519.sign(concat(u16be(c.length), c, msg), id.ed25519Sk);
  return concat(dsa, ed);
}

/** True only if both halves verify for this bundle, context and message. */
export function verifyHybrid(bundle: IdentityBundle, ctx: string, msg: Uint8Array, sig: Uint8Array): boolean {
  if (!(sig instanceof Uint8Array) || sig.length !== HYBRID_SIG_LEN) return false;
  try {
    const c = ctxBytes(ctx);
    const dsaOk = ml_dsa87.verify(sig.subarray(0, MLDSA87_SIG_LEN), msg, bundle.mldsaPk, { context: c });
    const edOk = ed25519.verify(
      sig.subarray(MLDSA87_SIG_LEN, MLDSA87_SIG_LEN + ED25519_SIG_LEN),
      concat(u16be(c.length), c, msg),
      bundle.ed25519Pk,
    );
    return dsaOk && edOk;
  } catch {
    return false;
  }
}

/** The browser's ML-DSA-87 key of each identity, once checked (native-mldsa.ts); null: noble. */
const signers = new WeakMap<Identity, Promise<NativeSigner>>();

/**
 * Start (or join) the check of the browser's ML-DSA-87 for this identity. The background calls it
 * when the identity loads, so the first call's signature does not wait for the check.
 */
export function prepareSigner(id: Identity): Promise<NativeSigner> {
  let p = signers.get(id);
  if (!p) {
    const sDsa = derive(id.seed, 'ml-dsa-87', 32);
    p = nativeSigner(sDsa, id.bundle.mldsaPk, id.mldsaSk).finally(() => wipe(sDsa));
    signers.set(id, p);
  }
  return p;
}

/** signHybrid, with the browser's ML-DSA-87 where it passed the check; noble's otherwise and for `deterministic`. */
export async function signHybridAsync(id: Identity, ctx: string, msg: Uint8Array, opts: { deterministic?: boolean } = {}): Promise<Uint8Array> {
  if (opts.deterministic) return signHybrid(id, ctx, msg, opts);
  const sk = await prepareSigner(id);
  if (!sk) return signHybrid(id, ctx, msg);
  const c = ctxBytes(ctx);
  let dsa: Uint8Array;
  try {
    dsa = await nativeSign(sk, c, msg);
  } catch {
    return signHybrid(id, ctx, msg); // the browser failed this once: noble's signature is the same kind
  }
  const ed = ed25519.sign(concat(u16be(c.length), c, msg), id.ed25519Sk);
  return concat(dsa, ed);
}

/** verifyHybrid, with the browser's ML-DSA-87 where it passed its check; the same answer for every input. */
export async function verifyHybridAsync(bundle: IdentityBundle, ctx: string, msg: Uint8Array, sig: Uint8Array): Promise<boolean> {
  if (!(sig instanceof Uint8Array) || sig.length !== HYBRID_SIG_LEN) return false;
  let c: Uint8Array;
  try {
    c = ctxBytes(ctx);
  } catch {
    return false;
  }
  const dsa = await nativeVerify(bundle.mldsaPk, c, msg, sig.subarray(0, MLDSA87_SIG_LEN));
  if (dsa === undefined) return verifyHybrid(bundle, ctx, msg, sig);
  try {
    const edOk = ed25519.verify(sig.subarray(MLDSA87_SIG_LEN, MLDSA87_SIG_LEN + ED25519_SIG_LEN), concat(u16be(c.length), c, msg), bundle.ed25519Pk);
    return dsa && edOk;
  } catch {
    return false;
  }
}

/** Which ML-DSA-87 this identity signs with: 'webcrypto' (the browser's, checked) or 'noble'. */
export async function signerKind(id: Identity): Promise<'webcrypto' | 'noble'> {
  return (await prepareSigner(id)) ? 'webcrypto' : 'noble';
}
