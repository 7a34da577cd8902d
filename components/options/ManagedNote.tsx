import { t } from '@/lib/i18n/messages';

/**
 * The sentence under a setting the organisation manages (enterprise policy,
 * lib/background/managed-settings.ts): the controls above it are disabled.
 */
export function ManagedNote({ id }: { id: string }) {
  return (
    <p id={id} class="muted small managed" data-testid="managed-note">
      🔒 {t('mgd.setByOrg')}
    </p>
  );
}

/** Whether the organisation sets `key`. */
export function isManaged(view: { managed?: string[] }, key: 'relays' | 'privacyMode'): boolean {
  return !!view.managed?.includes(key);
}
