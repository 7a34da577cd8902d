import { useState } from 'preact/hooks';
import type { AppView } from '@/lib/messaging/view';
import { request } from '@/lib/ui/client';
import { aboutToDial } from '@/lib/ui/about-to-dial';
import { errorText, t } from '@/lib/i18n/messages';
import { IdentityCard } from './IdentityCard';
import { Contacts } from './Contacts';
import { History } from './History';
import { BackupBanner } from './BackupBanner';

export function Home({ view }: { view: AppView }) {
  /** A history row's "open contact": that contact's row, scrolled to and focused. */
  const [focusAddress, setFocusAddress] = useState<string>();
  return (
    <>
      {view.backupNeeded && <BackupBanner />}
      <IdentityCard address={view.address} relay={view.relay.state === 'online' ? view.relay.url : undefined} />
      <DialForm />
      <Contacts contacts={view.contacts} focusAddress={focusAddress} blocked={view.blocked} />
      <History entries={view.history} contacts={view.contacts} onOpenContact={setFocusAddress} blocked={view.blocked} />
    </>
  );
}

function DialForm() {
  const [address, setAddress] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const dial = async (e: Event) => {
    e.preventDefault();
    setError('');
    setBusy(true);
    try {
      await request('dial', { address });
      setAddress('');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card dial" onSubmit={dial}>
      <label for="dial-address">{t('ui.dial.label')}</label>
      <div class="row">
        <input
          id="dial-address"
          data-testid="dial-address"
          value={address}
          placeholder={t('ui.dial.placeholder')}
          autocomplete="off"
          spellcheck={false}
          onInput={(e) => {
            setAddress((e.target as HTMLInputElement).value);
            aboutToDial();
          }}
          aria-invalid={!!error}
          aria-describedby={error ? 'dial-error' : undefined}
        />
        <button type="submit" data-testid="dial-button" disabled={busy || !address.trim()}>
          {t('ui.dial.button')}
        </button>
      </div>
      {error && (
        <p id="dial-error" class="error" role="alert" data-testid="dial-error">
          {error}
        </p>
      )}
    </form>
  );
}
