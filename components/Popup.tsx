import { useEffect } from 'preact/hooks';
import { browser } from 'wxt/browser';
import { useAppView } from '@/lib/ui/client';
import { t, uiLang } from '@/lib/i18n/messages';
import { CallScreen } from './CallScreen';
import { Home } from './Home';

/** The popup: the call when there is one, otherwise identity, dialling and contacts. */
export function Popup() {
  const view = useAppView();
  useEffect(() => {
    document.documentElement.lang = uiLang();
  }, []);
  if (!view) return <main class="loading" aria-busy="true">Hush…</main>;
  return (
    <main>
      <header class="bar">
        <h1>Hush</h1>
        <button type="button" class="secondary icon-button" data-testid="open-options" onClick={() => void browser.runtime.openOptionsPage()}>
          {t('ui.settings')}
        </button>
        <span class={`relay relay-${view.relay.state}`} data-testid="relay-status" title={view.relay.error ?? view.relay.url ?? ''}>
          {t(`ui.relay.${view.relay.state}`)}
        </span>
      </header>
      {view.call ? <CallScreen call={view.call} ringtone={view.settings.ringtone} /> : <Home view={view} />}
    </main>
  );
}
