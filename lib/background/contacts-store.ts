/**
 * The contact list as the background keeps it: in memory for the view, saved
 * to extension storage (storage.ts contactsItem) on every change. The rules of
 * the list (names, duplicates, verification, key changes) are
 * lib/contacts/book.ts; this file only holds the current list and saves it.
 */
import * as book from '../contacts/book';
import { toHex } from '../crypto/bytes';
import { sha256 } from '@noble/hashes/sha2.js';
import type { Contact } from '../messaging/view';
import { contactsItem } from './storage';

export class ContactsStore {
  private constructor(
    private contacts: Contact[],
    private readonly changed: () => void,
  ) {}

  static async load(changed: () => void): Promise<ContactsStore> {
    return new ContactsStore(await contactsItem.getValue(), changed);
  }

  get list(): Contact[] {
    return this.contacts;
  }

  find(address?: string): Contact | undefined {
    return address ? this.contacts.find((c) => c.address === address) : undefined;
  }

  /** Add a contact; `own` is this device's address (one cannot add oneself). */
  async add(address: string, name: string, own: string): Promise<Contact> {
    const r = book.addContact(this.contacts, address, name, own);
    if (r.list !== this.contacts) await this.save(r.list);
    return r.contact;
  }

  async rename(address: string, name: string): Promise<void> {
    await this.save(book.renameContact(this.contacts, address, name));
  }

  async remove(address: string): Promise<void> {
    await this.save(book.deleteContact(this.contacts, address));
  }

  async changeAddress(address: string, newAddress: string, own: string): Promise<Contact> {
    const r = book.changeAddress(this.contacts, address, newAddress, own);
    await this.save(r.list);
    return r.contact;
  }

  /** A handshake showed this peer's key bundle: flag a change against the verified keys (contacts/book.ts). */
  noteKeysSeen(address: string, peerBundle: Uint8Array): void {
    const next = book.noteKeysSeen(this.contacts, address, keysId(peerBundle));
    if (next) void this.save(next);
  }

  /** Mark a peer verified with these keys (after the two people compared the SAS); added first if new. */
  async markVerified(address: string, peerBundle: Uint8Array, own: string): Promise<Contact> {
    // Never creates a contact named by its address: the UI asks for a name first (ui-dispatch verifyContact).
    if (!this.find(address)) throw new book.ContactError('ERR_NO_CONTACT', 'Save the contact first.');
    void own;
    await this.save(book.markVerified(this.contacts, address, keysId(peerBundle)));
    return this.find(address)!;
  }

  private async save(list: Contact[]): Promise<void> {
    this.contacts = list;
    await contactsItem.setValue(list);
    this.changed();
  }
}

function keysId(peerBundle: Uint8Array): string {
  return toHex(sha256(peerBundle));
}
