import { useState } from 'preact/hooks';
import type { Contact } from '@/lib/messaging/view';
import { request } from '@/lib/ui/client';
import { t } from '@/lib/i18n/messages';

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
  const call = () => request('dial', { address: contact.address }).catch((e: Error) => setError(e.message));
  return (
    <li data-testid="contact" data-address={contact.address}>
      <span class="name">
        {contact.name}
        {contact.verified && (
          <span class="badge verified" title={t('ui.contact.verified')} data-testid="verified-badge">
            ✓ {t('ui.contact.verified')}
          </span>
        )}
      </span>
      <button type="button" onClick={call} aria-label={`${t('ui.contact.call')} ${contact.name}`} data-testid="contact-call">
        {t('ui.contact.call')}
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </li>
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
      setError((err as Error).message);
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
          {t('ui.contact.address')}
          <input
            value={address}
            data-testid="contact-address"
            spellcheck={false}
            onInput={(e) => setAddress((e.target as HTMLInputElement).value)}
          />
        </label>
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
