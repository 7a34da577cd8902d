import { describe, expect, test } from 'vitest';
import { identityFromSeed, type Identity } from './identity';
import { addressHash } from './address';
import { CalleeHandshake, CallerHandshake, directional } from './handshake';
import { toHex } from './bytes';
import { BUNDLE_LEN, CONFIRM_INTENT, MLKEM1024_CT_LEN } from './constants';
import { drbg } from './_drbg';
import type { Rng } from './kem';
import { sasCode } from './sas';
import { PREFIX_LEN } from './envelope-format';
import type { CryptoErrorCode } from './errors';

const alice = identityFromSeed(new Uint8Array(32).fill(1));
const bob = identityFromSeed(new Uint8Array(32).fill(2));
const mallory = identityFromSeed(new Uint8Array(32).fill(3));
const bobHash = addressHash(bob.bundleBytes);

/** The first `first` draws from one stream, the rest from another: two callers with one HELLO. */
const fork = (first: number, shared: string, rest: string): Rng => {
  let n = 0;
  const a = drbg(shared);
  const b = drbg(rest);
  return (len) => (n++ < first ? a : b)(len);
};
/** Caller draws before CONFIRM: call id, ML-KEM keygen, X25519 keygen, HELLO's random tag. */
const CALLER_HELLO_DRAWS = 4;

/** Run a full handshake, letting `tamper` rewrite any message in flight. */
async function run(opts: {
  caller?: Identity;
  callee?: Identity;
  dialled?: Uint8Array;
  tamper?: {
    m1?: (b: Uint8Array) => Uint8Array;
    m2?: (b: Uint8Array) => Uint8Array;
    m3?: (b: Uint8Array) => Uint8Array;
    m4?: (b: Uint8Array) => Uint8Array;
  };
}) {
  const caller = new CallerHandshake(opts.caller ?? alice, opts.dialled ?? bobHash);
  const callee = new CalleeHandshake(opts.callee ?? bob);
  const t = opts.tamper ?? {};
  const m1 = caller.start();
  const m2 = await callee.onHello(t.m1 ? t.m1(m1) : m1);
  if (!m2.ok) return { stage: 'callee-hello' as const, code: m2.error.code };
  const m3 = await caller.onResponse(t.m2 ? t.m2(m2.value) : m2.value);
  if (!m3.ok) return { stage: 'caller-response' as const, code: m3.error.code };
  const done = await callee.onConfirm(t.m3 ? t.m3(m3.value.confirm) : m3.value.confirm);
  if (!done.ok) return { stage: 'callee-confirm' as const, code: done.error.code };
  const m4 = await callee.reveal();
  if (!m4.ok) return { stage: 'callee-reveal' as const, code: m4.error.code };
  const revealed = await caller.onReveal(t.m4 ? t.m4(m4.value.reveal) : m4.value.reveal);
  if (!revealed.ok) return { stage: 'caller-reveal' as const, code: revealed.error.code };
  return {
    stage: 'done' as const,
    a: { ...m3.value.keys, sas: revealed.value.sas, admission: revealed.value.admission },
    b: { ...done.value.keys, sas: m4.value.sas, admission: done.value.admission },
    intent: done.value.intent,
  };
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
    expect(r.intent).toBe('invite');
    // Admission tokens: one per direction, mirrored (A's send is B's recv).
    expect(toHex(r.a.admission.send)).toBe(toHex(r.b.admission.recv));
    expect(toHex(r.a.admission.recv)).toBe(toHex(r.b.admission.send));
    expect(toHex(r.a.admission.send)).not.toBe(toHex(r.a.admission.recv));
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
    ['REVEAL sealed nonce', { m4: flip(PREFIX_LEN + 3) }, ['ERR_DECRYPT']],
    ['REVEAL truncated', { m4: (b) => b.subarray(0, b.length - 1) }, ['ERR_HANDSHAKE_FORMAT']],
    ['REVEAL call id', { m4: flip(4) }, ['ERR_HANDSHAKE_STATE']],
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
    // Its master secret differs from the caller's, so its REVEAL (sealed under it) does not open:
    // since v2 the caller finds out at once instead of hearing silence.
    const r = await run({ callee: partial });
    expect(r).toMatchObject({ stage: 'caller-reveal', code: 'ERR_DECRYPT' });
  });

  test('messages out of order or repeated are refused by the state machine', async () => {
    const caller = new CallerHandshake(alice, bobHash);
    const callee = new CalleeHandshake(bob);
    const m1 = caller.start();
    expect(() => caller.start()).toThrowError(/already started/);
    const m2 = await callee.onHello(m1);
    if (!m2.ok) throw m2.error;
    expect((await callee.onHello(m1)).ok).toBe(false); // replayed HELLO
    expect(await callee.reveal()).toMatchObject({ ok: false, error: { code: 'ERR_HANDSHAKE_STATE' } }); // nothing to reveal yet
    const m3 = await caller.onResponse(m2.value);
    if (!m3.ok) throw m3.error;
    expect(await caller.onResponse(m2.value)).toMatchObject({ ok: false, error: { code: 'ERR_HANDSHAKE_STATE' } });
    expect((await callee.onConfirm(m3.value.confirm)).ok).toBe(true);
    expect(await callee.onConfirm(m3.value.confirm)).toMatchObject({ ok: false, error: { code: 'ERR_HANDSHAKE_STATE' } });
    const m4 = await callee.reveal();
    if (!m4.ok) throw m4.error;
    expect(await callee.reveal()).toMatchObject({ ok: false, error: { code: 'ERR_HANDSHAKE_STATE' } }); // reveals once
    expect((await caller.onReveal(m4.value.reveal)).ok).toBe(true);
    expect(await caller.onReveal(m4.value.reveal)).toMatchObject({ ok: false, error: { code: 'ERR_HANDSHAKE_STATE' } });
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
    for (const len of [0, 1, 17, 18, 19, 1650, 10_581, 10_582, BUNDLE_LEN]) {
      const junk = crypto.getRandomValues(new Uint8Array(len));
      const callee = new CalleeHandshake(bob);
      await expect(callee.onHello(junk)).resolves.toMatchObject({ ok: false });
      const caller = new CallerHandshake(alice, bobHash);
      caller.start();
      await expect(caller.onResponse(junk)).resolves.toMatchObject({ ok: false });
    }
  });

  test('an unknown CONFIRM intent is refused: CONFIRM is exact, not free-form', async () => {
    const caller = new CallerHandshake(alice, bobHash);
    const callee = new CalleeHandshake(bob);
    const m2 = await callee.onHello(caller.start());
    if (!m2.ok) throw m2.error;
    // A caller that sends intent byte 0x02 (the callee's list, fixed at load, has only 0x01).
    const intents = CONFIRM_INTENT as unknown as Record<string, number>;
    intents.bogus = 0x02;
    try {
      const m3 = await caller.onResponse(m2.value, 'bogus' as 'invite');
      if (!m3.ok) throw m3.error;
      expect(await callee.onConfirm(m3.value.confirm)).toMatchObject({ ok: false, error: { code: 'ERR_HANDSHAKE_FORMAT' } });
    } finally {
      delete intents.bogus;
    }
    const c2 = new CallerHandshake(alice, bobHash);
    const r2 = await new CalleeHandshake(bob).onHello(c2.start());
    if (!r2.ok) throw r2.error;
    expect(await c2.onResponse(r2.value, 'video' as 'invite')).toMatchObject({ ok: false, error: { code: 'ERR_BAD_INPUT' } });
  });
});

