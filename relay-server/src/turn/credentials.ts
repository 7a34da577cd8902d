/**
 * TURN REST credentials in the shared-secret form (draft-uberti-behave-turn-rest,
 * the scheme coturn calls `use-auth-secret`):
 *
 *   username = "<expiry unix seconds>:<id>"
 *   password = base64( HMAC-SHA1( shared secret, username ) )
 *
 * The relay hands these out over signalling with a random `id` per issue,
 * never the mailbox id, so TURN usage cannot be tied to a mailbox. Any tool
 * that mints coturn credentials mints ours.
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

export function issueTurnCredential(secret: string, ttlSec: number, nowMs: number, id = randomBytes(12).toString('base64url')): TurnCredential {
  const username = `${Math.floor(nowMs / 1000) + ttlSec}:${id}`;
  return { username, credential: turnPassword(secret, username), ttl: ttlSec };
}
