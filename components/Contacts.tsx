import { useState } from 'preact/hooks';
import type { Contact } from '@/lib/messaging/view';
import { request } from '@/lib/ui/client';
import { addressFromQrImage } from '@/lib/ui/qr-read';
import { errorText, t, tf } from '@/lib/i18n/messages';

export function Contacts({ contacts }: { contacts: Contact[] }) {
  return (
    <section class="card" aria-labelledby="contacts-h">
      <h2 id="contacts-h">{t('ui.contacts')}</h2>
      {contacts.length === 0 ? (
        <p class="muted">{t('ui.contacts.empty')}</p>
      ) : (
        <ul class="contacts" data-testid="contacts">
          {contacts.map((c) => (
            <ContactRow key={c.address} contact={c} />
          ))}
        </ul>
      )}
      <AddContact />
    </section>
  );
}

function ContactRow({ contact }: { contact: Contact }) {
  const [error, setError] = useState('');
  const [editing, setEditing] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const act = (p: Promise<unknown>) => p.then(() => setError(''), (e: unknown) => setError(errorText(e)));
  return (
    <li data-testid="contact" data-address={contact.address} data-verified={contact.verified} data-key-changed={!!contact.keyChanged}>
      <span class="name">
        <span data-testid="contact-label">{contact.name}</span>
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
      </span>
      <button type="button" onClick={() => act(request('dial', { address: contact.address }))} aria-label={`${t('ui.contact.call')} ${contact.name}`} data-testid="contact-call">
        {t('ui.contact.call')}
      </button>
      <button
        type="button"
        class="secondary icon-button"
        aria-expanded={editing}
        aria-label={tf('ui.contact.editOf', { name: contact.name })}
        data-testid="contact-edit"
        onClick={() => setEditing(!editing)}
      >
        {t('ui.contact.edit')}
      </button>
      {editing && <EditContact contact={contact} onDone={() => setEditing(false)} />}
      {editing &&
        (confirmDelete ? (
          <button type="button" class="danger" data-testid="contact-delete-confirm" onClick={() => act(request('delete-contact', { address: contact.address }))}>
            {tf('ui.contact.deleteConfirm', { name: contact.name })}
          </button>
        ) : (
          <button type="button" class="secondary" data-testid="contact-delete" onClick={() => setConfirmDelete(true)}>
            {t('ui.contact.delete')}
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
  const [name, setName] = useState(contact.name);
  const [address, setAddress] = useState('');
  const [error, setError] = useState('');
  const id = contact.address.slice(5, 13);
  const save = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      if (name.trim() !== contact.name) await request('rename-contact', { address: contact.address, name });
      if (address.trim()) await request('change-contact-address', { address: contact.address, newAddress: address });
      onDone();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form class="contact-edit" onSubmit={save}>
      <label for={`edit-name-${id}`}>{t('ui.contact.name')}</label>
      <input id={`edit-name-${id}`} data-testid="edit-name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      <label for={`edit-address-${id}`}>{t('ui.contact.newAddress')}</label>
      <input
        id={`edit-address-${id}`}
        data-testid="edit-address"
        value={address}
        spellcheck={false}
        placeholder="web+hush:hush1…"
        onInput={(e) => setAddress((e.target as HTMLInputElement).value)}
      />
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
    <>
      <label for={id}>{t('ui.qr.read')}</label>
      <input id={id} type="file" accept="image/*" data-testid={testid} onChange={(e) => void pick(e)} />
    </>
  );
}

function AddContact() {
  const [name, setName] = useState('');
  const [address, setAddress] = useState('');
  const [error, setError] = useState('');
  const add = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      await request('add-contact', { address, name });
      setName('');
      setAddress('');
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <details class="add-contact">
      <summary>{t('ui.contact.add')}</summary>
      <form onSubmit={add}>
        <label>
          {t('ui.contact.name')}
          <input value={name} data-testid="contact-name" onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {t('ui.contact.addressOrLink')}
          <input
            value={address}
            data-testid="contact-address"
            spellcheck={false}
            placeholder="hush1… / web+hush:hush1…"
            onInput={(e) => setAddress((e.target as HTMLInputElement).value)}
          />
        </label>
        <QrPicker id="add-qr" testid="contact-qr" onAddress={setAddress} onError={setError} />
        <button type="submit" data-testid="contact-add" disabled={!address.trim()}>
          {t('ui.contact.add')}
        </button>
        {error && (
          <p class="error" role="alert" data-testid="contact-error">
            {error}
          </p>
        )}
      </form>
    </details>
  );
}
