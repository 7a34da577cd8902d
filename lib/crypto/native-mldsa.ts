/**
 * ML-DSA-87 through the browser's own WebCrypto where it has it (Chromium 156 does, from
 * BoringSSL; Firefox 153 and Node 20 do not), noble's code everywhere else (identity.ts).
 * Same algorithm, same keys, same signatures (FIPS 204, hedged, with the context string):
 * a transcript signature is ~0.8 ms natively against ~10-20 ms in JavaScript, and each side
 * of a call makes one and checks one on the path to the ring (issue 17).
 *
 * Trust, but check once: the native signer is used for an identity only after its public key,
 * derived by the browser from the same 32-byte seed, equals noble's byte for byte, a native
 * signature verifies with noble, a noble signature verifies natively, and a tampered one does
 * not. Anything else (no API, an error, a mismatch) leaves that identity on noble, for good.
 */
import { ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';

const ALG = 'ML-DSA-87';

type Subtle = SubtleCrypto & {
  getPublicKey?: (key: CryptoKey, usages: Usages) => Promise<CryptoKey>;
};
/** The DOM's names for these, from the signatures themselves (the relay's build has no DOM lib). */
type Alg = Parameters<SubtleCrypto['sign']>[0];
type Usages = Parameters<SubtleCrypto['importKey']>[4];

function subtle(): Subtle | undefined {
  return (globalThis.crypto?.subtle as Subtle | undefined) ?? undefined;
}

const buf = (b: Uint8Array): Uint8Array<ArrayBuffer> => (b.buffer instanceof ArrayBuffer && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? (b as Uint8Array<ArrayBuffer>) : new Uint8Array(b));

/** A private key the browser holds, checked against noble; null: use noble. */
export type NativeSigner = CryptoKey | null;

/**
 * Import an ML-DSA-87 private key from its FIPS 204 seed ξ (32 bytes) and check it against
 * noble's `publicKey` and `secretKey` from the same seed. Never throws: null means "use noble".
 */
export async function nativeSigner(seed: Uint8Array, publicKey: Uint8Array, secretKey: Uint8Array): Promise<NativeSigner> {
  const s = subtle();
  if (!s?.getPublicKey) return null;
  try {
    const sk = await s.importKey('raw-seed' as 'raw', buf(seed), { name: ALG }, false, ['sign']);
    const pk = await s.getPublicKey(sk, ['verify']);
    const raw = new Uint8Array(await s.exportKey('raw-public' as 'raw', pk));
    if (!same(raw, publicKey)) return null;
    // One round of each direction against noble, and a forgery that must fail.
    const msg = crypto.getRandomValues(new Uint8Array(64));
    const context = new TextEncoder().encode('hush/v1/native-check');
    const nsig = new Uint8Array(await s.sign({ name: ALG, context } as Alg, sk, msg));
    if (!ml_dsa87.verify(nsig, msg, publicKey, { context })) return null;
    const jsig = ml_dsa87.sign(msg, secretKey, { context });
    if (!(await s.verify({ name: ALG, context } as Alg, pk, jsig, msg))) return null;
    const forged = nsig.slice();
    forged[7]! ^= 1;
    if (await s.verify({ name: ALG, context } as Alg, pk, forged, msg)) return null;
    return sk;
  } catch {
    return null;
  }
}

/** Sign natively; the signer came from `nativeSigner`. */
export async function nativeSign(sk: CryptoKey, context: Uint8Array, msg: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle()!.sign({ name: ALG, context: buf(context) } as Alg, sk, buf(msg)));
}

let verifierWorks: Promise<boolean> | undefined;

/**
 * Verify natively if this browser's ML-DSA-87 passed the full check once (nativeSigner's, on a
 * key of its own: same public key as noble's from the same seed, each verifies the other's
 * signature, a tampered one, another message and another context are refused); undefined: no
 * native verifier that passed, or the browser failed on this input: use noble.
 */
export async function nativeVerify(publicKey: Uint8Array, context: Uint8Array, msg: Uint8Array, sig: Uint8Array): Promise<boolean | undefined> {
  verifierWorks ??= checkVerifier();
  if (!(await verifierWorks)) return undefined;
  const s = subtle()!;
  try {
    const pk = await s.importKey('raw-public' as 'raw', buf(publicKey), { name: ALG }, false, ['verify']);
    return await s.verify({ name: ALG, context: buf(context) } as Alg, pk, buf(sig), buf(msg));
  } catch {
    return undefined; // the browser failed on this input: noble decides, as where there is no native path
  }
}

async function checkVerifier(): Promise<boolean> {
  const s = subtle();
  if (!s) return false;
  try {
    const seed = crypto.getRandomValues(new Uint8Array(32));
    const kp = ml_dsa87.keygen(seed);
    if (!(await nativeSigner(seed, kp.publicKey, kp.secretKey))) return false;
    const msg = crypto.getRandomValues(new Uint8Array(64));
    const context = new TextEncoder().encode('hush/v1/native-check');
    const sig = ml_dsa87.sign(msg, kp.secretKey, { context });
    const pk = await s.importKey('raw-public' as 'raw', buf(kp.publicKey), { name: ALG }, false, ['verify']);
    const verify = (ctx: Uint8Array, m: Uint8Array, sg: Uint8Array) => s.verify({ name: ALG, context: buf(ctx) } as Alg, pk, buf(sg), buf(m));
    const otherMsg = msg.slice();
    otherMsg[0]! ^= 1;
    return (
      (await verify(context, msg, sig)) &&
      !(await verify(new TextEncoder().encode('hush/v1/other'), msg, sig)) &&
      !(await verify(context, otherMsg, sig)) &&
      !(await verify(context, msg, sig.subarray(0, sig.length - 1)))
    );
  } catch {
    return false;
  }
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
