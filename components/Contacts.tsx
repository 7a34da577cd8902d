import { useEffect, useRef, useState } from 'preact/hooks';
import type { Contact } from '@/lib/messaging/view';
import { request } from '@/lib/ui/client';
import { aboutToDial } from '@/lib/ui/about-to-dial';
import { addressFromQrImage } from '@/lib/ui/qr-read';
import { errorText, t, tf } from '@/lib/i18n/messages';
import { addressFromLink } from '@/lib/contacts/link';
import { contactLabel, givenName, shortAddress } from '@/lib/ui/display';

/** The address book: each contact's name and short address (copyable), call, edit; and the Add form. */
export function Contacts({ contacts, focusAddress, blocked = [] }: { contacts: Contact[]; focusAddress?: string; blocked?: string[] }) {
  return (
    <section class="card" aria-labelledby="contacts-h">
      <h2 id="contacts-h">{t('ui.contacts')}</h2>
      {contacts.length === 0 ? (
        <p class="muted">{t('ui.contacts.empty')}</p>
      ) : (
        <ul class="contacts" data-testid="contacts">
          {contacts.map((c) => (
            <ContactRow key={c.address} contact={c} focus={focusAddress === c.address} blocked={blocked.includes(c.address)} />
          ))}
        </ul>
      )}
      <AddContact contacts={contacts} />
    </section>
  );
}

