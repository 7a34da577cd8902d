import { useState } from 'preact/hooks';
import { t } from '@/lib/i18n/messages';
import { hushLink } from '@/lib/contacts/link';
import { QrCode } from './QrCode';

/** Your address, readable in groups, with copy, copy-link and a QR code to show. */
export function IdentityCard({ address, bare = false, qrOpen = false }: { address: string; bare?: boolean; qrOpen?: boolean }) {
  const [copied, setCopied] = useState<'' | 'address' | 'link'>('');
  const [showQr, setShowQr] = useState(qrOpen);
  const copy = async (what: 'address' | 'link') => {
    await navigator.clipboard.writeText(what === 'link' ? hushLink(address) : address).catch(() => {});
    setCopied(what);
    setTimeout(() => setCopied(''), 1500);
  };
  const body = (
    <>
      <div class="row">
        <code class="address" data-testid="my-address" data-address={address}>
          {address}
        </code>
      </div>
      <div class="row wrap">
        <button type="button" class="secondary" onClick={() => void copy('address')} data-testid="copy-address">
          {copied === 'address' ? t('ui.copied') : t('ui.copy')}
        </button>
        <button type="button" class="secondary" onClick={() => void copy('link')} data-testid="copy-link">
          {copied === 'link' ? t('ui.copied') : t('ui.copyLink')}
        </button>
        {!qrOpen && (
          <button type="button" class="secondary" aria-expanded={showQr} data-testid="show-qr" onClick={() => setShowQr(!showQr)}>
            {showQr ? t('ui.qr.hide') : t('ui.qr.show')}
          </button>
        )}
      </div>
      {showQr && (
        <div class="qr-box">
          <QrCode address={address} />
        </div>
      )}
    </>
  );
  if (bare) return <div class="identity">{body}</div>;
  return (
    <section class="card identity" aria-labelledby="your-address">
      <h2 id="your-address">{t('ui.yourAddress')}</h2>
      {body}
    </section>
  );
}
