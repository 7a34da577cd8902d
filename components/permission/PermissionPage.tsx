import { t } from '@/lib/i18n/messages';
import { MicrophoneStep } from './MicrophoneStep';

/**
 * The small window the background opens when a call needs the microphone and
 * the permission is still `prompt` (or `denied`): an offscreen document cannot
 * show the browser's prompt, this page can (lib/ui/mic-permission.ts). The
 * answer goes to the background as a `mic-permission` message.
 */
export function PermissionPage() {
  return (
    <main class="permission-page">
      <h1>{t('mic.needed')}</h1>
      <section class="card" aria-label={t('mic.title')}>
        <MicrophoneStep forCall />
      </section>
    </main>
  );
}
