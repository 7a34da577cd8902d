import { useEffect } from 'preact/hooks';
import { useAppView } from '@/lib/ui/client';
import { t, uiLang } from '@/lib/i18n/messages';
import { CallScreen } from '../CallScreen';
import './call-window.css';

/**
 * Firefox's call window (entrypoints/call): the call and nothing else. It is
 * the popup's call screen (who, state, path, quality, the security code once
 * connected, mute, hang up, Accept/Decline for an incoming call) in a layout
 * of its own: no Settings button, no relay badge, no contacts, and the card
 * fills the window, so there is no blank space under it (issue 21, point 7).
 *
 * The window is sized for Firefox's microphone prompt (call-window.ts), which
 * drops down from the top of this window.
 */
export function CallWindow() {
  const view = useAppView();
  useEffect(() => {
    document.documentElement.lang = uiLang();
    // Firefox shows the page title in the window's title bar; it prefixes it for extension
    // windows (docs/firefox.md), so the page's own part stays short.
    document.title = t('ffx.callWindow.title');
  }, []);
  if (!view) return <main class="call-window loading" aria-busy="true">Hush…</main>;
  return (
    <main class="call-window" data-testid="call-window">
      <p class="call-window-brand" aria-hidden="true">
        Hush
      </p>
      {view.call ? (
        <CallScreen call={view.call} ringtone={view.settings.ringtone} />
      ) : (
        <section class="card call call-none" data-testid="call-window-empty">
          <p>{t('ffx.callWindow.none')}</p>
          <button type="button" class="secondary" data-testid="call-window-close" onClick={() => window.close()}>
            {t('ui.call.close')}
          </button>
        </section>
      )}
    </main>
  );
}
