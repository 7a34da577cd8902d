/**
 * The contact book, as pure functions over the stored list (the background
 * persists the result). A contact is keyed by its address; since an address
 * is a hash of the contact's keys (docs/protocol.md §3), "their keys
 * changed" means their address changed: they made a new identity and sent a
 * new link. `changeAddress` records exactly that: the new address, the
 * verification cleared, and `keyChanged` set until a SAS check in a call
 * (`markVerified`) clears it. `noteKeysSeen` is the belt to those braces: a
 * handshake that ever shows different keys for a contact sets it too.
 */
import type { Contact } from '../messaging/view';
import { addressFromLink } from './link';
import { relaysChanged } from './contact-relays';
import { t, tf } from '../i18n/messages';

export type ContactErrorCode = 'ERR_SELF' | 'ERR_CONTACT_EXISTS' | 'ERR_NO_CONTACT';

export class ContactError extends Error {
  override readonly name = 'ContactError';
  constructor(
    readonly code: ContactErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const NAME_MAX = 64;

export function cleanName(name: string | undefined, address: string): string {
  const n = String(name ?? '')
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim()
    .slice(0, NAME_MAX);
  return n || address.slice(0, 12) + '…';
}

/**
 * Add a contact from an address or link, with the relays its card named (none: our own relay).
 * An existing address is returned unchanged, but for new `relays`, which replace its saved ones.
 */
export function addContact(
  list: Contact[],
  input: string,
  name: string,
  self: string,
  now = Date.now(),
  relays: readonly string[] = [],
): { list: Contact[]; contact: Contact } {
  const address = addressFromLink(input);
  if (address === self) throw new ContactError('ERR_SELF', t('err.contact.self'));
  const existing = list.find((c) => c.address === address);
  if (existing) {
    const next = setRelays(list, address, relays);
    return next ? { list: next, contact: next.find((c) => c.address === address)! } : { list, contact: existing };
  }
  const contact: Contact = { address, name: cleanName(name, address), verified: false, addedAt: now };
  if (relays.length) contact.relays = [...relays];
  return { list: [...list, contact], contact };
}

/**
 * Where this contact is rung from now on (a card dialled, or the list it signed in a call:
 * lib/contacts/contact-relays.ts). Empty `relays` never clears a saved list. Null when nothing changes.
 */
export function setRelays(list: Contact[], address: string, relays: readonly string[]): Contact[] | null {
  const c = list.find((x) => x.address === address);
  if (!c || relays.length === 0 || !relaysChanged(c.relays, relays)) return null;
  return list.map((x) => (x.address === address ? { ...x, relays: [...relays] } : x));
}

/** The canonical address in an address or link (ERR_BAD_ADDRESS otherwise). */
export function addressOf(input: string): string {
  return addressFromLink(input);
}

export function renameContact(list: Contact[], address: string, name: string): Contact[] {
  find(list, address);
  return list.map((c) => (c.address === address ? { ...c, name: cleanName(name, c.address) } : c));
}

export function deleteContact(list: Contact[], address: string): Contact[] {
  return list.filter((c) => c.address !== address);
}

/** The contact now has a new address (new identity): warn until re-verified. */
export function changeAddress(list: Contact[], address: string, input: string, self: string): { list: Contact[]; contact: Contact } {
  const current = find(list, address);
  const next = addressFromLink(input);
  if (next === current.address) return { list, contact: current };
  if (next === self) throw new ContactError('ERR_SELF', t('err.contact.self'));
  const other = list.find((c) => c.address === next);
  if (other) throw new ContactError('ERR_CONTACT_EXISTS', tf('err.contact.exists', { name: other.name }));
  const contact: Contact = { ...current, address: next, verified: false, keyChanged: true, keysSeen: undefined };
  return { list: list.map((c) => (c.address === address ? contact : c)), contact };
}

/** The two people compared the SAS in a call: verified, keys remembered, warning cleared. */
export function markVerified(list: Contact[], address: string, keysSeen: string): Contact[] {
  return list.map((c) => (c.address === address ? { ...c, verified: true, keysSeen, keyChanged: false } : c));
}

/** A handshake showed these keys (hex hash of the bundle) for this address. Returns null when nothing changes. */
export function noteKeysSeen(list: Contact[], address: string, keysHash: string): Contact[] | null {
  const c = list.find((x) => x.address === address);
  if (!c?.keysSeen || c.keysSeen === keysHash || c.keyChanged) return null;
  return list.map((x) => (x.address === address ? { ...x, verified: false, keyChanged: true } : x));
}

function find(list: Contact[], address: string): Contact {
  const c = list.find((x) => x.address === address);
  if (!c) throw new ContactError('ERR_NO_CONTACT', t('err.contact.missing'));
  return c;
}
