/**
 * Run by tests/integration/native-mldsa.test.ts on Node 24, whose WebCrypto has ML-DSA-87
 * (OpenSSL 3.5's): Hush's native path (lib/crypto/native-mldsa.ts) against noble, its
 * fallback and an independent implementation. Prints one JSON line of findings.
 */
import { identityFromSeed, signerKind, signHybrid, signHybridAsync, verifyHybrid, verifyHybridAsync } from '../../lib/crypto/identity';
import { CalleeHandshake, CallerHandshake } from '../../lib/crypto/handshake';
import { addressHash } from '../../lib/crypto/address';

const out: Record<string, unknown> = {};
const msg = new TextEncoder().encode('transcript');
const ids = [1, 2, 3].map((n) => identityFromSeed(new Uint8Array(32).fill(n)));
out.signer = await Promise.all(ids.map((id) => signerKind(id)));

const crossed: boolean[] = [];
const refused: boolean[] = [];
for (const [i, id] of ids.entries()) {
  const other = ids[(i + 1) % ids.length]!;
  const nativeSig = await signHybridAsync(id, 'hush/test', msg);
  const nobleSig = signHybrid(id, 'hush/test', msg);
  crossed.push(verifyHybrid(id.bundle, 'hush/test', msg, nativeSig)); // noble checks the native signature
  crossed.push(await verifyHybridAsync(id.bundle, 'hush/test', msg, nobleSig)); // native checks noble's
  crossed.push(await verifyHybridAsync(id.bundle, 'hush/test', msg, nativeSig));
  const pq = nativeSig.slice();
  pq[100]! ^= 1;
  const ed = nativeSig.slice();
  ed[nativeSig.length - 3]! ^= 1;
  refused.push(await verifyHybridAsync(id.bundle, 'hush/test', msg, pq));
  refused.push(await verifyHybridAsync(id.bundle, 'hush/test', msg, ed));
  refused.push(await verifyHybridAsync(other.bundle, 'hush/test', msg, nativeSig));
  refused.push(await verifyHybridAsync(id.bundle, 'hush/other', msg, nativeSig));
  refused.push(await verifyHybridAsync(id.bundle, 'hush/test', new TextEncoder().encode('transcripT'), nativeSig));
  refused.push(await verifyHybridAsync(id.bundle, 'hush/test', msg, nativeSig.slice(0, -1)));
}
out.crossed = crossed;
out.refused = refused;
out.nativeSigLen = (await signHybridAsync(ids[0]!, 'hush/test', msg)).length;
out.nobleSigLen = signHybrid(ids[0]!, 'hush/test', msg).length;

// A whole handshake with the native path on both sides: both derive the same keys and SAS.
const [a, b] = ids as [(typeof ids)[0], (typeof ids)[0]];
const caller = new CallerHandshake(a, addressHash(b.bundleBytes));
const callee = new CalleeHandshake(b);
const m2 = await callee.onHello(caller.start());
const m3 = m2.ok ? await caller.onResponse(m2.value) : undefined;
const done = m3?.ok ? await callee.onConfirm(m3.value.confirm) : undefined;
const m4 = done?.ok ? await callee.reveal() : undefined;
const revealed = m4?.ok && m3?.ok ? await caller.onReveal(m4.value.reveal) : undefined;
out.handshake = revealed?.ok && m4?.ok ? (revealed.value.sas === m4.value.sas ? 'same SAS' : 'SAS differ') : `failed: ${JSON.stringify([m2?.ok, m3?.ok, done?.ok, m4?.ok, revealed?.ok])}`;
console.log(JSON.stringify(out));
