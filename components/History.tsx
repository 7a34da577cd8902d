import { useState } from 'preact/hooks';
import type { Contact, HistoryEntry } from '@/lib/messaging/view';
import { errorText, t, tf } from '@/lib/i18n/messages';
import { formatDuration, request } from '@/lib/ui/client';
import { aboutToDial } from '@/lib/ui/about-to-dial';
import { contactLabel, formatWhen, historyKind, historyLabel, isMissedKind, shortAddress } from '@/lib/ui/display';

/**
 * Recent calls, kept only on this device: what kind of call (from the end reason
 * the background records), who, when (time today, date and time before). A row is
 * a button: it calls the person back; the name beside it opens the contact.
 */
export function History({
  entries,
  contacts,
  onOpenContact,
  blocked = [],
}: {
  entries: HistoryEntry[];
  contacts: Contact[];
  onOpenContact?(address: string): void;
  blocked?: string[];
}) {
  const [error, setError] = useState('');
  if (entries.length === 0) return null;
  const now = Date.now();
  return (
    <section class="card" aria-labelledby="history-h">
      <h2 id="history-h">{t('ui.history')}</h2>
      <ul class="history" data-testid="history">
        {entries.slice(0, 10).map((e) => {
          const kind = historyKind(e);
          const contact = contacts.find((c) => c.address === e.address);
          const who = contact ? contactLabel(contact) : shortAddress(e.address);
          return (
            <li key={`${e.at}-${e.address}`} data-testid="history-entry" data-outcome={e.outcome} data-kind={kind} class={isMissedKind(kind) ? 'missed' : ''}>
              <button
                type="button"
                class="row-action"
                data-testid="history-call"
                onPointerEnter={aboutToDial}
                onFocus={aboutToDial}
                aria-label={`${tf('ui18.history.callBackOf', { name: who })} · ${historyLabel(kind)} · ${formatWhen(e.at, now)}`}
                onClick={() => void request('dial', { address: e.address }).then(() => setError(''), (err: unknown) => setError(errorText(err)))}
              >
                <span class="kind" data-testid="history-kind">
                  {historyLabel(kind)}
                </span>
                <span class="name">{who}</span>
                <time dateTime={new Date(e.at).toISOString()} data-testid="history-when">
                  {formatWhen(e.at, now)}
                  {e.durationMs !== undefined ? ` · ${formatDuration(e.durationMs)}` : ''}
                </time>
              </button>
              {contact && onOpenContact && (
                <button
                  type="button"
                  class="secondary icon-button"
                  data-testid="history-open-contact"
                  aria-label={tf('ui18.history.openContact', { name: who })}
                  title={tf('ui18.history.openContact', { name: who })}
                  onClick={() => onOpenContact(e.address)}
                >
                  <span aria-hidden="true">👤</span>
                </button>
              )}
              {blocked.includes(e.address) ? (
                <span class="muted small" data-testid="history-blocked">
                  {t('ui.history.blocked')}
                </span>
              ) : (
                e.direction === 'incoming' && (
                  <button type="button" class="secondary small" data-testid="history-block" onClick={() => void request('block-address', { address: e.address })}>
                    {t('ui.history.block')}
                  </button>
                )
              )}
            </li>
          );
        })}
      </ul>
      {error && (
        <p class="error" role="alert" data-testid="history-error">
          {error}
        </p>
      )}
      <div class="history-actions">
        <span class="muted small">{t('ui.history.local')}</span>
        <button type="button" class="secondary" data-testid="history-clear" onClick={() => void request('clear-history')}>
          {t('ui.history.clear')}
        </button>
      </div>
    </section>
  );
}
