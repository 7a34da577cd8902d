import { browser } from 'wxt/browser';
import { MicrophoneStep } from '@/components/permission/MicrophoneStep';
import { t } from '@/lib/i18n/messages';
import type { RelayStatus } from '@/lib/messaging/view';
import { useAppView } from '@/lib/ui/client';

/**
 * The first-run page, opened in a tab on install (entrypoints/background.ts):
 * what Hush is, the person's address, the microphone asked for with the
 * browser's real prompt and a level to check it, the relay's reachability
 * (the live AppView), and the way to the identity backup. Every step is
 * optional: closing the tab early leaves Hush working as before, and a call
 * that needs the microphone later asks for it in its own window.
 */
export function Welcome() {
  const view = useAppView();
  const backupUrl = browser.runtime.getURL('/options.html') + '#identity';
  return (
    <main class="welcome-page">
      <h1>{t('welcome.title')}</h1>
      <p data-testid="welcome-intro">{t('welcome.intro')}</p>

      <section class="card" aria-labelledby="welcome-address-h">
        <h2 id="welcome-address-h">{t('ui.yourAddress')}</h2>
        <code class="address" data-testid="welcome-address">
          {view?.address ?? '…'}
        </code>
        <p class="muted small">{t('welcome.addressHelp')}</p>
      </section>

      <section class="card" aria-labelledby="welcome-mic-h">
        <h2 id="welcome-mic-h">{t('mic.title')}</h2>
        <MicrophoneStep level inputDeviceId={view?.settings.inputDeviceId} />
      </section>

      <section class="card" aria-labelledby="welcome-relay-h">
        <h2 id="welcome-relay-h">{t('welcome.relay')}</h2>
        <RelayLine relay={view?.relay} />
      </section>

      <section class="card" aria-labelledby="welcome-backup-h">
        <h2 id="welcome-backup-h">{t('welcome.backup')}</h2>
        <p class="small">{t('welcome.backupHelp')}</p>
        <a href={backupUrl} target="_blank" data-testid="welcome-backup">
          {t('welcome.backupLink')}
        </a>
      </section>

      <p class="muted small">{t('welcome.done')}</p>
    </main>
  );
}

function RelayLine({ relay }: { relay?: RelayStatus }) {
  const state = relay?.state ?? 'connecting';
  return (
    <p class={`relay-line relay-${state}`} role="status" data-testid="welcome-relay" data-state={state}>
      {t(`welcome.relay.${state}`)}
    </p>
  );
}
