import { useState } from 'preact/hooks';
import type { AppView } from '@/lib/messaging/view';
import { request } from '@/lib/ui/client';
import { errorText, t } from '@/lib/i18n/messages';
import { isManaged, ManagedNote } from './ManagedNote';

export function PrivacySection({ view }: { view: AppView }) {
  const [error, setError] = useState('');
  const set = (settings: { privacyMode?: boolean; contactsOnly?: boolean }) =>
    request('update-settings', { settings }).then(
      () => setError(''),
      (e: unknown) => setError(errorText(e)),
    );
  return (
    <section class="card" aria-labelledby="privacy-h">
      <h2 id="privacy-h">{t('opt.privacy')}</h2>
      <label class="check">
        <input
          type="checkbox"
          data-testid="privacy-mode"
          checked={view.settings.privacyMode}
          disabled={isManaged(view, 'privacyMode')}
          aria-describedby={isManaged(view, 'privacyMode') ? 'privacy-help privacy-managed' : 'privacy-help'}
          onChange={(e) => void set({ privacyMode: (e.target as HTMLInputElement).checked })}
        />
        {t('opt.privacy.mode')}
      </label>
      <p id="privacy-help" class="muted small">
        {t('opt.privacy.help')}
      </p>
      {isManaged(view, 'privacyMode') && <ManagedNote id="privacy-managed" />}
      <CallersBlock view={view} set={set} onError={setError} />
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

/** Who may ring (issue 14): "only my contacts" and the blocked addresses, each with Unblock. */
interface CallersProps {
  view: AppView;
  set(s: { contactsOnly: boolean }): Promise<void>;
  onError(m: string): void;
}

function CallersBlock({ view, set, onError }: CallersProps) {
  const blocked = view.blocked ?? [];
  const unblock = (address: string) => request('unblock-address', { address }).catch((e: unknown) => onError(errorText(e)));
  return (
    <>
      <label class="check">
        <input
          type="checkbox"
          data-testid="contacts-only"
          checked={!!view.settings.contactsOnly}
          aria-describedby="contacts-only-help"
          onChange={(e) => void set({ contactsOnly: (e.target as HTMLInputElement).checked })}
        />
        {t('opt.privacy.contactsOnly')}
      </label>
      <p id="contacts-only-help" class="muted small">
        {t('opt.privacy.contactsOnlyHelp')}
      </p>
      <h3 id="blocked-h">{t('opt.privacy.blocked')}</h3>
      {blocked.length === 0 ? (
        <p class="muted small" data-testid="blocked-none">
          {t('opt.privacy.blockedNone')}
        </p>
      ) : (
        <ul class="blocked" aria-labelledby="blocked-h" data-testid="blocked-list">
          {blocked.map((a) => (
            <li key={a} data-testid="blocked-entry">
              <code class="address">{a}</code>
              <button type="button" class="secondary" data-testid="unblock" onClick={() => void unblock(a)}>
                {t('opt.privacy.unblock')}
              </button>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
