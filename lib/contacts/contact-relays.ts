/**
 * Where a saved contact is rung (issue 15, "contacts follow a move"): the
 * relays kept with a contact or a history entry, where they come from and
 * which one a call goes to.
 *
 * Sources, newest wins: the card a contact was added or dialled with
 * (card.ts), and the list the contact signed into the last handshake with us
 * (lib/crypto/relay-list.ts, docs/protocol.md §5). A contact saved before
 * issue 15 has no `relays`: it is rung on our own relay, as before, and
 * nothing needs rewriting in storage (the field is optional).
 *
 * Stored data is checked where it is used: a saved list that is not an array
 * of usable relay URLs (written by an older or broken build) is refused with
 * a sentence, and the contact itself, its name, verification and history are
 * left exactly as stored (`ContactRelaysError`).
 *
 * Pure: no storage, no sockets.
 */
import { canonicalRelayUrl } from '../signal/relay-url';
import { RELAY_LIST_MAX } from '../crypto/relay-list';

export class ContactRelaysError extends Error {
  override readonly name = 'ContactRelaysError';
  readonly code = 'ERR_BAD_SAVED_RELAYS';
}

type Insecure = { insecureAllowed?: (host: string) => boolean };

/** The usable canonical form of one URL, or null (not a relay URL, or ws:// to a remote host). */
function usable(url: unknown, opts: Insecure): string | null {
  if (typeof url !== 'string') return null;
  try {
    return canonicalRelayUrl(url, opts);
  } catch {
    return null;
  }
}

/**
 * The relays a peer signed into a handshake, as we keep them: the wss rule
 * applied (what it refuses is left out), duplicates dropped, at most
 * RELAY_LIST_MAX. Empty: nothing to save (the saved list stays as it was).
 */
export function acceptSignedRelays(relays: readonly string[], opts: Insecure = {}): string[] {
  const out: string[] = [];
  for (const r of relays) {
    const u = usable(r, opts);
    if (u && !out.includes(u)) out.push(u);
  }
  return out.slice(0, RELAY_LIST_MAX);
}

/**
 * The relays saved with a contact or history entry, checked. `undefined` (an
 * entry from before issue 15) and `[]` mean "our own relay". Throws
 * ContactRelaysError when something is stored but none of it is usable.
 */
export function savedRelays(stored: unknown, who: string, opts: Insecure = {}): string[] {
  if (stored === undefined || stored === null) return [];
  if (!Array.isArray(stored)) {
    throw new ContactRelaysError(`The relays saved for ${who} are damaged. Dial their card (hush1…@relay) again to save them anew.`);
  }
  const ok = acceptSignedRelays(stored.filter((r): r is string => typeof r === 'string'), opts);
  if (stored.length > 0 && ok.length === 0) {
    throw new ContactRelaysError(`None of the relays saved for ${who} can be used. Dial their card (hush1…@relay) again to save them anew.`);
  }
  return ok;
}

/** True when `next` differs from what is saved (so the store writes only on a change). */
export function relaysChanged(saved: readonly string[] | undefined, next: readonly string[]): boolean {
  const a = saved ?? [];
  return a.length !== next.length || a.some((r, i) => r !== next[i]);
}
