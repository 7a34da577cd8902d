import { useState } from 'preact/hooks';
import type { AppView } from '@/lib/messaging/view';
import { request } from '@/lib/ui/client';
import { errorText, t } from '@/lib/i18n/messages';

export function PrivacySection({ view }: { view: AppView }) {
  const [error, setError] = useState('');
  const set = (privacyMode: boolean) =>
    request('update-settings', { settings: { privacyMode } }).then(
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
          aria-describedby="privacy-help"
          onChange={(e) => void set((e.target as HTMLInputElement).checked)}
        />
        {t('opt.privacy.mode')}
      </label>
      <p id="privacy-help" class="muted small">
        {t('opt.privacy.help')}
      </p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
