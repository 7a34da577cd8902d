import { describe, expect, test } from 'vitest';
import { identityFromSeed, type Identity } from './identity';
import { addressHash } from './address';
import { CalleeHandshake, CallerHandshake, directional } from './handshake';
import { toHex, utf8 } from './bytes';
import { BUNDLE_LEN, MLKEM1024_CT_LEN } from './constants';
import { PREFIX_LEN } from './envelope-format';
import type { CryptoErrorCode } from './errors';

const alice = identityFromSeed(new Uint8Array(32).fill(1));
const bob = identityFromSeed(new Uint8Array(32).fill(2));
const mallory = identityFromSeed(new Uint8Array(32).fill(3));
const bobHash = addressHash(bob.bundleBytes);
const invite = utf8('{"kind":"invite"}');

/** Run a full handshake, letting `tamper` rewrite any message in flight. */
async function run(opts: {
  caller?: Identity;
  callee?: Identity;
  dialled?: Uint8Array;
  tamper?: { m1?: (b: Uint8Array) => Uint8Array; m2?: (b: Uint8Array) => Uint8Array; m3?: (b: Uint8Array) => Uint8Array };
}) {
  const caller = new CallerHandshake(opts.caller ?? alice, opts.dialled ?? bobHash);
  const callee = new CalleeHandshake(opts.callee ?? bob);
  const t = opts.tamper ?? {};
  const m1 = caller.start();
  const m2 = await callee.onHello(t.m1 ? t.m1(m1) : m1);
  if (!m2.ok) return { stage: 'callee-hello' as const, code: m2.error.code };
  const m3 = await caller.onResponse(t.m2 ? t.m2(m2.value) : m2.value, invite);
  if (!m3.ok) return { stage: 'caller-response' as const, code: m3.error.code };
  const done = await callee.onConfirm(t.m3 ? t.m3(m3.value.confirm) : m3.value.confirm);
  if (!done.ok) return { stage: 'callee-confirm' as const, code: done.error.code };
  return { stage: 'done' as const, a: m3.value.keys, b: done.value.keys, payload: done.value.payload };
}

const flip = (at: number) => (b: Uint8Array) => {
  const c = b.slice();
  c[at]! ^= 0x01;
  return c;
};