describe('SAS commitment (issue 14: nobody can steer the SAS)', () => {
  test('a caller trying many CONFIRMs for one RESPONSE gets one accepted and one SAS, and learns no other', async () => {
    // Five callers that share one HELLO (same call id, same ephemeral keys) and differ in everything after.
    const callers = Array.from({ length: 5 }, (_, k) => new CallerHandshake(alice, bobHash, { rng: fork(CALLER_HELLO_DRAWS, 'grind/hello', `grind/confirm/${k}`) }));
    const hellos = callers.map((c) => toHex(c.start()));
    expect(new Set(hellos).size).toBe(1);
    const callee = new CalleeHandshake(bob);
    const m2 = await callee.onHello(Buffer.from(hellos[0]!, 'hex'));
    if (!m2.ok) throw m2.error;
    const confirms: Uint8Array[] = [];
    for (const c of callers) {
      const r = await c.onResponse(m2.value);
      if (!r.ok) throw r.error;
      confirms.push(r.value.confirm);
    }
    expect(new Set(confirms.map(toHex)).size).toBe(5); // five different candidate transcripts
    // The callee takes the first CONFIRM and refuses every other one.
    expect((await callee.onConfirm(confirms[3]!)).ok).toBe(true);
    for (const [k, c] of confirms.entries()) {
      if (k !== 3) expect(await callee.onConfirm(c)).toMatchObject({ ok: false, error: { code: 'ERR_HANDSHAKE_STATE' } });
    }
    const reveal = await callee.reveal();
    if (!reveal.ok) throw reveal.error;
    expect(await callee.reveal()).toMatchObject({ ok: false }); // one reveal, one SAS on the callee's screen
    // Only the caller whose CONFIRM was taken can open the REVEAL; it gets the callee's SAS.
    const got = await callers[3]!.onReveal(reveal.value.reveal);
    expect(got.ok && got.value.sas).toBe(reveal.value.sas);
    for (const [k, c] of callers.entries()) {
      if (k !== 3) expect(await c.onReveal(reveal.value.reveal)).toMatchObject({ ok: false, error: { code: 'ERR_DECRYPT' } });
    }
  });

  test('a CONFIRM that fails verification uses up the RESPONSE too', async () => {
    const caller = new CallerHandshake(alice, bobHash);
    const callee = new CalleeHandshake(bob);
    const m2 = await callee.onHello(caller.start());
    if (!m2.ok) throw m2.error;
    const m3 = await caller.onResponse(m2.value);
    if (!m3.ok) throw m3.error;
    expect((await callee.onConfirm(flip(PREFIX_LEN + 10)(m3.value.confirm))).ok).toBe(false);
    expect(await callee.onConfirm(m3.value.confirm)).toMatchObject({ ok: false, error: { code: 'ERR_HANDSHAKE_STATE' } });
    expect(await callee.reveal()).toMatchObject({ ok: false, error: { code: 'ERR_HANDSHAKE_STATE' } });
  });

  test('a callee revealing another nonce than it committed to fails the caller with ERR_COMMITMENT', async () => {
    const caller = new CallerHandshake(alice, bobHash);
    const callee = new CalleeHandshake(bob);
    const m2 = await callee.onHello(caller.start());
    if (!m2.ok) throw m2.error;
    const m3 = await caller.onResponse(m2.value);
    if (!m3.ok) throw m3.error;
    expect((await callee.onConfirm(m3.value.confirm)).ok).toBe(true);
    // A cheating callee: properly sealed, but not the committed nonce.
    (callee as unknown as { confirmed: { nonce: Uint8Array } }).confirmed.nonce[0]! ^= 1;
    const m4 = await callee.reveal();
    if (!m4.ok) throw m4.error;
    expect(await caller.onReveal(m4.value.reveal)).toMatchObject({ ok: false, error: { code: 'ERR_COMMITMENT' } });
    expect(await caller.onReveal(m4.value.reveal)).toMatchObject({ ok: false, error: { code: 'ERR_HANDSHAKE_STATE' } });
  });

  test("the SAS depends on the caller's CONFIRM: same HELLO and RESPONSE, another CONFIRM → another SAS", async () => {
    const sas: string[] = [];
    for (const k of [0, 1]) {
      const caller = new CallerHandshake(alice, bobHash, { rng: fork(CALLER_HELLO_DRAWS, 'dep/hello', `dep/confirm/${k}`), deterministic: true });
      const callee = new CalleeHandshake(bob, { rng: drbg('dep/callee'), deterministic: true });
      const m2 = await callee.onHello(caller.start());
      if (!m2.ok) throw m2.error;
      const m3 = await caller.onResponse(m2.value);
      if (!m3.ok) throw m3.error;
      if (!(await callee.onConfirm(m3.value.confirm)).ok) throw new Error('CONFIRM refused');
      const m4 = await callee.reveal();
      if (!m4.ok) throw m4.error;
      const r = await caller.onReveal(m4.value.reveal);
      expect(r.ok && r.value.sas).toBe(m4.value.sas);
      sas.push(m4.value.sas);
    }
    expect(sas[0]).not.toBe(sas[1]);
  });

  test("the SAS depends on the callee's committed nonce: same everything else, another nonce → another SAS", async () => {
    // Callee draws: ML-KEM encapsulation, X25519 keygen, then the SAS nonce.
    const sas: string[] = [];
    for (const k of [0, 1]) {
      const caller = new CallerHandshake(alice, bobHash, { rng: drbg('nonce/caller'), deterministic: true });
      const callee = new CalleeHandshake(bob, { rng: fork(2, 'nonce/callee', `nonce/${k}`), deterministic: true });
      const m2 = await callee.onHello(caller.start());
      if (!m2.ok) throw m2.error;
      const m3 = await caller.onResponse(m2.value);
      if (!m3.ok) throw m3.error;
      if (!(await callee.onConfirm(m3.value.confirm)).ok) throw new Error('CONFIRM refused');
      const m4 = await callee.reveal();
      if (!m4.ok) throw m4.error;
      sas.push(m4.value.sas);
    }
    expect(sas[0]).not.toBe(sas[1]);
    // And directly: one transcript secret, two nonces (or one nonce, two secrets) → two codes.
    const secret = new Uint8Array(32).fill(5);
    const n1 = new Uint8Array(32).fill(1);
    expect(sasCode(secret, n1)).not.toBe(sasCode(secret, new Uint8Array(32).fill(2)));
    expect(sasCode(secret, n1)).not.toBe(sasCode(new Uint8Array(32).fill(6), n1));
  });
});

