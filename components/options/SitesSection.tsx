import type { AppView } from '@/lib/messaging/view';
import { request } from '@/lib/ui/client';
import { t, tf } from '@/lib/i18n/messages';

/** Sites allowed "always" to call one address through the page API (docs/page-api.md), with revoke. */
export function SitesSection({ view }: { view: AppView }) {
  const origins = view.settings.pageOrigins ?? [];
  const revoke = (origin: string) => request('update-settings', { settings: { pageOrigins: origins.filter((o) => o !== origin) } });
  return (
    <section class="card" aria-labelledby="sites-h">
      <h2 id="sites-h">{t('opt.sites')}</h2>
      <p class="muted small">{t('opt.sites.help')}</p>
      <label class="row">
        <input
          type="checkbox"
          data-testid="page-indicator"
          checked={view.settings.pageIndicator !== false}
          onChange={(e) => void request('update-settings', { settings: { pageIndicator: (e.target as HTMLInputElement).checked } })}
        />
        {t('opt.sites.indicator')}
      </label>
      {origins.length === 0 ? (
        <p class="muted" data-testid="sites-empty">
          {t('opt.sites.empty')}
        </p>
      ) : (
        <ul class="list">
          {origins.map((o) => (
            <li key={o} data-testid="site" data-origin={o}>
              {/* "<origin> <address>": an "always" grant for one address (issue 13). */}
              <code class="grow">{o.replace(' ', ' → ')}</code>
              <button type="button" class="secondary" data-testid="site-revoke" aria-label={tf('opt.sites.revokeOf', { origin: o })} onClick={() => void revoke(o)}>
                {t('opt.sites.revoke')}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
