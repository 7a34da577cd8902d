import { describe, expect, test } from 'vitest';
import { ADMISSION_LIMITS, AdmissionControl, type AdmissionSettings, type HelloFacts } from './admission';
import { identityFromSeed } from '../crypto/identity';
import { addressHash, mailboxIdOfBundle } from '../crypto/address';
import { CalleeHandshake, CallerHandshake } from '../crypto/handshake';
import { recogniseHello } from '../crypto/admit-tag';
import { parseEnvelope } from '../crypto/envelope-format';
import { toHex } from '../crypto/bytes';

const OPEN: AdmissionSettings = { blocked: new Set(), contactsOnly: false };
const clock = (start = 1_000_000) => {
  const c = { now: start, fn: () => c.now };
  return c;
};
const stranger = (n: number, callId = `s${n}-${Math.random()}`): HelloFacts => ({ callId, from: `mbx-stranger-${n}`, contact: null });
const alice = { id: 'alice', mailbox: 'mbx-alice' };
const fromAlice = (callId = `a-${Math.random()}`): HelloFacts => ({ callId, from: alice.mailbox, contact: alice });

describe('admission with real HELLOs: the slot-exhaustion attack (issue 14)', () => {
  const bob = identityFromSeed(new Uint8Array(32).fill(2));
  const aliceId = identityFromSeed(new Uint8Array(32).fill(1));
  const bobHash = addressHash(bob.bundleBytes);

  test('a stranger flooding HELLOs while a contact calls: the contact is admitted and connects; refusals cost no signature', async () => {
    // Alice and Bob talked before: each holds this pair's tokens.
    const first = new CallerHandshake(aliceId, bobHash);
    const b0 = new CalleeHandshake(bob);
    const r2 = await b0.onHello(first.start());
    if (!r2.ok) throw r2.error;
    const r3 = await first.onResponse(r2.value);
    if (!r3.ok) throw r3.error;
    const c0 = await b0.onConfirm(r3.value.confirm);
    if (!c0.ok) throw c0.error;
    const rv = await b0.reveal();
    if (!rv.ok) throw rv.error;
    const t0 = await first.onReveal(rv.value.reveal);
    if (!t0.ok) throw t0.error;
    const bobsBook = [{ contactId: 'alice', token: c0.value.admission.recv }];
    const aliceMailbox = mailboxIdOfBundle(aliceId.bundleBytes);

    // Bob's side: tag check, then admission, and only then a signature.
    const c = clock();
    const admission = new AdmissionControl(c.fn);
    let signatures = 0;
    const refused: string[] = [];
    const onHello = async (from: string, hello: Uint8Array) => {
      const contactId = recogniseHello(hello, bobsBook);
      const d = admission.decide(
        { callId: toHex(parseEnvelope(hello).callId), from, contact: contactId ? { id: contactId, mailbox: aliceMailbox } : null },
        OPEN,
      );
      if (!d.admit) {
        refused.push(d.reason);
        return null;
      }
      signatures++;
      const callee = new CalleeHandshake(bob);
      const r = await callee.onHello(hello);
      if (!r.ok) throw r.error;
      return { callee, response: r.value, decision: d };
    };

    // Mallory sends 40 HELLOs over 10 s from one mailbox…
    const flood = Array.from({ length: 40 }, () => new CallerHandshake(identityFromSeed(new Uint8Array(32).fill(9)), bobHash).start());
    for (const [i, h] of flood.entries()) {
      c.now += 250;
      await onHello('mbx-mallory', h);
      if (i === 20) {
        // …and Alice calls in the middle of it, with her token.
        const caller = new CallerHandshake(aliceId, bobHash, { admitToken: t0.value.admission.send });
        const got = await onHello(aliceMailbox, caller.start());
        expect(got?.decision).toMatchObject({ admit: true, as: 'contact', contactId: 'alice' });
        const m3 = await caller.onResponse(got!.response);
        if (!m3.ok) throw m3.error;
        const done = await got!.callee.onConfirm(m3.value.confirm);
        expect(done.ok).toBe(true); // the contact's call goes through to ringing
      }
    }
    // One HELLO of Mallory's at a time, within its bucket: 1 signature, 1 for Alice, 39 refusals for free.
    expect(signatures).toBe(2);
    expect(refused).toHaveLength(39);
    expect(new Set(refused)).toEqual(new Set(['sender-busy']));
  }, 30_000);
});

