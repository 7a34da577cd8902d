import { describe, expect, test } from 'vitest';
import { addressFromBundle } from '../crypto/address';
import { identityFromSeed } from '../crypto/identity';
import { addContact, changeAddress, ContactError, deleteContact, markVerified, noteKeysSeen, renameContact } from './book';
import { addressFromLink, hushLink, isHushHref, qrPayload } from './link';

const addr = (n: number) => addressFromBundle(identityFromSeed(new Uint8Array(32).fill(n)).bundleBytes);
const [me, alice, alice2, bob] = [addr(1), addr(2), addr(3), addr(4)];

describe('hush links', () => {
  test('link and QR forms round trip through addressFromLink', () => {
    expect(hushLink(alice)).toBe(`web+hush:${alice}`);
    expect(qrPayload(alice)).toBe(`WEB+HUSH:${alice.toUpperCase()}`);
    for (const s of [alice, hushLink(alice), qrPayload(alice), `  web+hush://${alice} `, encodeURIComponent(hushLink(alice))]) {
      expect(addressFromLink(s)).toBe(alice);
    }
    expect(() => addressFromLink('web+hush:hush1abc')).toThrow(/characters/);
    expect(isHushHref(`WEB+HUSH:${alice}`)).toBe(true);
    expect(isHushHref('https://example.org/')).toBe(false);
  });
});

describe('contact book', () => {
  test('add by link, rename, delete; own address and duplicates', () => {
    let { list, contact } = addContact([], hushLink(alice), ' Alice ', me, 5);
    expect(contact).toEqual({ address: alice, name: 'Alice', verified: false, addedAt: 5 });
    expect(addContact(list, alice, 'Other', me).list).toBe(list);
    expect(() => addContact(list, me, 'Me', me)).toThrow(ContactError);
    list = renameContact(list, alice, 'Alice B.');
    expect(list[0]!.name).toBe('Alice B.');
    expect(renameContact(list, alice, '   ')[0]!.name).toBe(alice.slice(0, 12) + '…');
    expect(() => renameContact(list, bob, 'x')).toThrow(ContactError);
    expect(deleteContact(list, alice)).toEqual([]);
  });

  test('a new address for a verified contact clears verified and sets keyChanged until re-verified', () => {
    let list = markVerified(addContact([], alice, 'Alice', me).list, alice, 'aa');
    expect(list[0]).toMatchObject({ verified: true, keysSeen: 'aa', keyChanged: false });
    const r = changeAddress(list, alice, hushLink(alice2), me);
    expect(r.contact).toMatchObject({ address: alice2, name: 'Alice', verified: false, keyChanged: true, keysSeen: undefined });
    list = markVerified(r.list, alice2, 'bb');
    expect(list[0]).toMatchObject({ verified: true, keyChanged: false });
    expect(changeAddress(list, alice2, alice2, me).list).toBe(list);
    const withBob = addContact(list, bob, 'Bob', me).list;
    expect(() => changeAddress(withBob, alice2, bob, me)).toThrow(/Bob/);
  });

  test('a handshake showing other keys for a contact sets keyChanged', () => {
    const list = markVerified(addContact([], alice, 'Alice', me).list, alice, 'aa');
    expect(noteKeysSeen(list, alice, 'aa')).toBeNull();
    expect(noteKeysSeen(list, alice, 'ff')![0]).toMatchObject({ verified: false, keyChanged: true });
    expect(noteKeysSeen(list, bob, 'ff')).toBeNull();
  });
});
