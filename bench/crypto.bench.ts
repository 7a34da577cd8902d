/**
 * Crypto core benchmark: handshake CPU time; the callee's CPU per HELLO
 * refused or admitted by call admission (tag check, lib/call/admission.ts)
 * beside the v1 cost of answering every HELLO; frame encrypt/decrypt time per
 * 80-byte frame, bytes of overhead, against a baseline of the Jitsi/LiveKit
 * layout (random 12-byte IV + 16-byte tag + 2-byte trailer) run in the same
 * process, interleaved round by round so machine noise hits both alike.
 */
import { identityFromSeed } from '../lib/crypto/identity';
import { addressHash } from '../lib/crypto/address';
import { CalleeHandshake, CallerHandshake } from '../lib/crypto/handshake';
import { FrameDecryptor, FrameEncryptor } from '../lib/crypto/frame-cipher';
import { buf, toHex } from '../lib/crypto/bytes';
import { recogniseHello } from '../lib/crypto/admit-tag';
import { parseEnvelope } from '../lib/crypto/envelope-format';
import { AdmissionControl } from '../lib/call/admission';
import { median } from '../tests/harness/median';

const FRAME = 80;
const ROUNDS = 15;
const PER_ROUND = 2000;

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Jitsi / LiveKit frame layout: ciphertext ‖ tag(16) ‖ IV(12, random) ‖ IV length(1) ‖ key index(1). */
class BaselineCipher {
  constructor(private readonly key: CryptoKey) {}
  static async create(raw: Uint8Array) {
    return new BaselineCipher(await crypto.subtle.importKey('raw', buf(raw), 'AES-GCM', false, ['encrypt', 'decrypt']));
  }
  async encrypt(plain: Uint8Array): Promise<Uint8Array> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, this.key, buf(plain)));
    const out = new Uint8Array(ct.length + 14);
    out.set(ct);
    out.set(iv, ct.length);
    out[ct.length + 12] = 12;
    out[ct.length + 13] = 0;
    return out;
  }
  async decrypt(frame: Uint8Array): Promise<Uint8Array> {
    const ivLen = frame[frame.length - 2]!;
    const iv = buf(frame.subarray(frame.length - 2 - ivLen, frame.length - 2));
    const body = frame.subarray(0, frame.length - 2 - ivLen) as Uint8Array<ArrayBuffer>;
    return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, this.key, body));
  }
}

interface Codec {
  encrypt(p: Uint8Array): Promise<Uint8Array>;
  decrypt(f: Uint8Array): Promise<unknown>;
}

async function timeRound(codec: Codec, plain: Uint8Array) {
  const frames: Uint8Array[] = new Array(PER_ROUND);
  let t = performance.now();
  for (let i = 0; i < PER_ROUND; i++) frames[i] = await codec.encrypt(plain);
  const enc = ((performance.now() - t) * 1000) / PER_ROUND;
  t = performance.now();
  for (let i = 0; i < PER_ROUND; i++) await codec.decrypt(frames[i]!);
  const dec = ((performance.now() - t) * 1000) / PER_ROUND;
  return { enc, dec, overhead: frames[0]!.length - plain.length };
}