function ContactRow({ contact, focus, blocked }: { contact: Contact; focus: boolean; blocked: boolean }) {
  const [error, setError] = useState('');
  const [copied, setCopied] = useState(false);
  const row = useRef<HTMLLIElement>(null);
  const label = contactLabel(contact);
  useEffect(() => {
    if (!focus) return;
    row.current?.scrollIntoView({ block: 'nearest' });
    row.current?.querySelector<HTMLElement>('[data-testid="contact-call"]')?.focus();
  }, [focus]);
  const copy = async () => {
    await navigator.clipboard.writeText(contact.address).catch(() => {});
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  const [editing, setEditing] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const act = (p: Promise<unknown>) => p.then(() => setError(''), (e: unknown) => setError(errorText(e)));
  return (
    <li ref={row} data-testid="contact" data-address={contact.address} data-verified={contact.verified} data-key-changed={!!contact.keyChanged} class={focus ? 'focused' : ''}>
      <span class="name">
        <span data-testid="contact-label">{label}</span>
        {contact.verified && (
          <span class="badge verified" title={t('ui.contact.verified')} data-testid="verified-badge">
            ✓ {t('ui.contact.verified')}
          </span>
        )}
        {contact.keyChanged && (
          <span class="badge warn" role="note" data-testid="contact-key-changed">
            ⚠ {t('ui.contact.keyChanged')}
          </span>
        )}
        <span class="addr">
          <code data-testid="contact-address-short" title={contact.address}>
            {shortAddress(contact.address)}
          </code>{' '}
          <button
            type="button"
            class="link small"
            data-testid="contact-copy"
            aria-label={tf('ui18.contact.copyAddressOf', { name: label })}
            title={tf('ui18.contact.copyAddressOf', { name: label })}
            onClick={() => void copy()}
          >
            {copied ? t('ui.copied') : t('ui.copy')}
          </button>
        </span>
      </span>
      <button
        type="button"
        onPointerEnter={aboutToDial}
        onFocus={aboutToDial}
        onClick={() => act(request('dial', { address: contact.address }))} aria-label={`${t('ui.contact.call')} ${label}`} data-testid="contact-call">
        {t('ui.contact.call')}
      </button>
      <button
        type="button"
        class="secondary icon-button"
        aria-expanded={editing}
        aria-label={tf('ui.contact.editOf', { name: label })}
        data-testid="contact-edit"
        onClick={() => setEditing(!editing)}
      >
        {t('ui.contact.edit')}
      </button>
      {editing && <EditContact contact={contact} onDone={() => setEditing(false)} />}
      {editing &&
        (confirmDelete ? (
          <button type="button" class="danger" data-testid="contact-delete-confirm" onClick={() => act(request('delete-contact', { address: contact.address }))}>
            {tf('ui.contact.deleteConfirm', { name: label })}
          </button>
        ) : (
          <button type="button" class="secondary" data-testid="contact-delete" onClick={() => setConfirmDelete(true)}>
            {t('ui.contact.delete')}
          </button>
        ))}
      {/* Issue 14: block from the contacts too (unblock in the options' privacy section). */}
      {editing &&
        (blocked ? (
          <span class="muted small" data-testid="contact-blocked">
            {t('ui.history.blocked')}
          </span>
        ) : (
          <button type="button" class="secondary" data-testid="contact-block" title={t('ui.call.blockHelp')} onClick={() => act(request('block-address', { address: contact.address }))}>
            {t('ui.call.block')}
          </button>
        ))}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}

/** Rename; or, when they made a new identity, give the new address (paste a link or read their QR). */
function EditContact({ contact, onDone }: { contact: Contact; onDone: () => void }) {
  const [name, setName] = useState(givenName(contact));
  const [address, setAddress] = useState('');
  const [error, setError] = useState('');
  const id = contact.address.slice(5, 13);
  const save = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      if (name.trim() !== givenName(contact)) await request('rename-contact', { address: contact.address, name });
      if (address.trim()) await request('change-contact-address', { address: contact.address, newAddress: address });
      onDone();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form class="form contact-edit" onSubmit={save}>
      <p class="small">
        <span class="muted">{t('ui.contact.address')}: </span>
        <code data-testid="edit-current-address">{contact.address}</code>
      </p>
      <div class="field">
        <label for={`edit-name-${id}`}>{t('ui.contact.name')}</label>
        <input id={`edit-name-${id}`} data-testid="edit-name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      </div>
      <div class="field">
        <label for={`edit-address-${id}`}>{t('ui.contact.newAddress')}</label>
        <input
          id={`edit-address-${id}`}
          data-testid="edit-address"
          value={address}
          spellcheck={false}
          placeholder="web+hush:hush1…"
          onInput={(e) => setAddress((e.target as HTMLInputElement).value)}
        />
      </div>
      <QrPicker id={`edit-qr-${id}`} testid="edit-qr" onAddress={setAddress} onError={setError} />
      <div class="row">
        <button type="submit" data-testid="edit-save">
          {t('ui.contact.save')}
        </button>
        <button type="button" class="secondary" data-testid="edit-cancel" onClick={onDone}>
          {t('ui.contact.cancel')}
        </button>
      </div>
      {error && (
        <p class="error" role="alert" data-testid="edit-error">
          {error}
        </p>
      )}
    </form>
  );
}

/** A file input that reads a QR code picture into an address. */
function QrPicker({ id, testid, onAddress, onError }: { id: string; testid: string; onAddress(a: string): void; onError(m: string): void }) {
  const pick = async (e: Event) => {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    try {
      onAddress(await addressFromQrImage(file));
      onError('');
    } catch (err) {
      onError(errorText(err));
    }
  };
  return (
    <div class="field">
      <label for={id}>{t('ui.qr.read')}</label>
      <input id={id} type="file" accept="image/*" data-testid={testid} onChange={(e) => void pick(e)} />
    </div>
  );
}

/**
 * Add a contact: labels above inputs, "Add a contact" opens it, "Save" saves. The
 * background answers an address already saved with that contact, unchanged (book.ts
 * addContact): say so, with the name it has, instead of nothing.
 */
function AddContact({ contacts }: { contacts: Contact[] }) {
  const [name, setName] = useState('');
  const [address, setAddress] = useState('');
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const add = async (e: Event) => {
    e.preventDefault();
    setError('');
    setNotice('');
    const known = savedAs(contacts, address);
    if (known) return setNotice(tf('ui18.contact.exists', { name: contactLabel(known) }));
    try {
      const before = new Set(contacts.map((c) => c.address));
      const saved = await request<Contact>('add-contact', { address, name });
      if (before.has(saved.address)) return setNotice(tf('ui18.contact.exists', { name: contactLabel(saved) }));
      setName('');
      setAddress('');
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <details class="add-contact">
      <summary>{t('ui18.contact.addTitle')}</summary>
      <form class="form" onSubmit={add}>
        <div class="field">
          <label for="add-name">{t('ui.contact.name')}</label>
          <input id="add-name" value={name} data-testid="contact-name" onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="add-address">{t('ui.contact.addressOrLink')}</label>
          <input
            id="add-address"
            value={address}
            data-testid="contact-address"
            spellcheck={false}
            placeholder="hush1… / web+hush:hush1…"
            onInput={(e) => setAddress((e.target as HTMLInputElement).value)}
          />
        </div>
        <QrPicker id="add-qr" testid="contact-qr" onAddress={setAddress} onError={setError} />
        <button type="submit" data-testid="contact-add" disabled={!address.trim()}>
          {t('ui.contact.save')}
        </button>
        {notice && (
          <p class="notice" role="status" data-testid="contact-exists">
            {notice}
          </p>
        )}
        {error && (
          <p class="error" role="alert" data-testid="contact-error">
            {error}
          </p>
        )}
      </form>
    </details>
  );
}

/** The contact already saved under this address or link, if any (a typo is left to the background to word). */
function savedAs(contacts: Contact[], input: string): Contact | undefined {
  try {
    const address = addressFromLink(input);
    return contacts.find((c) => c.address === address);
  } catch {
    return undefined;
  }
}
