/**
 * Known-answer vectors for Hush's own formats (lib/crypto/vectors/*.json,
 * generated once by scripts/gen-vectors.ts). A test fails if a file loads
 * zero cases, so a lost vector file cannot pass silently.
 */
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import handshakeFile from './vectors/handshake.json';
import keyScheduleFile from './vectors/key-schedule.json';
import frameFile from './vectors/frame.json';
import { handshakeVector, referenceFrame, type FrameVector, type HandshakeVector, type KeyScheduleVector } from './_vectors';
import { drbg } from './_drbg';
import { fromHex, toHex } from './bytes';
import { identityFromSeed } from './identity';
import { addressHash } from './address';
import { CalleeHandshake } from './handshake';
import { recogniseHello } from './admit-tag';
import { frameEpochKeys } from './key-schedule';
import { FrameDecryptor, FrameEncryptor } from './frame-cipher';

const hs = handshakeFile.cases as HandshakeVector[];
const ks = keyScheduleFile.cases as KeyScheduleVector[];
const fr = frameFile.cases as FrameVector[];

test('vector files are not empty', () => {
  expect(hs.length).toBeGreaterThan(0);
  expect(ks.length).toBeGreaterThan(0);
  expect(fr.length).toBeGreaterThan(0);
});

describe('handshake transcript vectors', () => {
  test.each(hs.map((v, i) => [i, v] as const))('case %i: same messages, transcript hash, SAS and secrets', async (i, v) => {
    expect(await handshakeVector(i)).toEqual(v);
  });

  test.each(hs.map((v, i) => [i, v] as const))('case %i: the callee accepts the committed messages', async (_i, v) => {
    const B = identityFromSeed(fromHex(v.calleeSeed));
    const callee = new CalleeHandshake(B, { rng: drbg(v.calleeRng), deterministic: true, relays: v.calleeRelays });
    const r2 = await callee.onHello(fromHex(v.hello));
    expect(r2.ok && toHex(r2.value)).toBe(v.response);
    const r3 = await callee.onConfirm(fromHex(v.confirm));
    if (!r3.ok) throw r3.error;
    expect(toHex(r3.value.keys.secrets.frameA2b)).toBe(v.frameA2b);
    expect(r3.value.intent).toBe('invite');
    expect(r3.value.keys.peerRelays).toEqual(v.callerRelays);
    expect(toHex(r3.value.admission.recv)).toBe(v.admitA2b);
    expect(toHex(r3.value.admission.send)).toBe(v.admitB2a);
    const r4 = await callee.reveal();
    if (!r4.ok) throw r4.error;
    expect(toHex(r4.value.reveal)).toBe(v.reveal);
    expect(r4.value.sas).toBe(v.sas);
    expect(toHex(addressHash(r3.value.keys.peerBundleBytes))).toBe(
      toHex(addressHash(identityFromSeed(fromHex(v.callerSeed)).bundleBytes)),
    );
  });
});

describe('HELLO admission tag vectors (Node OpenSSL HMAC as reference)', () => {
  const tagged = hs.filter((v) => v.admitToken !== '');
  test('at least one vector carries a token', () => expect(tagged.length).toBeGreaterThan(0));
  test.each(tagged)('$callerAddress → $calleeAddress: tag = HMAC-SHA-256(token, H(label ‖ HELLO without tag))', (v) => {
    const hello = Buffer.from(v.hello, 'hex');
    const digest = createHash('sha256').update('hush/v2/admit/hello').update(hello.subarray(0, hello.length - 32)).digest();
    const tag = createHmac('sha256', Buffer.from(v.admitToken, 'hex')).update(digest).digest('hex');
    expect(toHex(hello.subarray(hello.length - 32))).toBe(tag);
    expect(recogniseHello(hello, [{ contactId: 'other', token: new Uint8Array(32) }, { contactId: 'caller', token: fromHex(v.admitToken) }])).toBe('caller');
  });
  test('the hash commitment and SAS code are plain SHA-256 (Node OpenSSL as reference)', async () => {
    const { sasCommitment, sasCode } = await import('./sas');
    const nonce = new Uint8Array(32).fill(7);
    const secret = new Uint8Array(32).fill(9);
    const ref = createHash('sha256').update('hush/v2/sas/commit').update(nonce).digest('hex');
    expect(toHex(sasCommitment(nonce))).toBe(ref);
    const d = createHash('sha256').update('hush/v2/sas/code').update(secret).update(nonce).digest();
    const digits = String(d.readUInt32BE(0) % 1_000_000).padStart(6, '0');
    expect(sasCode(secret, nonce)).toBe(`${digits.slice(0, 3)} ${digits.slice(3)}`);
  });
});

describe('key schedule vectors', () => {
  test.each(ks)('epoch $epoch', (v) => {
    const { key, salt } = frameEpochKeys(fromHex(v.frameSecret), v.epoch);
    expect(toHex(key)).toBe(v.key);
    expect(toHex(salt)).toBe(v.salt);
  });
});

describe('frame encryption vectors (WebCrypto under test, OpenSSL as reference)', () => {
  test.each(fr)('epoch $epoch counter $counter', async (v) => {
    const secret = fromHex(v.frameSecret);
    const plain = fromHex(v.plaintext);
    // The committed vector still equals an independent computation.
    expect(toHex(referenceFrame(secret, v.epoch, v.counter, plain))).toBe(v.frame);
    // Our WebCrypto sender writes exactly those bytes…
    const tx = await FrameEncryptor.create(secret, { resumeAt: { epoch: v.epoch, counter: v.counter } });
    expect(toHex(await tx.encrypt(plain))).toBe(v.frame);
    // …and our receiver opens them.
    const rx = await FrameDecryptor.create(secret, { resumeAt: { epoch: v.epoch } });
    const r = await rx.decrypt(fromHex(v.frame));
    expect(r.ok && toHex(r.value)).toBe(v.plaintext);
  });
});
