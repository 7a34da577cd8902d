/**
 * Hush links: how an address travels in text, in a page and in a QR code.
 *
 *   link     web+hush:hush1k2l6qtjclsklhkj0mkq2zq47jpap74gk290py4
 *   QR       WEB+HUSH:HUSH1K2L6QTJCLSKLHKJ0MKQ2ZQ47JPAP74GK290PY4
 *
 * `web+hush:` is a custom scheme (HTML "custom handlers": the `web+` prefix is
 * what browsers let a site or an extension handle). The QR payload is the
 * same link in upper case: every character is then in the QR alphanumeric
 * set (0-9 A-Z space $%*+-./:), which packs 5.5 bits a character instead of
 * 8, so the code stays at version 3 (29×29) and scans from further away.
 * Addresses are case-insensitive (bech32m), so both forms parse the same.
 * docs/page-api.md documents the forms for site authors.
 */
import { parseAddress } from '../crypto/address';

export const HUSH_SCHEME = 'web+hush:';

/** The link to share: `web+hush:hush1…`. */
export function hushLink(address: string): string {
  return HUSH_SCHEME + parseAddress(address).address;
}

/** What a QR code of this address encodes (upper case: alphanumeric mode). */
export function qrPayload(address: string): string {
  return hushLink(address).toUpperCase();
}

/**
 * The canonical address in a pasted link, scanned QR or typed address.
 * Accepts `web+hush:`/`web+hush://` (any case), percent-encoding (what a
 * protocol handler passes on), and whatever parseAddress accepts. Throws
 * parseAddress's ERR_BAD_ADDRESS with a sentence otherwise.
 */
export function addressFromLink(text: string): string {
  let s = String(text ?? '').trim();
  if (/%[0-9a-f]{2}/i.test(s)) {
    try {
      s = decodeURIComponent(s);
    } catch {
      /* not percent-encoded after all: parse as is */
    }
  }
  return parseAddress(s).address;
}

/** Is this an href a content script should turn into click-to-call? */
export function isHushHref(href: string | null | undefined): boolean {
  return typeof href === 'string' && href.trim().toLowerCase().startsWith(HUSH_SCHEME);
}