export async function run(): Promise<void> {
  // ── Handshake ──
  const A = identityFromSeed();
  const B = identityFromSeed();
  const bHash = addressHash(B.bundleBytes);
  const callerMs: number[] = [];
  const calleeMs: number[] = [];
  for (let i = 0; i < 12; i++) {
    const caller = new CallerHandshake(A, bHash);
    const callee = new CalleeHandshake(B);
    let c0 = cpuMs();
    const m1 = caller.start();
    let cA = cpuMs() - c0;
    c0 = cpuMs();
    const m2 = await callee.onHello(m1);
    let cB = cpuMs() - c0;
    if (!m2.ok) throw m2.error;
    c0 = cpuMs();
    const m3 = await caller.onResponse(m2.value);
    cA += cpuMs() - c0;
    if (!m3.ok) throw m3.error;
    c0 = cpuMs();
    const done = await callee.onConfirm(m3.value.confirm);
    const m4 = await callee.reveal();
    cB += cpuMs() - c0;
    if (!done.ok) throw done.error;
    if (!m4.ok) throw m4.error;
    c0 = cpuMs();
    const revealed = await caller.onReveal(m4.value.reveal);
    cA += cpuMs() - c0;
    if (!revealed.ok) throw revealed.error;
    if (i >= 2) {
      callerMs.push(cA);
      calleeMs.push(cB);
    }
  }
  console.log('handshake (ML-KEM-1024 + X25519, ML-DSA-87 + Ed25519), CPU ms, median of 10:');
  console.log(`  caller ${median(callerMs).toFixed(1)} ms   callee ${median(calleeMs).toFixed(1)} ms   total ${(median(callerMs) + median(calleeMs)).toFixed(1)} ms`);

  await admissionBench(A, B, bHash);

  // ── Frames ──
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const hushTx = await FrameEncryptor.create(secret);
  const hushRx = await FrameDecryptor.create(secret);
  const hush: Codec = { encrypt: (p) => hushTx.encrypt(p), decrypt: (f) => hushRx.decrypt(f) };
  const base = await BaselineCipher.create(secret);
  const plain = crypto.getRandomValues(new Uint8Array(FRAME));
  const rows = { hush: { enc: [] as number[], dec: [] as number[], overhead: 0 }, base: { enc: [] as number[], dec: [] as number[], overhead: 0 } };
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, codec] of (r % 2 ? [['base', base], ['hush', hush]] : [['hush', hush], ['base', base]]) as [keyof typeof rows, Codec][]) {
      const t = await timeRound(codec, plain);
      if (r === 0) continue; // warm-up
      rows[name].enc.push(t.enc);
      rows[name].dec.push(t.dec);
      rows[name].overhead = t.overhead;
    }
  }
  if (hushRx.dropped !== 0) throw new Error(`bench frames dropped: ${hushRx.dropped}`);
  const h = { enc: median(rows.hush.enc), dec: median(rows.hush.dec) };
  const b = { enc: median(rows.base.enc), dec: median(rows.base.dec) };
  console.log(`\nframe cipher, ${FRAME}-byte frame, µs per frame (median of ${ROUNDS - 1} rounds × ${PER_ROUND}, interleaved):`);
  console.log('  scheme                         encrypt   decrypt   overhead');
  console.log(`  hush (salt⊕counter, 1-5B hdr)  ${h.enc.toFixed(2).padStart(7)}   ${h.dec.toFixed(2).padStart(7)}   ${rows.hush.overhead} B (≤ 21 B at any counter)`);
  console.log(`  baseline (random IV, Jitsi)    ${b.enc.toFixed(2).padStart(7)}   ${b.dec.toFixed(2).padStart(7)}   ${rows.base.overhead} B`);
  console.log(`  ratio hush/baseline            ${(h.enc / b.enc).toFixed(2).padStart(7)}   ${(h.dec / b.dec).toFixed(2).padStart(7)}   ${(rows.hush.overhead / rows.base.overhead).toFixed(2)}`);
  console.log('  (hush decrypt includes header parsing and the 128-frame replay window)');
}

/**
 * The callee's CPU per HELLO: v1 answered every one (a signature each); v2
 * checks the admission tag against every stored contact token, asks the
 * admission policy, and signs only for an admitted HELLO.
 */
