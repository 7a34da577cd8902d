import { encode } from 'uqr';
import { qrPayload } from '@/lib/contacts/link';
import { tf } from '@/lib/i18n/messages';

/**
 * The QR code of a Hush address (the upper-case link, alphanumeric mode: lib/contacts/link.ts), as SVG;
 * with a card on an https relay, its contact link (https://relay/c#card).
 */
export function QrCode({ address, card, relay, size = 200 }: { address: string; card?: string; relay?: string; size?: number }) {
  const qr = encode(qrPayload(address, card, relay), { ecc: 'M', border: 4 });
  let d = '';
  qr.data.forEach((row, y) =>
    row.forEach((on, x) => {
      if (on) d += `M${x} ${y}h1v1h-1z`;
    }),
  );
  return (
    <svg
      class="qr"
      data-testid="qr"
      role="img"
      aria-label={tf('ui.qr.alt', { address })}
      width={size}
      height={size}
      viewBox={`0 0 ${qr.size} ${qr.size}`}
      shape-rendering="crispEdges"
    >
      <rect width={qr.size} height={qr.size} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}
