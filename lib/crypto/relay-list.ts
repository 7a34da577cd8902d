/**
 * The relay list each side carries inside the handshake (docs/protocol.md §5,
 * envelope version 3, issue 15 "contacts follow a move"): the signalling URLs
 * of the relays where its owner can be reached now, in her order. The callee
 * puts hers in RESPONSE (under TH2, which she signs), the caller his in
 * CONFIRM (under TH3, which he signs), both inside the handshake AEAD: a relay
 * never sees them, and a relay or a tampered link that changes a byte fails
 * the signature, so the call fails rather than a contact being moved.
 *
 *    0         1        1+L1            1+L1+1+L2
 *   +---------+--------+---------------+--------+----------- …
 *   | count n | len L1 | url 1 (utf-8) | len L2 | url 2 …        n ≤ 4, 1 ≤ Li ≤ 255
 *   +---------+--------+---------------+--------+----------- …
 *
 * Every URL must already be in relay-url.ts's canonical form (what the relay
 * signs for its mailboxes), so one list has one encoding; n = 0 says "no
 * relay to announce" (a caller with none configured). The wss rule (ws:// only
 * for loopback) is the receiving side's to apply, with the test builds'
 * exception (lib/testing/hooks.ts): it drops what the rule refuses before it
 * saves the list with the contact.
 *
 * Pure: a format, no I/O. Decoding throws ERR_HANDSHAKE_FORMAT.
 */
import { fail } from './errors';
import { canonicalForm } from '../signal/relay-url';

/** At most this many relays per list: what a card carries too (lib/contacts/card.ts). */
export const RELAY_LIST_MAX = 4;
/** Longest URL, bytes: its length is one byte. */
export const RELAY_URL_MAX = 255;
/** The largest encoded list: the handshake's length checks allow this much on top of the fixed parts. */
export const RELAY_LIST_MAX_BYTES = 1 + RELAY_LIST_MAX * (1 + RELAY_URL_MAX);

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

function isCanonical(url: string): boolean {
  try {
    return canonicalForm(url) === url;
  } catch {
    return false;
  }
}

/** Encode a list for the handshake. Throws ERR_BAD_INPUT for a list this format cannot carry. */
export function encodeRelayList(relays: readonly string[]): Uint8Array {
  if (relays.length > RELAY_LIST_MAX) fail('ERR_BAD_INPUT', `at most ${RELAY_LIST_MAX} relays travel in a handshake, got ${relays.length}`);
  const parts = relays.map((url) => {
    const b = enc.encode(url);
    if (b.length < 1 || b.length > RELAY_URL_MAX) fail('ERR_BAD_INPUT', `a relay URL is 1 to ${RELAY_URL_MAX} bytes, got ${b.length}`);
    if (!isCanonical(url)) fail('ERR_BAD_INPUT', 'a relay URL in the handshake must be canonical (relay-url.ts)');
    return b;
  });
  const out = new Uint8Array(1 + parts.reduce((n, p) => n + 1 + p.length, 0));
  out[0] = parts.length;
  let o = 1;
  for (const p of parts) {
    out[o++] = p.length;
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Read a list at `offset` of `bytes`; returns the URLs and the offset just
 * past the list (the field is self-delimiting: the signature follows it).
 */
export function decodeRelayList(bytes: Uint8Array, offset = 0): { relays: string[]; end: number } {
  if (offset >= bytes.length) fail('ERR_HANDSHAKE_FORMAT', 'relay list missing');
  const n = bytes[offset]!;
  if (n > RELAY_LIST_MAX) fail('ERR_HANDSHAKE_FORMAT', `a relay list holds at most ${RELAY_LIST_MAX} relays, got ${n}`);
  let o = offset + 1;
  const relays: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = bytes[o];
    if (len === undefined || len === 0 || o + 1 + len > bytes.length) fail('ERR_HANDSHAKE_FORMAT', 'relay list entry past the end');
    let url: string;
    try {
      url = dec.decode(bytes.subarray(o + 1, o + 1 + len));
    } catch {
      return fail('ERR_HANDSHAKE_FORMAT', 'relay list entry is not UTF-8');
    }
    if (!isCanonical(url)) fail('ERR_HANDSHAKE_FORMAT', 'relay list entry is not a canonical relay URL');
    if (relays.includes(url)) fail('ERR_HANDSHAKE_FORMAT', 'relay list names a relay twice');
    relays.push(url);
    o += 1 + len;
  }
  return { relays, end: o };
}