describe('relay lists (envelope version 3: contacts follow a move)', () => {
  const R1 = 'wss://r1.example:443/signal';
  const R2 = ['wss://r2.example:443/signal', 'wss://backup.example:8443/signal'];
  async function withRelays(callerRelays: string[], calleeRelays: string[], seed = 'relays') {
    const caller = new CallerHandshake(alice, bobHash, { rng: drbg(`${seed}/a`), deterministic: true, relays: callerRelays });
    const callee = new CalleeHandshake(bob, { rng: drbg(`${seed}/b`), deterministic: true, relays: calleeRelays });
    const m1 = caller.start();
    const m2 = await callee.onHello(m1);
    if (!m2.ok) throw m2.error;
    const m3 = await caller.onResponse(m2.value);
    if (!m3.ok) throw m3.error;
    const done = await callee.onConfirm(m3.value.confirm);
    if (!done.ok) throw done.error;
    const m4 = await callee.reveal();
    if (!m4.ok) throw m4.error;
    return { m2: m2.value, m3: m3.value.confirm, callerSees: m3.value.keys.peerRelays, calleeSees: done.value.keys.peerRelays, th: toHex(m3.value.keys.transcriptHash), sas: m4.value.sas };
  }

  test('each side learns the relays the other signed, in order; none is none', async () => {
    const r = await withRelays([R1], R2);
    expect(r.callerSees).toEqual(R2);
    expect(r.calleeSees).toEqual([R1]);
    const none = await withRelays([], []);
    expect(none.callerSees).toEqual([]);
    expect(none.calleeSees).toEqual([]);
  });

  test('the lists are in the signed transcript: another list, same keys and randomness → another transcript and SAS', async () => {
    const a = await withRelays([R1], R2);
    const b = await withRelays([R1], [R2[1]!, R2[0]!]);
    const c = await withRelays(['wss://r3.example:443/signal'], R2);
    expect(new Set([a.th, b.th, c.th]).size).toBe(3);
    expect(new Set([a.sas, b.sas, c.sas]).size).toBe(3);
  });

  test('the lists travel sealed: no URL in the clear, and a byte changed in RESPONSE or CONFIRM fails the call', async () => {
    const r = await withRelays([R1], R2);
    const text = (b: Uint8Array) => new TextDecoder('latin1').decode(b);
    expect(text(r.m2)).not.toContain('r2.example');
    expect(text(r.m3)).not.toContain('r1.example');
    // The last bytes before each AEAD tag hold signature bytes; the list sits before them: flip across the sealed part.
    for (const at of [PREFIX_LEN + MLKEM1024_CT_LEN + 32 + BUNDLE_LEN + 33, 200]) {
      const out = await run({ tamper: { m2: flip(at) } });
      expect(out.stage).toBe('caller-response');
    }
    const out3 = await run({ tamper: { m3: flip(PREFIX_LEN + BUNDLE_LEN + MLKEM1024_CT_LEN + 2) } });
    expect(out3.stage).toBe('callee-confirm');
  });

  test('a list this format cannot carry is refused when the handshake is built', async () => {
    const five = [1, 2, 3, 4, 5].map((i) => `wss://r${i}.example:443/signal`);
    const callee = new CalleeHandshake(bob, { relays: five });
    const caller = new CallerHandshake(alice, bobHash);
    expect(await callee.onHello(caller.start())).toMatchObject({ ok: false, error: { code: 'ERR_BAD_INPUT' } });
    const caller2 = new CallerHandshake(alice, bobHash, { relays: ['wss://R1.example/signal'] }); // not canonical
    const m2 = await new CalleeHandshake(bob).onHello(caller2.start());
    if (!m2.ok) throw m2.error;
    expect(await caller2.onResponse(m2.value)).toMatchObject({ ok: false, error: { code: 'ERR_BAD_INPUT' } });
  });
});
