/**
 * The signalling wire format, once, for both ends (style.md §12): the
 * extension's client (lib/signal/client.ts, parser lib/signal/protocol.ts)
 * and the relay (relay-server/src/signal/messages.ts, router.ts) import these
 * types and constants; neither declares its own. Frames and fields are drawn
 * in docs/relay-protocol.md: one JSON object per WebSocket text frame at
 * /signal, discriminated on `t`; binary fields are standard base64.
 *
 * Why here: lib/ is already the code the two ends share (the relay's proof
 * verifier imports lib/crypto/mailbox-auth.ts), so relay-server/tsconfig.json
 * and its esbuild bundle (scripts/pack-relay.mjs) already reach it, while the
 * extension never imports anything under relay-server/. To stay importable
 * from both, this file imports nothing and uses no DOM or Node API: types
 * and constants only, so the relay (lib ES2023, no DOM) compiles it as is.
 *
 * Caveat: these are the shapes *on the wire*. The relay's parser hands its
 * router a checked form where auth's base64 fields are already decoded
 * (CheckedClientMessage in relay-server/src/signal/messages.ts).
 */

/**
 * Largest signalling frame, in bytes: the relay's WebSocket maxPayload (a
 * larger frame closes the connection) and the client's bound on what it
 * parses. An envelope is a few KB (hybrid handshake); 64 KB leaves room.
 */
export const SIGNAL_MAX_FRAME_BYTES = 64 * 1024;

/**
 * Signalling protocol version (docs/relay-protocol.md §Version 2): the relay
 * says it in `challenge.v`; a client that does not speak it disconnects.
 * Version 2 (issue 15): mailbox pseudonyms per relay, proofs over the URL
 * dialled, no sender in `deliver`, padded deliveries, no `unreachable`.
 */
export const SIGNAL_PROTOCOL_VERSION = 2;

/** A mailbox id: 32 lower-case hex characters (16 bytes, lib/crypto/mailbox-auth.ts relayMailboxId). */
export const MAILBOX_RE = /^[0-9a-f]{32}$/;

/** TURN REST credentials the relay hands out (docs/relay.md), valid for `ttl` seconds. */
export interface TurnCredentials {
  username: string;
  credential: string;
  ttl: number;
  urls: string[];
  /** Second STUN port, for telling a symmetric NAT from an endpoint-independent one. */
  stunAlt?: string;
}

/** Client → relay. `id` is chosen by the client and echoed in the answer (sent, unreachable, turn, error). */
export type ClientMessage =
  /** Log in to `mailbox` with the per-relay key `key` (32 B) and its Ed25519 proof `sig` (64 B). */
  | { t: 'auth'; mailbox: string; key: string; sig: string }
  | { t: 'send'; to: string; id: number; data: string }
  | { t: 'turn'; id?: number }
  /** Keep-alive: browsers keep an extension's service worker alive while messages flow. */
  | { t: 'ping' };

/** Relay → client. */
export type ServerMessage =
  | { t: 'challenge'; v: number; challenge: string }
  | { t: 'ready'; mailbox: string; turn: TurnCredentials }
  /** No sender: who sent it is sealed inside `data` (lib/signal/delivery.ts). */
  | { t: 'deliver'; data: string }
  /** The relay took the envelope; whether anyone holds `to` is not said (no presence oracle). */
  | { t: 'sent'; id: number }
  | { t: 'turn'; turn: TurnCredentials; id?: number }
  | { t: 'pong' }
  | { t: 'error'; code: string; message: string; id?: number };