async function admissionBench(A: ReturnType<typeof identityFromSeed>, B: ReturnType<typeof identityFromSeed>, bHash: Uint8Array) {
  const CONTACTS = 200;
  const N = 300;
  // B's address book: CONTACTS stored tokens, the last one A's.
  const book = Array.from({ length: CONTACTS - 1 }, (_, i) => ({ contactId: `c${i}`, token: crypto.getRandomValues(new Uint8Array(32)) }));
  const aToken = crypto.getRandomValues(new Uint8Array(32));
  book.push({ contactId: 'alice', token: aToken });
  const settings = { blocked: new Set<string>(), contactsOnly: false };

  // Stranger HELLOs (no token) and contact HELLOs (A's token), made in advance: their cost is the caller's.
  const strangerHellos = Array.from({ length: N }, () => new CallerHandshake(A, bHash).start());
  const contactHellos = Array.from({ length: 12 }, () => new CallerHandshake(A, bHash, { admitToken: aToken }).start());

  // v1 baseline: every HELLO answered (ML-KEM encaps, X25519, hybrid signature, seal).
  const v1: number[] = [];
  for (let i = 0; i < 12; i++) {
    const c0 = cpuMs();
    const r = await new CalleeHandshake(B).onHello(strangerHellos[i]!);
    if (!r.ok) throw r.error;
    if (i >= 2) v1.push(cpuMs() - c0);
  }

  // A refused stranger: one mailbox flooding (one handshake in flight, the rest refused 'sender-busy').
  // `tokens`: what the callee checks the tag against: the sending mailbox's contacts (the intended
  // use: none for a stranger, one for a contact), or, worst case, the whole book.
  const admission = new AdmissionControl(() => 0);
  admission.decide({ callId: 'in-flight', from: 'mbx-flooder', contact: null }, settings);
  const refusal = (tokens: typeof book) => {
    let refused = 0;
    const c0 = cpuMs();
    for (const h of strangerHellos) {
      const contact = recogniseHello(h, tokens);
      const d = admission.decide({ callId: toHex(parseEnvelope(h).callId), from: 'mbx-flooder', contact: contact ? { id: contact, mailbox: 'mbx-a' } : null }, settings);
      if (!d.admit) refused++;
    }
    if (refused !== N) throw new Error(`bench: ${N - refused} stranger HELLOs admitted`);
    return (cpuMs() - c0) / N;
  };
  refusal(book); // warm-up
  const refusedMs = refusal([]);
  const refusedAllMs = refusal(book);
  let c0 = 0;

  // A contact: tag found among CONTACTS tokens, admitted, answered.
  const contact: number[] = [];
  const tagOnly: number[] = [];
  const aliceOnly = book.slice(-1);
  for (const [i, h] of contactHellos.entries()) {
    c0 = cpuMs();
    const id = recogniseHello(h, aliceOnly);
    const t = cpuMs() - c0;
    const d = admission.decide({ callId: toHex(parseEnvelope(h).callId), from: 'mbx-a', contact: id ? { id, mailbox: 'mbx-a' } : null }, settings);
    if (!d.admit || id !== 'alice') throw new Error('bench: contact not admitted');
    const r = await new CalleeHandshake(B).onHello(h);
    if (!r.ok) throw r.error;
    admission.release(toHex(parseEnvelope(h).callId));
    if (i >= 2) {
      contact.push(cpuMs() - c0);
      tagOnly.push(t);
    }
  }
  console.log(`\ncallee CPU per HELLO (contacts answered: median of 10; refusals: mean of ${N}):`);
  console.log('  HELLO                                                        CPU ms   signature');
  console.log(`  v1: any HELLO, answered                                    ${median(v1).toFixed(3).padStart(8)}   yes`);
  console.log(`  v2: stranger refused (tag vs its mailbox's 0 tokens)       ${refusedMs.toFixed(3).padStart(8)}   no`);
  console.log(`  v2: stranger refused (tag vs all ${CONTACTS} tokens, worst case) ${refusedAllMs.toFixed(3).padStart(8)}   no`);
  console.log(`  v2: contact, tag check only (its mailbox's 1 token)        ${median(tagOnly).toFixed(3).padStart(8)}   no`);
  console.log(`  v2: contact admitted (tag check + answer)                  ${median(contact).toFixed(3).padStart(8)}   yes`);
  console.log(`  ratio v1 answer / v2 refusal                               ${(median(v1) / refusedMs).toFixed(0).padStart(8)}×`);
}
