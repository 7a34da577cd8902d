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
import { parseCard } from '../contacts/card';
import { cardFromContactHref } from '../contacts/link';
import { testInsecureRelayHost } from '../testing/hooks';

export class ContactsStore {
  private constructor(
    private contacts: Contact[],
    private readonly changed: () => void,
    private readonly knownRelays: (address: string) => string[],
  ) {}

  /** `knownRelays`: where an address was last reached (a call, history), for a contact added without a card. */
  static async load(changed: () => void, knownRelays: (address: string) => string[] = () => []): Promise<ContactsStore> {
    return new ContactsStore(await contactsItem.getValue(), changed, knownRelays);
  }

  get list(): Contact[] {
    return this.contacts;
  }

  find(address?: string): Contact | undefined {
    return address ? this.contacts.find((c) => c.address === address) : undefined;
  }

  /**
   * Add a contact from an address, link or card (`hush1…@relay`: its relays are saved with it);
   * `own` is this device's address (one cannot add oneself). Without a card: where that address
   * was last reached (the call just made, history), through `knownRelays`.
   */
  async add(address: string, name: string, own: string): Promise<Contact> {
    const text = String(address ?? '').trim();
    const cardText = /^https?:/i.test(text) ? cardFromContactHref(text) : text.includes('@') ? text : null;
    const card = cardText ? parseCard(cardText, { insecureAllowed: testInsecureRelayHost }) : null;
    const canonical = card?.address ?? book.addressOf(text);
    const relays = card?.relays.length ? card.relays : this.find(canonical) ? [] : this.knownRelays(canonical);
    const r = book.addContact(this.contacts, canonical, name, own, Date.now(), relays);
    if (r.list !== this.contacts) await this.save(r.list);
    return r.contact;
  }

  /** Where this contact is rung from now on (a card dialled, the list it signed in a call); no-op for a stranger. */
  async noteRelays(address: string, relays: readonly string[]): Promise<void> {
    const next = book.setRelays(this.contacts, address, relays);
    if (next) await this.save(next);
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