describe('handshake', () => {
  test('round trip: same SAS, mirrored secrets, identities learned, payload delivered', async () => {
    const r = await run({});
    if (r.stage !== 'done') throw new Error(`failed at ${r.stage}: ${r.code}`);
    expect(r.a.sas).toMatch(/^\d{3} \d{3}$/);
    expect(r.a.sas).toBe(r.b.sas);
    expect(toHex(r.a.transcriptHash)).toBe(toHex(r.b.transcriptHash));
    const da = directional(r.a);
    const db = directional(r.b);
    expect(toHex(da.sendFrame)).toBe(toHex(db.recvFrame));
    expect(toHex(da.recvFrame)).toBe(toHex(db.sendFrame));
    expect(toHex(da.sendSignal)).toBe(toHex(db.recvSignal));
    expect(toHex(da.sendFrame)).not.toBe(toHex(da.recvFrame));
    expect(toHex(r.a.peerBundleBytes)).toBe(toHex(bob.bundleBytes));
    expect(toHex(r.b.peerBundleBytes)).toBe(toHex(alice.bundleBytes));
    expect(new TextDecoder().decode(r.payload)).toBe('{"kind":"invite"}');
  });

  test('every call has fresh keys (forward secrecy: nothing reused between calls)', async () => {
    const r1 = await run({});
    const r2 = await run({});
    if (r1.stage !== 'done' || r2.stage !== 'done') throw new Error('handshake failed');
    expect(toHex(r1.a.secrets.frameA2b)).not.toBe(toHex(r2.a.secrets.frameA2b));
    expect(toHex(r1.a.callId)).not.toBe(toHex(r2.a.callId));
  });

  test('HELLO carries no identity: neither party\'s keys are in it', async () => {
    const caller = new CallerHandshake(alice, bobHash);
    const m1 = toHex(caller.start());
    expect(m1).not.toContain(toHex(alice.bundle.ed25519Pk));
    expect(m1).not.toContain(toHex(alice.bundle.mldsaPk.subarray(0, 64)));
  });

  // A relay in the middle that changes any byte of any message: the handshake fails, typed.
  const tampering: [string, Parameters<typeof run>[0]['tamper'], CryptoErrorCode[]][] = [
    ['HELLO ephemeral ML-KEM key', { m1: flip(PREFIX_LEN + 100) }, ['ERR_DECRYPT', 'ERR_BAD_SIGNATURE', 'ERR_HANDSHAKE_FORMAT']],
    ['HELLO ephemeral X25519 key', { m1: flip(PREFIX_LEN + 1568 + 3) }, ['ERR_DECRYPT', 'ERR_BAD_SIGNATURE', 'ERR_HANDSHAKE_FORMAT']],
    ['HELLO call id', { m1: flip(5) }, ['ERR_HANDSHAKE_STATE']],
    ['RESPONSE ML-KEM ciphertext', { m2: flip(PREFIX_LEN + 7) }, ['ERR_DECRYPT']],
    ['RESPONSE X25519 key', { m2: flip(PREFIX_LEN + MLKEM1024_CT_LEN + 1) }, ['ERR_DECRYPT', 'ERR_HANDSHAKE_FORMAT']],
    ['RESPONSE sealed bundle', { m2: flip(PREFIX_LEN + 1600 + 50) }, ['ERR_DECRYPT']],
    ['RESPONSE tag', { m2: (b) => flip(b.length - 1)(b) }, ['ERR_DECRYPT']],
    ['CONFIRM sealed part', { m3: flip(PREFIX_LEN + 10) }, ['ERR_DECRYPT']],
    ['CONFIRM tag', { m3: (b) => flip(b.length - 1)(b) }, ['ERR_DECRYPT']],
    ['CONFIRM call id', { m3: flip(3) }, ['ERR_HANDSHAKE_STATE']],
    ['HELLO truncated', { m1: (b) => b.subarray(0, b.length - 1) }, ['ERR_HANDSHAKE_FORMAT']],
    ['RESPONSE truncated', { m2: (b) => b.subarray(0, 100) }, ['ERR_HANDSHAKE_FORMAT']],
    ['RESPONSE oversized', { m2: (b) => new Uint8Array([...b, ...new Uint8Array(60_000)]) }, ['ERR_HANDSHAKE_FORMAT']],
    ['CONFIRM truncated', { m3: (b) => b.subarray(0, 40) }, ['ERR_DECRYPT', 'ERR_HANDSHAKE_FORMAT']],
    ['HELLO with unknown version', { m1: (b) => Uint8Array.from(b, (x, i) => (i === 0 ? 9 : x)) }, ['ERR_UNSUPPORTED_VERSION']],
    ['RESPONSE replaced by a HELLO', { m2: () => new CallerHandshake(mallory, bobHash).start() }, ['ERR_HANDSHAKE_STATE']],
  ];
  test.each(tampering)('tampered %s fails the handshake', async (_what, tamper, codes) => {
    const r = await run({ tamper });
    expect(r.stage).not.toBe('done');
    if (r.stage !== 'done') expect(codes).toContain(r.code);
  });

  test('swapped key: a relay that substitutes its own ephemeral KEM key is detected', async () => {
    const evil = new CallerHandshake(mallory, bobHash).start();
    const r = await run({
      tamper: { m1: (b) => new Uint8Array([...b.subarray(0, PREFIX_LEN), ...evil.subarray(PREFIX_LEN)]) },
    });
    expect(r.stage).toBe('caller-response');
    if (r.stage !== 'done') expect(['ERR_DECRYPT', 'ERR_BAD_SIGNATURE']).toContain(r.code);
  });

  test('someone else answering the address is refused (keys do not hash to it)', async () => {
    const r = await run({ callee: mallory });
    expect(r).toMatchObject({ stage: 'caller-response', code: 'ERR_ADDRESS_MISMATCH' });
  });

  test("forged callee signature: Bob's keys presented, signed with Mallory's", async () => {
    const impostor: Identity = { ...mallory, bundle: bob.bundle, bundleBytes: bob.bundleBytes };
    const r = await run({ callee: impostor });
    expect(r).toMatchObject({ stage: 'caller-response', code: 'ERR_BAD_SIGNATURE' });
  });

  test("forged caller signature: Alice's keys presented, signed with Mallory's", async () => {
    const impostor: Identity = { ...mallory, bundle: alice.bundle, bundleBytes: alice.bundleBytes };
    const r = await run({ caller: impostor });
    expect(r).toMatchObject({ stage: 'callee-confirm', code: 'ERR_BAD_SIGNATURE' });
  });

  test('a callee without the static secret keys cannot derive the call keys', async () => {
    // Bob's public bundle and signing keys, but someone else's static KEM/DH secrets.
    const partial: Identity = { ...bob, mlkemDk: mallory.mlkemDk, x25519Sk: mallory.x25519Sk };
    const r = await run({ callee: partial });
    if (r.stage !== 'done') throw new Error(`unexpected failure ${r.code}`);
    expect(toHex(r.a.secrets.frameA2b)).not.toBe(toHex(r.b.secrets.frameA2b));
    expect(r.a.sas).not.toBe(r.b.sas);
  });

  test('messages out of order or repeated are refused by the state machine', async () => {
    const caller = new CallerHandshake(alice, bobHash);
    const callee = new CalleeHandshake(bob);
    const m1 = caller.start();
    expect(() => caller.start()).toThrowError(/already started/);
    const m2 = await callee.onHello(m1);
    if (!m2.ok) throw m2.error;
    expect((await callee.onHello(m1)).ok).toBe(false); // replayed HELLO
    const m3 = await caller.onResponse(m2.value);
    if (!m3.ok) throw m3.error;
    expect(await caller.onResponse(m2.value)).toMatchObject({ ok: false, error: { code: 'ERR_HANDSHAKE_STATE' } });
    expect((await callee.onConfirm(m3.value.confirm)).ok).toBe(true);
    expect(await callee.onConfirm(m3.value.confirm)).toMatchObject({ ok: false, error: { code: 'ERR_HANDSHAKE_STATE' } });
  });

  test('a RESPONSE from another call is refused', async () => {
    const c1 = new CallerHandshake(alice, bobHash);
    const c2 = new CallerHandshake(alice, bobHash);
    c1.start();
    const m2 = await new CalleeHandshake(bob).onHello(c2.start());
    if (!m2.ok) throw m2.error;
    expect(await c1.onResponse(m2.value)).toMatchObject({ ok: false, error: { code: 'ERR_HANDSHAKE_STATE' } });
  });

  test('garbage of every length never throws out of the handshake', async () => {
    for (const len of [0, 1, 17, 18, 19, 1618, 10_549, 10_550, BUNDLE_LEN]) {
      const junk = crypto.getRandomValues(new Uint8Array(len));
      const callee = new CalleeHandshake(bob);
      await expect(callee.onHello(junk)).resolves.toMatchObject({ ok: false });
      const caller = new CallerHandshake(alice, bobHash);
      caller.start();
      await expect(caller.onResponse(junk)).resolves.toMatchObject({ ok: false });
    }
  });
});