describe('admission policy', () => {
  test('a second stranger beyond the bound is refused, with no signature: everyone-strangers bucket', () => {
    const c = clock();
    const a = new AdmissionControl(c.fn);
    const admitted = Array.from({ length: 20 }, (_, n) => a.decide(stranger(n), OPEN));
    const n = admitted.filter((d) => d.admit).length;
    expect(n).toBe(ADMISSION_LIMITS.globalBurst);
    expect(admitted[ADMISSION_LIMITS.globalBurst]).toEqual({ admit: false, reason: 'stranger-rate' });
    // Meanwhile a contact is admitted, whatever the strangers hold.
    expect(a.decide(fromAlice(), OPEN)).toMatchObject({ admit: true, as: 'contact' });
    // The bucket refills: one more stranger per globalRefillMs.
    c.now += ADMISSION_LIMITS.globalRefillMs;
    expect(a.decide(stranger(100), OPEN)).toMatchObject({ admit: true });
    expect(a.decide(stranger(101), OPEN)).toEqual({ admit: false, reason: 'stranger-rate' });
  });

  test('one handshake at a time per stranger, and a per-stranger bucket', () => {
    const c = clock();
    const a = new AdmissionControl(c.fn);
    const first = stranger(1, 'c1');
    expect(a.decide(first, OPEN)).toMatchObject({ admit: true, as: 'stranger' });
    expect(a.decide(stranger(1, 'c2'), OPEN)).toEqual({ admit: false, reason: 'sender-busy' });
    a.release('c1');
    expect(a.decide(stranger(1, 'c3'), OPEN)).toMatchObject({ admit: true });
    a.release('c3');
    expect(a.decide(stranger(1, 'c4'), OPEN)).toMatchObject({ admit: true });
    a.release('c4');
    expect(a.decide(stranger(1, 'c5'), OPEN)).toEqual({ admit: false, reason: 'sender-rate' }); // burst of 3 spent
    c.now += ADMISSION_LIMITS.strangerRefillMs;
    expect(a.decide(stranger(1, 'c6'), OPEN)).toMatchObject({ admit: true });
  });

  test('a slot frees itself after its TTL (a HELLO nobody completes)', () => {
    const c = clock();
    const a = new AdmissionControl(c.fn);
    a.decide(stranger(1, 'x'), OPEN);
    expect(a.decide(stranger(1, 'y'), OPEN)).toMatchObject({ admit: false, reason: 'sender-busy' });
    c.now += ADMISSION_LIMITS.slotTtlMs;
    expect(a.decide(stranger(1, 'z'), OPEN)).toMatchObject({ admit: true });
  });

  test('stranger slots full: the oldest stranger handshake is evicted', () => {
    const c = clock();
    const a = new AdmissionControl(c.fn);
    const ids: string[] = [];
    for (let n = 0; n < ADMISSION_LIMITS.strangerSlots; n++) {
      ids.push(`old${n}`);
      expect(a.decide(stranger(n, `old${n}`), OPEN)).toEqual({ admit: true, as: 'stranger', evict: [] });
      c.now += 10;
    }
    expect(a.decide(stranger(99, 'new'), OPEN)).toEqual({ admit: true, as: 'stranger', evict: ['old0'] });
    expect(a.load).toEqual({ contacts: 0, strangers: ADMISSION_LIMITS.strangerSlots });
  });

  test('contacts have their own slots: never refused for load; a redial evicts that contact\'s oldest attempt', () => {
    const c = clock();
    const a = new AdmissionControl(c.fn);
    for (let n = 0; n < 10; n++) a.decide(stranger(n), OPEN);
    expect(a.decide(fromAlice('a1'), OPEN)).toEqual({ admit: true, as: 'contact', contactId: 'alice', evict: [] });
    expect(a.decide(fromAlice('a2'), OPEN)).toEqual({ admit: true, as: 'contact', contactId: 'alice', evict: [] });
    expect(a.decide(fromAlice('a3'), OPEN)).toEqual({ admit: true, as: 'contact', contactId: 'alice', evict: ['a1'] });
    // Many contacts at once: beyond contactSlots the oldest contact handshake goes, the new one is in.
    for (let n = 0; n < ADMISSION_LIMITS.contactSlots; n++) {
      const d = a.decide({ callId: `k${n}`, from: `mbx-k${n}`, contact: { id: `k${n}`, mailbox: `mbx-k${n}` } }, OPEN);
      expect(d.admit).toBe(true);
    }
    expect(a.load.contacts).toBe(ADMISSION_LIMITS.contactSlots);
  });

  test('a blocked sender is refused in every mode, contact or not', () => {
    const a = new AdmissionControl(clock().fn);
    for (const contactsOnly of [false, true]) {
      const blockedStranger: AdmissionSettings = { blocked: new Set(['mbx-stranger-1']), contactsOnly };
      expect(a.decide(stranger(1), blockedStranger)).toEqual({ admit: false, reason: 'blocked' });
      const blockedAlice: AdmissionSettings = { blocked: new Set([alice.mailbox]), contactsOnly };
      expect(a.decide(fromAlice(), blockedAlice)).toEqual({ admit: false, reason: 'blocked' });
      // Alice's tag relayed from another mailbox is still Alice's, still blocked.
      expect(a.decide({ callId: 'q', from: 'mbx-other', contact: alice }, blockedAlice)).toEqual({ admit: false, reason: 'blocked' });
    }
    expect(a.load).toEqual({ contacts: 0, strangers: 0 });
  });

  test('"only contacts may ring me" refuses a stranger and admits a contact', () => {
    const a = new AdmissionControl(clock().fn);
    const only: AdmissionSettings = { blocked: new Set(), contactsOnly: true };
    expect(a.decide(stranger(1), only)).toEqual({ admit: false, reason: 'contacts-only' });
    expect(a.decide(fromAlice(), only)).toMatchObject({ admit: true, as: 'contact', contactId: 'alice' });
  });

  test("a contact's tag from another mailbox counts as a stranger's HELLO", () => {
    const a = new AdmissionControl(clock().fn);
    const stolen: HelloFacts = { callId: 'st', from: 'mbx-mallory', contact: alice };
    expect(a.decide(stolen, { blocked: new Set(), contactsOnly: true })).toEqual({ admit: false, reason: 'contacts-only' });
    expect(a.decide(stolen, OPEN)).toMatchObject({ admit: true, as: 'stranger' });
  });

  test('a replayed HELLO (same call id) is refused, also after its handshake ended', () => {
    const c = clock();
    const a = new AdmissionControl(c.fn);
    expect(a.decide(fromAlice('same'), OPEN)).toMatchObject({ admit: true });
    expect(a.decide(fromAlice('same'), OPEN)).toEqual({ admit: false, reason: 'replayed' });
    a.release('same');
    c.now += ADMISSION_LIMITS.slotTtlMs * 2;
    expect(a.decide(fromAlice('same'), OPEN)).toEqual({ admit: false, reason: 'replayed' });
  });

  test('memory stays bounded under a flood from 5000 mailboxes', () => {
    const c = clock();
    const a = new AdmissionControl(c.fn);
    for (let n = 0; n < 5000; n++) {
      c.now += 1;
      a.decide(stranger(n, `f${n}`), OPEN);
    }
    const inner = a as unknown as { senders: Map<string, unknown>; seen: Map<string, unknown>; slots: Map<string, unknown> };
    expect(inner.senders.size).toBeLessThanOrEqual(ADMISSION_LIMITS.trackedSenders);
    expect(inner.seen.size).toBeLessThanOrEqual(ADMISSION_LIMITS.replayMemory);
    expect(inner.slots.size).toBeLessThanOrEqual(ADMISSION_LIMITS.strangerSlots);
  });
});

