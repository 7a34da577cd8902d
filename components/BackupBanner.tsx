import { browser } from 'wxt/browser';
import { t } from '@/lib/i18n/messages';

/**
 * Shown from first run until the identity is exported (or imported): a new
 * identity exists only in this browser's storage, and losing that storage
 * would lose the address silently. docs/user-guide.md says how to restore.
 */
export function BackupBanner({ inOptions = false }: { inOptions?: boolean }) {
  const go = () => {
    if (inOptions) document.getElementById('export-passphrase')?.focus();
    else void browser.runtime.openOptionsPage();
  };
  return (
    <section class="card banner" role="status" data-testid="backup-banner">
      <p>{t('ui.backup.banner')}</p>
      <button type="button" data-testid="backup-action" onClick={go}>
        {t('ui.backup.action')}
      </button>
    </section>
  );
}
