import type { RelayStatus } from '@/lib/messaging/view';
import { t, tf } from '@/lib/i18n/messages';

/**
 * The relay connection as a small badge. Its tooltip is in the UI's language:
 * the relay's address, never the background's English error text.
 */
export function RelayBadge({ relay }: { relay: RelayStatus }) {
  const title = relay.url ? `${t(`ui.relay.${relay.state}`)} · ${tf('ui18.relay.tooltip', { url: relay.url })}` : t('ui18.relay.tooltipNone');
  return (
    <span class={`relay relay-${relay.state}`} data-testid="relay-status" data-state={relay.state} data-url={relay.url ?? ''} title={title}>
      {t(`ui.relay.${relay.state}`)}
    </span>
  );
}
