import { useAppView } from '@/lib/ui/client';
import { t } from '@/lib/i18n/messages';
import { CallScreen } from './CallScreen';
import { Home } from './Home';

/** The popup: the call when there is one, otherwise identity, dialling and contacts. */
export function Popup() {
  const view = useAppView();
  if (!view) return <main class="loading" aria-busy="true">Hush…</main>;
  return (
    <main>
      <header class="bar">
        <h1>Hush</h1>
        <span class={`relay relay-${view.relay.state}`} data-testid="relay-status" title={view.relay.error ?? view.relay.url ?? ''}>
          {t(`ui.relay.${view.relay.state}`)}
        </span>
      </header>
      {view.call ? <CallScreen call={view.call} /> : <Home view={view} />}
    </main>
  );
}
