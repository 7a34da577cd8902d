import { useEffect } from 'preact/hooks';
import { browser } from 'wxt/browser';
import { useAppView } from '@/lib/ui/client';
import { t, uiLang } from '@/lib/i18n/messages';
import { CallScreen } from './CallScreen';
import { Home } from './Home';
import { RelayBadge } from './RelayBadge';

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
        <RelayBadge relay={view.relay} />
        <button
          type="button"
          class="secondary icon-button settings"
          data-testid="open-options"
          title={t('ui18.settingsOf')}
          onClick={() => void browser.runtime.openOptionsPage()}
        >
          {t('ui.settings')}
        </button>
      </header>
      {view.call ? <CallScreen call={view.call} ringtone={view.settings.ringtone} /> : <Home view={view} />}
    </main>
  );
}
