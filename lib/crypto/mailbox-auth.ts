/**
 * Mailbox ownership proof, used by the relay's signalling (relay-server) and
 * the extension's signalling client. The server sends a fresh random
 * challenge; the client answers with its encoded bundle and a hybrid
 * signature over (server challenge ‖ relay origin). The server learns the
 * mailbox id, which is all it routes by, and keeps nothing once the socket closes.
 *
 * Pure: no DOM, no sockets, runs in the service worker and on Node 20.
 */
import { concat, utf8 } from './bytes';
import { SIG_CTX } from './constants';
import { decodeBundle, signHybrid, verifyHybrid, type Identity } from './identity';
import { mailboxIdOfBundle } from './address';
import { attempt, fail, type Result } from './errors';

export const CHALLENGE_LEN = 32;

function authMessage(challenge: Uint8Array, origin: string): Uint8Array {
  return concat(challenge, utf8(origin));
}

/** Client side: prove ownership of `id`'s mailbox for this challenge and relay origin. */
export function proveMailbox(id: Identity, challenge: Uint8Array, origin: string): { bundle: Uint8Array; signature: Uint8Array } {
  return { bundle: id.bundleBytes, signature: signHybrid(id, SIG_CTX.mailboxAuth, authMessage(challenge, origin)) };
}

/** Server side: the mailbox id proven, or a typed error (never throws). */
export function verifyMailboxProof(
  challenge: Uint8Array,
  origin: string,
  bundleBytes: Uint8Array,
  signature: Uint8Array,
): Result<string> {
  return attempt(() => {
    if (!(challenge instanceof Uint8Array) || challenge.length !== CHALLENGE_LEN) {
      fail('ERR_BAD_INPUT', 'challenge must be 32 bytes');
    }
    const bundle = decodeBundle(bundleBytes);
    if (!verifyHybrid(bundle, SIG_CTX.mailboxAuth, authMessage(challenge, origin), signature)) {
      fail('ERR_BAD_SIGNATURE', 'mailbox proof signature does not verify');
    }
    return mailboxIdOfBundle(bundleBytes);
  }, 'ERR_BAD_BUNDLE');
}
