import { useState } from 'preact/hooks';
import { t } from '@/lib/i18n/messages';

/** Your address, readable in groups, with a copy button. */
export function IdentityCard({ address }: { address: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    await navigator.clipboard.writeText(address).catch(() => {});
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  return (
    <section class="card identity" aria-labelledby="your-address">
      <h2 id="your-address">{t('ui.yourAddress')}</h2>
      <div class="row">
        <code class="address" data-testid="my-address" data-address={address}>
          {address}
        </code>
        <button type="button" class="secondary" onClick={copy} data-testid="copy-address">
          {copied ? t('ui.copied') : t('ui.copy')}
        </button>
      </div>
    </section>
  );
}
