import { useState } from 'preact/hooks';
import type { AppView } from '@/lib/messaging/view';
import { request } from '@/lib/ui/client';
import { t, tf } from '@/lib/i18n/messages';

export function HistorySection({ view }: { view: AppView }) {
  const [done, setDone] = useState(false);
  const clear = async () => {
    await request('clear-history');
    setDone(true);
  };
  return (
    <section class="card" aria-labelledby="history-opt-h">
      <h2 id="history-opt-h">{t('opt.history')}</h2>
      <p class="muted small" data-testid="history-count" data-count={view.history.length}>
        {tf('opt.history.count', { n: view.history.length })}
      </p>
      <button type="button" class="secondary" data-testid="history-clear" disabled={view.history.length === 0} onClick={() => void clear()}>
        {t('ui.history.clear')}
      </button>
      {done && view.history.length === 0 && (
        <p class="muted small" role="status">
          {t('opt.history.cleared')}
        </p>
      )}
    </section>
  );
}
