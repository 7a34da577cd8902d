import { useState } from 'preact/hooks';
import { t } from '@/lib/i18n/messages';
import { HUSH_SCHEME, contactLink, hushLink } from '@/lib/contacts/link';
import { formatCard } from '@/lib/contacts/card';
import { QrCode } from './QrCode';

/**
 * Your address, readable in groups, with copy, copy-link and a QR code to show. With `relay` (the
 * relay you are connected to), also your contact card `hush1…@relay.example` (lib/contacts/card.ts):
 * what people on other relays dial; the link copied carries it too.
 */
export function IdentityCard({ address, relay, bare = false, qrOpen = false }: { address: string; relay?: string; bare?: boolean; qrOpen?: boolean }) {
  const card = relay ? formatCard(address, [relay]) : address;
  const schemeLink = card === address ? hushLink(address) : HUSH_SCHEME + card;
  // On an https (wss) relay, "copy link" copies the contact link that works for everyone (issue 18):
  // https://relay.example/c#card, a page on that relay; web+hush: stays one button away.
  const httpsLink = card !== address && relay?.startsWith('wss:') ? contactLink(card) : null;
  const [copied, setCopied] = useState<'' | 'address' | 'link' | 'scheme'>('');
  const [showQr, setShowQr] = useState(qrOpen);
  const copy = async (what: 'address' | 'link' | 'scheme') => {
    const text = what === 'address' ? address : what === 'scheme' ? schemeLink : (httpsLink ?? schemeLink);
    await navigator.clipboard.writeText(text).catch(() => {});
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
      {card !== address && (
        <div class="row">
          <code class="address card-form" data-testid="my-card" data-card={card}>
            {card}
          </code>
        </div>
      )}
      <div class="row wrap">
        <button type="button" class="secondary" onClick={() => void copy('address')} data-testid="copy-address">
          {copied === 'address' ? t('ui.copied') : t('ui.copy')}
        </button>
        <button type="button" class="secondary" onClick={() => void copy('link')} data-testid="copy-link">
          {copied === 'link' ? t('ui.copied') : t('ui.copyLink')}
        </button>
        {httpsLink && (
          <button type="button" class="secondary" onClick={() => void copy('scheme')} data-testid="copy-scheme-link" title={schemeLink}>
            {copied === 'scheme' ? t('ui.copied') : t('link18.copySchemeLink')}
          </button>
        )}
        {!qrOpen && (
          <button type="button" class="secondary" aria-expanded={showQr} data-testid="show-qr" onClick={() => setShowQr(!showQr)}>
            {showQr ? t('ui.qr.hide') : t('ui.qr.show')}
          </button>
        )}
      </div>
      {showQr && (
        <div class="qr-box">
          <QrCode address={address} card={card !== address ? card : undefined} relay={relay} />
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
