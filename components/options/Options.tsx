import { useEffect } from 'preact/hooks';
import { useAppView } from '@/lib/ui/client';
import { t, uiLang } from '@/lib/i18n/messages';
import { BackupBanner } from '../BackupBanner';
import { RelayBadge } from '../RelayBadge';
import { IdentitySection } from './IdentitySection';
import { RelaysSection } from './RelaysSection';
import { PrivacySection } from './PrivacySection';
import { AudioSection } from './AudioSection';
import { SitesSection } from './SitesSection';
import { HistorySection } from './HistorySection';

/** The options page: identity backup, relays, privacy, audio, sites, history. */
export function Options() {
  const view = useAppView();
  useEffect(() => {
    document.documentElement.lang = uiLang();
    document.title = t('opt.title');
  }, []);
  if (!view) return <main class="options loading" aria-busy="true">Hush…</main>;
  return (
    <main class="options">
      <header class="bar">
        <h1>{t('opt.title')}</h1>
        <RelayBadge relay={view.relay} />
      </header>
      {view.backupNeeded && <BackupBanner inOptions />}
      <IdentitySection view={view} />
      <RelaysSection view={view} />
      <PrivacySection view={view} />
      <AudioSection view={view} />
      <SitesSection view={view} />
      <HistorySection view={view} />
    </main>
  );
}
