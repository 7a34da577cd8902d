/**
 * Contact cards: an address and the relay(s) where its owner can be reached
 * (issue 15, "any two relays").
 *
 *   typed    hush1k2l6qtjclsklhkj0mkq2zq47jpap74gk290py4@relay.example
 *   link     web+hush:hush1k2l6qtjclsklhkj0mkq2zq47jpap74gk290py4@relay.example
 *   several  hush1…@relay.example,backup.example:8443
 *
 * Why this form: it reads like an e-mail address, which people already know
 * how to say aloud and type ("hush-one … at relay dot example"); the part
 * after `@` is only the relay's host (and a port when it is not 443): the
 * scheme and path are fixed by convention (`wss://HOST/signal`), and
 * loopback hosts, which need no TLS, get `ws://` (relay-url.ts).
 *
 * The relay part is a hint, never an identity: the caller still checks the
 * callee's keys against the address (lib/crypto/handshake.ts), so a tampered
 * card can at worst send the call to a relay where nobody answers; it cannot
 * reach someone else. A card without a relay (every address from before
 * issue 15) is rung on the caller's own relay.
 */
import { parseAddress } from '../crypto/address';
import { fail } from '../crypto/errors';
import { canonicalRelayUrl, isLoopbackHost, RelayUrlError } from '../signal/relay-url';

export interface ContactCard {
  /** Canonical address. */
  address: string;
  /** Canonical relay URLs (relay-url.ts), in the owner's order; empty: no hint. */
  relays: string[];
}

const HOST_RE = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?::\d{1,5})?$|^\[[0-9a-f:.]+\](?::\d{1,5})?$/;
const MAX_RELAYS = 4;

/** The relay URL a card's host part names: wss://HOST/signal, ws:// for loopback. */
export function relayUrlOfHost(hostPort: string, opts: { insecureAllowed?: (host: string) => boolean } = {}): string {
  const hp = hostPort.trim().toLowerCase();
  if (!HOST_RE.test(hp)) fail('ERR_BAD_ADDRESS', `“${hostPort}” after @ is not a relay's host name (like relay.example).`);
  const host = hp.replace(/:\d+$/, '');
  const secure = !(isLoopbackHost(host) || opts.insecureAllowed?.(host.replace(/^\[|\]$/g, '')));
  try {
    return canonicalRelayUrl(`${secure ? 'wss' : 'ws'}://${hp}/signal`, opts);
  } catch (e) {
    return fail('ERR_BAD_ADDRESS', e instanceof RelayUrlError ? e.message : `“${hostPort}” after @ is not a relay's host name.`);
  }
}

/** The host part a card writes for a relay URL, or null when the URL does not follow the convention. */
export function hostOfRelayUrl(url: string): string | null {
  let u: URL;
  try {
    u = new URL(canonicalRelayUrl(url, { insecureAllowed: () => true }));
  } catch {
    return null;
  }
  if (u.pathname !== '/signal') return null;
  const loop = isLoopbackHost(u.hostname);
  if ((u.protocol === 'ws:') !== loop) return null;
  const port = u.port && !(u.protocol === 'wss:' && u.port === '443') ? `:${u.port}` : '';
  return u.hostname + port;
}

/**
 * Parse a typed card, a `web+hush:` link or a bare address. Throws
 * ERR_BAD_ADDRESS with a sentence a person can act on.
 */
export function parseCard(text: string, opts: { insecureAllowed?: (host: string) => boolean } = {}): ContactCard {
  let s = String(text ?? '').trim();
  if (/%[0-9a-f]{2}/i.test(s)) {
    try {
      s = decodeURIComponent(s);
    } catch {
      /* not percent-encoded after all */
    }
  }
  const at = s.indexOf('@');
  const addressPart = at < 0 ? s : s.slice(0, at);
  const { address } = parseAddress(addressPart);
  if (at < 0) return { address, relays: [] };
  const hosts = s.slice(at + 1).split(',').map((h) => h.trim()).filter(Boolean);
  if (hosts.length === 0) fail('ERR_BAD_ADDRESS', 'After @ comes the relay’s host name (like relay.example).');
  if (hosts.length > MAX_RELAYS) fail('ERR_BAD_ADDRESS', `A card names at most ${MAX_RELAYS} relays.`);
  return { address, relays: [...new Set(hosts.map((h) => relayUrlOfHost(h, opts)))] };
}

/** The typed form of a card: `hush1…@host[,host…]`; relays that do not follow the convention are left out. */
export function formatCard(address: string, relays: readonly string[]): string {
  const hosts = relays.map(hostOfRelayUrl).filter((h): h is string => h !== null);
  const a = parseAddress(address).address;
  return hosts.length ? `${a}@${hosts.join(',')}` : a;
}
