/**
 * Mailbox login, signalling protocol v2 (docs/relay-protocol.md §Version 2).
 * Used by the relay (relay-server) and the extension's signalling client.
 *
 * A relay never receives an identity bundle or an address. On each relay a
 * person holds one mailbox, named by a hash of her address tag and the
 * relay's canonical URL (lib/signal/relay-url.ts):
 *
 *   tag      = mailboxIdOf(address)                         (16 bytes, never sent to a relay)
 *   mailbox  = SHA-256("hush/v2/relay-mailbox" ‖ tag ‖ url)[0..16]
 *   key      = Ed25519 from HKDF-SHA256(seed, salt "hush/v2/mailbox-key", info url)
 *   proof    = Ed25519(key, "hush/v2/mailbox-auth" ‖ challenge ‖ mailbox ‖ key.pub ‖ url)
 *
 * A caller who knows only the address (and the relay) computes the mailbox;
 * the relay, which sees only the mailbox and the per-relay key, cannot invert
 * either to an address, and the same person's mailboxes and keys on two
 * relays share nothing a relay could match (unless it already knows the
 * address and tests it). The proof signs the URL the client dialled, not a
 * name the server chose, so a relay forwarding another relay's challenge
 * gets a proof over its own URL, which the other relay refuses; and the key
 * itself differs per URL.
 *
 * Caveat: the relay cannot check that a key belongs to the address behind a
 * mailbox (it would have to learn the address). It binds a held mailbox to
 * the first key that logs in to it, while any connection holds it: someone
 * who knows your address and relay can hold your mailbox while you are
 * offline (calls to it then fail; nothing leaks, the caller's handshake still
 * checks the callee's keys against the address). Ed25519 and not the hybrid
 * signature: the proof guards a login that lasts one connection, never data
 * kept for later, and it is 64 bytes instead of 4.7 KB.
 *
 * Pure: no DOM, no sockets, runs in the service worker and on Node 20.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, fromHex, toHex, utf8, wipe } from './bytes';
import { MAILBOX_ID_LEN } from './constants';
import { mailboxIdOfBundle } from './address';
import { attempt, fail, type Result } from './errors';
import type { Identity } from './identity';

export const CHALLENGE_LEN = 32;
export const MAILBOX_KEY_LEN = 32;
export const MAILBOX_SIG_LEN = 64;

const RELAY_MAILBOX_DOMAIN = utf8('hush/v2/relay-mailbox');
const KEY_SALT = utf8('hush/v2/mailbox-key');
const AUTH_DOMAIN = utf8('hush/v2/mailbox-auth');

/** The mailbox on relay `url` (canonical) of the person whose address tag is `tag` (32 hex). */
export function relayMailboxId(tag: string, url: string): string {
  if (!/^[0-9a-f]{32}$/.test(tag)) fail('ERR_BAD_INPUT', 'address tag must be 32 lower-case hex characters');
  return toHex(sha256(concat(RELAY_MAILBOX_DOMAIN, fromHex(tag), utf8(url))).slice(0, MAILBOX_ID_LEN));
}

/** This identity's mailbox key pair for relay `url` (canonical). The caller wipes `secret`. */
export function mailboxKey(id: Identity, url: string): { secret: Uint8Array; publicKey: Uint8Array } {
  const secret = hkdf(sha256, id.seed, KEY_SALT, utf8(url), 32);
  return { secret, publicKey: ed25519.getPublicKey(secret) };
}

function authMessage(challenge: Uint8Array, mailbox: string, key: Uint8Array, url: string): Uint8Array {
  return concat(AUTH_DOMAIN, challenge, fromHex(mailbox), key, utf8(url));
}

/** Client side: log in to this identity's mailbox on relay `url` (canonical: the URL dialled). */
export function proveMailbox(id: Identity, challenge: Uint8Array, url: string): { mailbox: string; key: Uint8Array; signature: Uint8Array } {
  return proveMailboxAt(id, challenge, url, relayMailboxId(mailboxIdOfBundle(id.bundleBytes), url));
}

/**
 * The same proof for any `mailbox`: the relay cannot tell whose address a
 * mailbox hashes, so this verifies too, and the mailbox's key binding is
 * what refuses it while the owner holds it (tests use it to play a squatter).
 */
export function proveMailboxAt(id: Identity, challenge: Uint8Array, url: string, mailbox: string): { mailbox: string; key: Uint8Array; signature: Uint8Array } {
  if (!(challenge instanceof Uint8Array) || challenge.length !== CHALLENGE_LEN) fail('ERR_BAD_INPUT', 'challenge must be 32 bytes');
  const k = mailboxKey(id, url);
  try {
    return { mailbox, key: k.publicKey, signature: ed25519.sign(authMessage(challenge, mailbox, k.publicKey, url), k.secret) };
  } finally {
    wipe(k.secret);
  }
}

/**
 * Server side: `mailbox` if the proof verifies for this challenge and one of
 * the relay's own canonical URLs (`urls`), else a typed error. Never throws.
 */
export function verifyMailboxProof(
  challenge: Uint8Array,
  urls: readonly string[],
  mailbox: string,
  key: Uint8Array,
  signature: Uint8Array,
): Result<string> {
  return attempt(() => {
    if (!(challenge instanceof Uint8Array) || challenge.length !== CHALLENGE_LEN) fail('ERR_BAD_INPUT', 'challenge must be 32 bytes');
    if (typeof mailbox !== 'string' || !/^[0-9a-f]{32}$/.test(mailbox)) fail('ERR_BAD_INPUT', 'mailbox must be 32 lower-case hex characters');
    if (!(key instanceof Uint8Array) || key.length !== MAILBOX_KEY_LEN) fail('ERR_BAD_INPUT', `mailbox key must be ${MAILBOX_KEY_LEN} bytes`);
    if (!(signature instanceof Uint8Array) || signature.length !== MAILBOX_SIG_LEN) fail('ERR_BAD_INPUT', `mailbox proof must be ${MAILBOX_SIG_LEN} bytes`);
    for (const url of urls) {
      let good = false;
      try {
        good = ed25519.verify(signature, authMessage(challenge, mailbox, key, url), key);
      } catch {
        good = false;
      }
      if (good) return mailbox;
    }
    fail('ERR_BAD_SIGNATURE', 'mailbox proof does not verify for this challenge and relay');
  }, 'ERR_BAD_INPUT');
}
