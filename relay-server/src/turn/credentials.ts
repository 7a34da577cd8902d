/**
 * TURN REST credentials in the shared-secret form (draft-uberti-behave-turn-rest,
 * the scheme coturn calls `use-auth-secret`):
 *
 *   username = "<expiry unix seconds>:<id>"
 *   password = base64( HMAC-SHA1( shared secret, username ) )
 *
 * The relay hands these out over signalling, one `id` per signalling
 * connection for its whole life (credential-ledger.ts; asking again gives the
 * same credential, or the same id with a later expiry), never the mailbox id,
 * so TURN usage cannot be tied to a mailbox. Those ids start with
 * SIGNAL_ID_MARK: the TURN core takes such a credential only while the
 * connection that got it is open, or ended less than the grace ago.
 * Any tool that mints coturn credentials with the shared secret mints ours
 * too (the operator's own, not tied to a connection: an id without the mark).
 *
 * Quotas count allocations per credential (credentialKey: the id, whatever
 * the expiry), so a refreshed credential shares its quota with the old one.
 */
import { createHmac, randomBytes } from 'node:crypto';

export interface TurnCredential {
  username: string;
  credential: string;
  ttl: number;
}

export function turnPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username, 'utf8').digest('base64');
}

/** Expiry (unix seconds) of a REST username, or undefined if it is not of that form. */
export function usernameExpiry(username: string): number | undefined {
  const colon = username.indexOf(':');
  const head = colon >= 0 ? username.slice(0, colon) : username;
  if (!/^[0-9]{1,12}$/.test(head)) return undefined;
  return Number(head);
}

/**
 * First character of the id of a credential handed out over signalling. Not in the base64url
 * alphabet of the ids, and unusual in an operator's own usernames; one that starts with it is
 * refused unless this relay handed it out (docs/relay.md, "TURN credentials").
 */
export const SIGNAL_ID_MARK = '~';

/** What quotas count by: the part after the expiry ("<expiry>:<id>" → "<id>"), or the whole username. */
export function credentialKey(username: string): string {
  const colon = username.indexOf(':');
  return colon >= 0 ? username.slice(colon + 1) : username;
}

/** Whether a credential id (credentialKey) was handed out over signalling, so tied to a connection. */
export function isSignalCredential(key: string): boolean {
  return key.charCodeAt(0) === 0x7e; // SIGNAL_ID_MARK
}

export function issueTurnCredential(secret: string, ttlSec: number, nowMs: number, id = randomBytes(12).toString('base64url')): TurnCredential {
  const username = `${Math.floor(nowMs / 1000) + ttlSec}:${id}`;
  return { username, credential: turnPassword(secret, username), ttl: ttlSec };
}
