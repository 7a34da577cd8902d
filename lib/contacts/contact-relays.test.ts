/**
 * Relays kept with contacts and history (issue 15): what a saved list means,
 * how the signed list from a handshake is kept, and that bad stored data is
 * refused with a sentence while the contact stays as stored.
 */
import { describe, expect, test } from 'vitest';
import { addressFromBundle } from '../crypto/address';
import { identityFromSeed } from '../crypto/identity';
import type { Contact } from '../messaging/view';
import { addContact, setRelays } from './book';
import { acceptSignedRelays, ContactRelaysError, relaysChanged, savedRelays } from './contact-relays';
import { parseCard } from './card';

const addr = (n: number) => addressFromBundle(identityFromSeed(new Uint8Array(32).fill(n)).bundleBytes);
const [me, alice] = [addr(1), addr(2)];
const R1 = 'wss://r1.example:443/signal';
const R2 = 'wss://r2.example:443/signal';

describe('relays saved with a contact', () => {
  test('an old contact (stored before issue 15, no relays field) is rung on our own relay', () => {
    const legacy = JSON.parse(`{"address":"${alice}","name":"Alice","verified":true,"addedAt":1}`) as Contact;
    expect(savedRelays(legacy.relays, legacy.name)).toEqual([]);
    expect(savedRelays([], 'Alice')).toEqual([]);
  });

  test('a saved list is read in canonical form, in order; the wss rule still applies', () => {
    expect(savedRelays(['wss://R1.example/signal', R2], 'Alice')).toEqual([R1, R2]);
    expect(savedRelays(['ws://relay.example/signal', R2], 'Alice')).toEqual([R2]);
    expect(savedRelays(['ws://203.0.113.5:8080/signal'], 'Alice', { insecureAllowed: (h) => h.startsWith('203.0.113.') })).toEqual(['ws://203.0.113.5:8080/signal']);
  });

  test.each([
    ['not a list', 'wss://r1.example/signal', /damaged/],
    ['an object', { 0: R1 }, /damaged/],
    ['nothing usable', ['http://r1.example/', 42, 'ws://relay.example/signal'], /None of the relays saved for Alice/],
  ])('bad stored data (%s): ContactRelaysError with a sentence; the caller leaves the contact as stored', (_what, stored, re) => {
    const contact = { address: alice, name: 'Alice', verified: true, addedAt: 1, relays: stored } as unknown as Contact;
    const before = JSON.stringify(contact);
    let err: unknown;
    try {
      savedRelays(contact.relays, contact.name);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ContactRelaysError);
    expect((err as ContactRelaysError).code).toBe('ERR_BAD_SAVED_RELAYS');
    expect((err as Error).message).toMatch(re);
    expect((err as Error).message).toMatch(/Dial their card/);
    expect(JSON.stringify(contact)).toBe(before);
  });

  test('a signed list is kept as the wss rule allows, deduplicated, at most 4', () => {
    expect(acceptSignedRelays([R1, 'ws://relay.example:80/signal', R1, R2])).toEqual([R1, R2]);
    expect(acceptSignedRelays(['ws://127.0.0.1:8080/signal'])).toEqual(['ws://127.0.0.1:8080/signal']);
    expect(acceptSignedRelays([1, 2, 3, 4, 5].map((i) => `wss://r${i}.example:443/signal`))).toHaveLength(4);
    expect(relaysChanged(undefined, [R1])).toBe(true);
    expect(relaysChanged([R1], [R1])).toBe(false);
    expect(relaysChanged([R1, R2], [R2, R1])).toBe(true);
  });

  test('the book: a contact added from a card keeps its relays; a signed list replaces them; an empty one never clears', () => {
    const card = parseCard(`${alice}@r1.example`);
    const { list, contact } = addContact([], alice, 'Alice', me, 1, card.relays);
    expect(contact.relays).toEqual([R1]);
    const moved = setRelays(list, alice, [R2]);
    expect(moved?.[0]?.relays).toEqual([R2]);
    expect(setRelays(moved!, alice, [R2])).toBeNull(); // unchanged: no write
    expect(setRelays(moved!, alice, [])).toBeNull();
    expect(setRelays(moved!, addr(9), [R1])).toBeNull(); // a stranger: not a contact, nothing saved
    // Added again from a newer card: the relays move, name and verification stay.
    const again = addContact([{ ...moved![0]!, verified: true }], alice, 'Other', me, 2, [R1]);
    expect(again.contact).toMatchObject({ name: 'Alice', verified: true, relays: [R1] });
    // A bare address for an existing contact changes nothing.
    const bare = addContact(again.list, alice, 'X', me, 3);
    expect(bare.list).toBe(again.list);
  });
});