describe('completed handshakes are refunded (issue 14, phase 2)', () => {
  test('a stranger redialling, each call completing, is never refused; one whose HELLOs never complete is, after the burst', () => {
    const c = clock();
    const adm = new AdmissionControl(c.fn);
    // One call every 5 s (the rate all strangers together get after their burst), each completing.
    for (let i = 0; i < 20; i++) {
      const h = stranger(1);
      const d = adm.decide(h, OPEN);
      expect(d.admit, `call ${i}`).toBe(true);
      adm.completed(h.callId);
      c.now += ADMISSION_LIMITS.globalRefillMs;
    }
    const results: boolean[] = [];
    for (let i = 0; i < ADMISSION_LIMITS.strangerBurst + 2; i++) {
      const h = stranger(2);
      results.push(adm.decide(h, OPEN).admit);
      adm.release(h.callId); // failed or timed out: no refund
      c.now += 1_000;
    }
    expect(results).toEqual([...Array(ADMISSION_LIMITS.strangerBurst).fill(true), false, false]);
  });

  test("a contact's completion refunds nothing (contacts use no bucket) and frees its slot", () => {
    const adm = new AdmissionControl(clock().fn);
    const h = fromAlice();
    expect(adm.decide(h, OPEN).admit).toBe(true);
    expect(adm.load.contacts).toBe(1);
    adm.completed(h.callId);
    expect(adm.load).toEqual({ contacts: 0, strangers: 0 });
  });

  test("completed handshakes never refund all strangers' bucket: it still bounds SAS attempts (§5.2)", () => {
    const c = clock();
    const adm = new AdmissionControl(c.fn);
    const admitted: boolean[] = [];
    for (let i = 0; i < ADMISSION_LIMITS.globalBurst + 2; i++) {
      const h = stranger(100 + i);
      admitted.push(adm.decide(h, OPEN).admit);
      adm.completed(h.callId);
    }
    expect(admitted).toEqual([...Array(ADMISSION_LIMITS.globalBurst).fill(true), false, false]);
  });
});
