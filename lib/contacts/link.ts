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
import { isLoopbackHost } from '../signal/relay-url';

export const HUSH_SCHEME = 'web+hush:';

/** The link to share: `web+hush:hush1…`. */
export function hushLink(address: string): string {
  return HUSH_SCHEME + parseAddress(address).address;
}

/**
 * What a QR code of this address encodes (upper case: alphanumeric mode); with
 * a typed card on an https relay, its contact link instead (as is: the path and
 * fragment are case-sensitive), which a phone's camera opens for anyone.
 */
export function qrPayload(address: string, typedCard?: string, relayUrl?: string): string {
  const link = typedCard && relayUrl?.startsWith('wss:') ? contactLink(typedCard) : null;
  return link ?? hushLink(address).toUpperCase();
}

/**
 * The canonical address in a pasted link, scanned QR or typed address.
 * Accepts `web+hush:`/`web+hush://` (any case), percent-encoding (what a
 * protocol handler passes on), and whatever parseAddress accepts. Throws
 * parseAddress's ERR_BAD_ADDRESS with a sentence otherwise.
 */
export function addressFromLink(text: string): string {
  let s = String(text ?? '').trim();
  // A contact link (https://relay.example/c#hush1…@relay.example, a scanned QR code): its address.
  const card = /^https?:/i.test(s) ? cardFromContactHref(s) : null;
  if (card) s = card.slice(0, card.indexOf('@'));
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

/**
 * Contact links (issue 18): an https form of a card that works for everyone.
 *
 *   https://relay.example/c#hush1k2l6…@relay.example
 *
 * The callee's own relay serves a short page at `/c` (relay-server
 * net/contact-page.ts: "to call this person, install Hush", and the card to
 * copy). The card is in the fragment, which browsers never send, so the relay
 * never learns whom the page is about. With Hush installed, the content
 * script handles a click on such a link like a `web+hush:` link.
 *
 * Recognised only when the link's host is one of the card's relays: the
 * page at `/c` is that relay's, and a card naming another relay on some
 * site's `/c` path is more likely a page of its own than a Hush link (and
 * would send the person's click to a confirmation they did not expect).
 * Loopback relays (tests, a relay on this machine) use http.
 */
export const CONTACT_PATH = '/c';

/** The https contact link of a typed card (`hush1…@host[,host…]`), on its first relay; null without one. */
export function contactLink(typedCard: string): string | null {
  const s = typedCard.trim().replace(/^web\+hush:(\/\/)?/i, '');
  const at = s.indexOf('@');
  if (at < 0) return null;
  const host = s.slice(at + 1).split(',')[0]!.trim().toLowerCase();
  if (!host) return null;
  const loop = isLoopbackHost(host.replace(/:\d+$/, ''));
  return `${loop ? 'http' : 'https'}://${host}${CONTACT_PATH}#${s}`;
}

/** The typed card an href (absolute, or relative to `base`) carries as a contact link, or null. */
export function cardFromContactHref(href: string | null | undefined, base?: string): string | null {
  if (typeof href !== 'string') return null;
  let u: URL;
  try {
    u = base === undefined ? new URL(href.trim()) : new URL(href.trim(), base);
  } catch {
    return null;
  }
  if (u.pathname !== CONTACT_PATH || u.search || !u.hash) return null;
  let card = u.hash.slice(1);
  try {
    card = decodeURIComponent(card);
  } catch {
    return null;
  }
  card = card.trim().replace(/^web\+hush:(\/\/)?/i, '');
  const at = card.indexOf('@');
  if (at < 0) return null;
  const loop = isLoopbackHost(u.hostname);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loop)) return null;
  // The link's host, as a card writes it: the port only when it is not the scheme's default.
  const linkHost = u.host.toLowerCase();
  const hosts = card.slice(at + 1).split(',').map((h) => h.trim().toLowerCase().replace(/:443$/, ''));
  if (!hosts.includes(linkHost)) return null;
  try {
    parseAddress(card.slice(0, at));
  } catch {
    return null;
  }
  return card;
}
