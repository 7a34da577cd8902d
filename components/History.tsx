import type { Contact, HistoryEntry } from '@/lib/messaging/view';
import { t } from '@/lib/i18n/messages';
import { formatDuration, request } from '@/lib/ui/client';

/** Recent calls, kept only on this device. */
export function History({ entries, contacts, blocked = [] }: { entries: HistoryEntry[]; contacts: Contact[]; blocked?: string[] }) {
  if (entries.length === 0) return null;
  const name = (a: string) => contacts.find((c) => c.address === a)?.name ?? `${a.slice(0, 14)}…`;
  return (
    <section class="card" aria-labelledby="history-h">
      <h2 id="history-h">{t('ui.history')}</h2>
      <ul class="history" data-testid="history">
        {entries.slice(0, 10).map((e) => (
          <li key={`${e.at}-${e.address}`} data-testid="history-entry" data-outcome={e.outcome} class={e.outcome === 'missed' ? 'missed' : ''}>
            <span>{e.outcome === 'missed' ? t('ui.history.missed') : t(e.direction === 'incoming' ? 'ui.history.incoming' : 'ui.history.outgoing')}</span>
            <span class="name">{name(e.address)}</span>
            <time dateTime={new Date(e.at).toISOString()}>
              {new Date(e.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}
              {e.durationMs !== undefined ? ` · ${formatDuration(e.durationMs)}` : ''}
            </time>
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
        ))}
      </ul>
      <div class="history-actions">
        <span class="muted small">{t('ui.history.local')}</span>
        <button type="button" class="secondary" data-testid="history-clear" onClick={() => void request('clear-history')}>
          {t('ui.history.clear')}
        </button>
      </div>
    </section>
  );
}
