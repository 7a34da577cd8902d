/**
 * Long-term credential check of a request (RFC 8489 §9.2.4), with
 * REST-style usernames (credentials.ts). Steps, as the RFC numbers them:
 *
 *  1. No MESSAGE-INTEGRITY: 401 with REALM and a NONCE (the challenge).
 *  2. MESSAGE-INTEGRITY but no USERNAME, REALM or NONCE: 400.
 *  3. NONCE not valid: 438 Stale Nonce with a fresh NONCE.
 *  4. USERNAME not valid (not "<expiry>:<id>", or expired when it must not
 *     be): 401.
 *  5. MESSAGE-INTEGRITY does not verify with MD5(username:realm:password): 401.
 *     The password is tried with each shared secret the operator lists (a
 *     secret being rotated: the old and the new one are both valid), and a
 *     request inside an allocation is also checked with the key that
 *     allocation was made with, so dropping a secret never cuts a live call.
 *
 * No state is created by any of this: the nonce is stateless (nonce.ts) and
 * the key is derived, not stored.
 */
import { Attr, ErrorCode } from '../stun/constants';
import { integrityOk, longTermKey } from '../stun/integrity';
import { getAttr, type StunMessage } from '../stun/message';
import { MAX_NONCE_BYTES, MAX_REALM_BYTES, MAX_USERNAME_BYTES, textAttr } from '../stun/text-attrs';
import { turnPassword, usernameExpiry } from './credentials';
import type { NonceIssuer } from './nonce';

export type AuthOutcome =
  | { ok: true; username: string; key: Uint8Array }
  | { ok: false; code: number; challenge: boolean; reason?: string };

export interface AuthParams {
  realm: string;
  /** Every shared secret currently valid (docs/operators.md, "Secrets"). */
  secrets: readonly string[];
  /** The allocation the request arrived on, if any: its key stays valid whatever the secrets. */
  allocation?: { username: string; key: Uint8Array };
  nonces: NonceIssuer;
  /** Whether an expired REST username is refused (always for Allocate; see core.ts). */
  enforceExpiry: boolean;
}

export function authenticate(msg: StunMessage, clientIp: string, now: number, p: AuthParams): AuthOutcome {
  // 1.
  if (msg.integrityAt < 0) return { ok: false, code: ErrorCode.Unauthorized, challenge: true };
  // 2.
  const username = textAttr(msg, Attr.Username, MAX_USERNAME_BYTES);
  const realm = textAttr(msg, Attr.Realm, MAX_REALM_BYTES);
  const nonce = textAttr(msg, Attr.Nonce, MAX_NONCE_BYTES);
  if (!username || !realm || !nonce || getAttr(msg, Attr.Userhash)) {
    return { ok: false, code: ErrorCode.BadRequest, challenge: false };
  }
  // 3.
  if (p.nonces.check(nonce, clientIp, now) !== 'ok') return { ok: false, code: ErrorCode.StaleNonce, challenge: true };
  // 4.
  if (realm !== p.realm) return { ok: false, code: ErrorCode.Unauthorized, challenge: true };
  const expiry = usernameExpiry(username);
  if (expiry === undefined) return { ok: false, code: ErrorCode.Unauthorized, challenge: true };
  if (p.enforceExpiry && expiry * 1000 <= now) {
    return { ok: false, code: ErrorCode.Unauthorized, challenge: true, reason: 'Unauthorized: credentials expired' };
  }
  // 5.
  if (p.allocation && p.allocation.username === username && integrityOk(msg, p.allocation.key)) {
    return { ok: true, username, key: p.allocation.key };
  }
  for (const secret of p.secrets) {
    const key = longTermKey(username, p.realm, turnPassword(secret, username));
    if (integrityOk(msg, key)) return { ok: true, username, key };
  }
  return { ok: false, code: ErrorCode.Unauthorized, challenge: true };
}
