/**
 * Relay signalling URLs (docs/relay-protocol.md §Version 2): the one
 * canonical form both ends sign and check, and the rule that a remote relay
 * is reached over `wss://` only.
 *
 *   canonical = scheme "://" host ":" port path        e.g. wss://relay.example:443/signal
 *
 * The scheme and host are lower case (URL parsing does that), the port is
 * always written (the scheme's default when the URL leaves it out), IPv6
 * hosts keep their brackets, the path is kept as given ("/" when empty), and
 * query and fragment are dropped. The mailbox proof signs this string and the
 * per-relay mailbox key is derived from it (lib/crypto/mailbox-auth.ts), so
 * a proof made for one relay is worth nothing at another.
 *
 * `ws://` is accepted only for loopback hosts (127.0.0.0/8, ::1, localhost):
 * on any other host the WebSocket would carry the mailbox proof and every
 * envelope in the clear, and a network attacker could play the relay.
 * (`insecureAllowed`: the test builds' exception for the NAT lab's
 * documentation-range relay, lib/testing/hooks.ts; never in store builds.)
 *
 * Pure: no DOM, no Node API (imported by the extension and the relay).
 */

export type RelayUrlErrorCode = 'ERR_BAD_RELAY_URL' | 'ERR_INSECURE_RELAY';

export class RelayUrlError extends Error {
  override readonly name = 'RelayUrlError';
  constructor(
    readonly code: RelayUrlErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** 127.0.0.0/8, ::1 and localhost (with or without IPv6 brackets). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (/^::ffff:127\.\d+\.\d+\.\d+$/.test(h)) return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * The canonical form of a relay URL a person entered or a card carried.
 * Throws RelayUrlError with a sentence a person can act on: not a ws(s) URL,
 * or `ws://` for a host that is not loopback (ERR_INSECURE_RELAY).
 */
export function canonicalRelayUrl(input: string, opts: { insecureAllowed?: (host: string) => boolean } = {}): string {
  const canonical = canonicalForm(input);
  const host = new URL(canonical).hostname;
  if (canonical.startsWith('ws:') && !isLoopbackHost(host) && !opts.insecureAllowed?.(host)) {
    throw new RelayUrlError(
      'ERR_INSECURE_RELAY',
      `“${String(input).trim()}” uses ws://, which is unencrypted: a relay on another machine must be reached with wss://.`,
    );
  }
  return canonical;
}

/**
 * The canonical form alone, without the wss rule: what a relay computes for
 * its own URLs (the rule is the client's to apply). Throws ERR_BAD_RELAY_URL.
 */
export function canonicalForm(input: string): string {
  const text = typeof input === 'string' ? input.trim() : '';
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new RelayUrlError('ERR_BAD_RELAY_URL', `“${text}” is not a relay address: it looks like wss://relay.example/signal.`);
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
    throw new RelayUrlError('ERR_BAD_RELAY_URL', `“${text}” is not a relay address: it starts with wss://.`);
  }
  if (!u.hostname) throw new RelayUrlError('ERR_BAD_RELAY_URL', `“${text}” names no host.`);
  if (u.username || u.password) throw new RelayUrlError('ERR_BAD_RELAY_URL', `“${text}” carries a user name or password: leave them out.`);
  const port = u.port || (u.protocol === 'wss:' ? '443' : '80');
  return `${u.protocol}//${u.hostname}:${port}${u.pathname || '/'}`;
}

/** null when `input` is a usable relay URL, else the sentence to show (options page, settings). */
export function relayUrlProblem(input: string, opts: { insecureAllowed?: (host: string) => boolean } = {}): string | null {
  try {
    canonicalRelayUrl(input, opts);
    return null;
  } catch (e) {
    return e instanceof RelayUrlError ? e.message : String(e);
  }
}
