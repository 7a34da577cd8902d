/**
 * Read a Hush address from a picture of a QR code (a file the user picks:
 * a screenshot, a photo). jsQR (pure JS) decodes the pixels; the payload
 * must be a Hush link or address (lib/contacts/link.ts), else a sentence.
 */
import jsQR from 'jsqr';
import { addressFromLink } from '../contacts/link';
import { t } from '../i18n/messages';

export async function addressFromQrImage(file: Blob): Promise<string> {
  const bitmap = await createImageBitmap(file).catch(() => {
    throw new Error(t('ui.qr.notFound'));
  });
  const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
  const w = Math.max(1, Math.round(bitmap.width * scale));
  const h = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, h);
  ctx.drawImage(bitmap, 0, 0, w, h);
  bitmap.close();
  const img = ctx.getImageData(0, 0, w, h);
  const code = jsQR(img.data, w, h, { inversionAttempts: 'attemptBoth' });
  if (!code) throw new Error(t('ui.qr.notFound'));
  try {
    return addressFromLink(code.data);
  } catch {
    throw new Error(t('ui.qr.notFound'));
  }
}
