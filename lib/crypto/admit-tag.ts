/**
 * Admission tags on HELLO (docs/protocol.md §5.4): how a callee recognises a
 * contact's call before it spends a signature on it.
 *
 * Every completed call derives two admission tokens from its master secret,
 * one per direction (key-schedule.ts: "hush/v2/admit/a2b", ".../b2a"). Each
 * side stores them with the contact: the token of its own direction to call
 * that contact later ("send"), the other to recognise that contact's HELLO
 * ("recv"). A HELLO ends with
 *
 *   tag = HMAC-SHA-256(token, H("hush/v2/admit/hello" ‖ HELLO without its last 32 bytes))
 *
 * (HMAC over a hash of the HELLO, so that a callee with many contacts hashes
 * the 1.6 kB HELLO once and then runs one short HMAC per stored token, from a
 * keyed state it precomputed: about 2 SHA-256 blocks per contact.)
 *
 * or, from a caller without a token (a first call), 32 random bytes: every
 * HELLO has the same length and looks the same to the relay. The tag covers
 * the random call id and the fresh ephemeral keys, so it is new in every call
 * and links nothing across calls for anyone without the token.
 *
 * Why per direction, not one token per pair: with a shared token, a relay
 * could reflect A's HELLO to B back to A, and A would recognise it as B's
 * and answer with a signature from a contact slot. With one token per
 * direction a reflected HELLO carries a tag under A's own send token, which
 * A never checks against. It costs nothing: both come from the same MS.
 *
 * Caveat: a tag proves the HELLO was made by a holder of the token, not that
 * it is fresh: the admission policy (lib/call/admission.ts) refuses a call id
 * it already admitted, and the handshake itself still authenticates the
 * caller by signature at CONFIRM. A token is a key: store it as one.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { abytes, concat, equalBytes, utf8 } from './bytes';
import { ADMIT_TAG_LEN, ADMIT_TOKEN_LEN, MLKEM1024_EK_LEN, X25519_PK_LEN } from './constants';
import { EnvelopeType, PREFIX_LEN, ENVELOPE_VERSION } from './envelope-format';

/** Length of a whole HELLO envelope: prefix ‖ ek_A ‖ x_A ‖ tag. */
export const HELLO_LEN = PREFIX_LEN + MLKEM1024_EK_LEN + X25519_PK_LEN + ADMIT_TAG_LEN;

const HELLO_DS = utf8('hush/v2/admit/hello');

function helloDigest(untagged: Uint8Array): Uint8Array {
  return sha256(concat(HELLO_DS, untagged));
}

/** The tag for a HELLO whose bytes before the tag are `untagged`. */
export function helloTag(token: Uint8Array, untagged: Uint8Array): Uint8Array {
  abytes(token, ADMIT_TOKEN_LEN, 'admission token');
  return hmac(sha256, token, helloDigest(untagged));
}

/** The part of noble's HMAC used here (its `_cloneInto` copies a keyed state into a reusable object). */
interface Keyed {
  _cloneInto(to?: Keyed): Keyed;
  update(data: Uint8Array): Keyed;
  digest(): Uint8Array;
}
/** HMAC states keyed once per stored token (inner and outer pads absorbed), cloned per HELLO. */
const keyedCache = new WeakMap<Uint8Array, Keyed>();

function keyed(token: Uint8Array): Keyed {
  let k = keyedCache.get(token);
  if (!k) {
    k = hmac.create(sha256, token) as unknown as Keyed;
    keyedCache.set(token, k);
  }
  return k;
}

/** One stored token the callee recognises, with whatever id the app keeps the contact under. */
export interface RecvToken<Id = string> {
  contactId: Id;
  token: Uint8Array;
}

/**
 * The contact whose token made this HELLO's tag, or null (a stranger, a first
 * call, or not a well-formed HELLO). One SHA-256 of the HELLO, then one short
 * HMAC per token given, no signature, never throws. Pass only the tokens of
 * contacts whose mailbox is the HELLO's sending mailbox (usually one): a tag
 * from any other mailbox is ignored by admission anyway (lib/call/admission.ts),
 * and the cost then does not grow with the address book. Every token is tried even after a match, so the time taken
 * does not say which contact (or whether any) matched.
 */
export function recogniseHello<Id>(hello: Uint8Array, tokens: Iterable<RecvToken<Id>>): Id | null {
  if (!(hello instanceof Uint8Array) || hello.length !== HELLO_LEN) return null;
  if (hello[0] !== ENVELOPE_VERSION || hello[1] !== EnvelopeType.Hello) return null;
  const digest = helloDigest(hello.subarray(0, HELLO_LEN - ADMIT_TAG_LEN));
  const tag = hello.subarray(HELLO_LEN - ADMIT_TAG_LEN);
  let found: Id | null = null;
  let scratch: Keyed | undefined;
  for (const t of tokens) {
    if (!(t.token instanceof Uint8Array) || t.token.length !== ADMIT_TOKEN_LEN) continue;
    // The cache is keyed by the token object: a token edited in place must be stored as a new array.
    const h: Keyed = keyed(t.token)._cloneInto(scratch);
    scratch = h;
    if (equalBytes(h.update(digest).digest(), tag) && found === null) found = t.contactId;
  }
  return found;
}
