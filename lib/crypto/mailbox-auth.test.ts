/**
 * Mailbox login, protocol v2 (mailbox-auth.ts): per-relay mailboxes and keys
 * that share nothing across relays and never carry the identity, proofs bound
 * to the URL dialled, and refusal of anything else.
 */
import { describe, expect, test } from 'vitest';
import { identityFromSeed } from './identity';
import { addressFromBundle, mailboxIdOfBundle } from './address';
import { mailboxKey, proveMailbox, proveMailboxAt, relayMailboxId, verifyMailboxProof } from './mailbox-auth';
import { toHex } from './bytes';

const alice = identityFromSeed(new Uint8Array(32).fill(1));
const bob = identityFromSeed(new Uint8Array(32).fill(2));
const R1 = 'wss://r1.example:443/signal';
const R2 = 'wss://r2.example:443/signal';
const challenge = new Uint8Array(32).fill(9);

describe('relay mailboxes and keys', () => {
  test('a caller who knows only the address finds the mailbox; it differs per relay and is not the address tag', () => {
    const tag = mailboxIdOfBundle(alice.bundleBytes);
    const m1 = relayMailboxId(tag, R1);
    expect(proveMailbox(alice, challenge, R1).mailbox).toBe(m1);
    expect(m1).toMatch(/^[0-9a-f]{32}$/);
    expect(m1).not.toBe(relayMailboxId(tag, R2));
    expect(m1).not.toBe(tag);
    expect(m1).not.toBe(relayMailboxId(mailboxIdOfBundle(bob.bundleBytes), R1));
  });

  test('the per-relay key differs per relay and is none of the identity keys', () => {
    const k1 = mailboxKey(alice, R1).publicKey;
    const k2 = mailboxKey(alice, R2).publicKey;
    expect(toHex(k1)).not.toBe(toHex(k2));
    expect(toHex(k1)).not.toBe(toHex(alice.bundle.ed25519Pk));
    // Nothing a relay receives contains the bundle, any of its keys, the address or its tag.
    const p = proveMailbox(alice, challenge, R1);
    const seen = toHex(p.key) + toHex(p.signature) + p.mailbox;
    for (const secret of [toHex(alice.bundle.ed25519Pk), toHex(alice.bundle.x25519Pk), mailboxIdOfBundle(alice.bundleBytes)]) expect(seen).not.toContain(secret);
    expect(seen).not.toContain(addressFromBundle(alice.bundleBytes));
  });

  test('a proof verifies for its challenge and the relay URL it signed, and for nothing else', () => {
    const p = proveMailbox(alice, challenge, R1);
    const ok = verifyMailboxProof(challenge, [R1], p.mailbox, p.key, p.signature);
    expect(ok).toEqual({ ok: true, value: p.mailbox });
    // One of several own URLs (e.g. the relay's IP and localhost).
    expect(verifyMailboxProof(challenge, [R2, R1], p.mailbox, p.key, p.signature).ok).toBe(true);
    // Another relay (a forwarded challenge), another challenge, another mailbox, another key: refused.
    const refused = [
      verifyMailboxProof(challenge, [R2], p.mailbox, p.key, p.signature),
      verifyMailboxProof(new Uint8Array(32).fill(8), [R1], p.mailbox, p.key, p.signature),
      verifyMailboxProof(challenge, [R1], 'a'.repeat(32), p.key, p.signature),
      verifyMailboxProof(challenge, [R1], p.mailbox, proveMailbox(bob, challenge, R1).key, p.signature),
    ];
    for (const r of refused) expect(r).toMatchObject({ ok: false, error: { code: 'ERR_BAD_SIGNATURE' } });
  });

  test('malformed inputs are typed errors, never throws', () => {
    const p = proveMailbox(alice, challenge, R1);
    expect(verifyMailboxProof(new Uint8Array(31), [R1], p.mailbox, p.key, p.signature)).toMatchObject({ ok: false, error: { code: 'ERR_BAD_INPUT' } });
    expect(verifyMailboxProof(challenge, [R1], 'XYZ', p.key, p.signature)).toMatchObject({ ok: false, error: { code: 'ERR_BAD_INPUT' } });
    expect(verifyMailboxProof(challenge, [R1], p.mailbox, p.key.subarray(1), p.signature)).toMatchObject({ ok: false, error: { code: 'ERR_BAD_INPUT' } });
    expect(verifyMailboxProof(challenge, [R1], p.mailbox, p.key, p.signature.subarray(1))).toMatchObject({ ok: false, error: { code: 'ERR_BAD_INPUT' } });
    expect(verifyMailboxProof(challenge, [], p.mailbox, p.key, p.signature)).toMatchObject({ ok: false, error: { code: 'ERR_BAD_SIGNATURE' } });
    expect(() => proveMailbox(alice, new Uint8Array(5), R1)).toThrow(/32 bytes/);
  });

  test('a squatter can sign for a mailbox it does not own (the relay cannot tell): the key binding, not the proof, refuses it', () => {
    const victim = relayMailboxId(mailboxIdOfBundle(alice.bundleBytes), R1);
    const s = proveMailboxAt(bob, challenge, R1, victim);
    expect(verifyMailboxProof(challenge, [R1], victim, s.key, s.signature).ok).toBe(true);
    expect(toHex(s.key)).not.toBe(toHex(proveMailbox(alice, challenge, R1).key));
  });
});
