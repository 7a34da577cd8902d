/**
 * The envelope every signalling message travels in (docs/protocol.md §Envelopes).
 * The relay sees these bytes base64-encoded inside its `send` frames and
 * nothing else; only the 18-byte prefix is in the clear, and it names no one.
 *
 *    0               1               2                               18
 *   +---------------+---------------+-------------------------------+--------
 *   |  version = 2  |     type      |        call id (16 bytes)     | body…
 *   +---------------+---------------+-------------------------------+--------
 *
 *   type 0x01 HELLO     body = ek_A (1568) ‖ x_A (32) ‖ admit tag (32)      clear: ephemeral keys, a MAC or random bytes
 *   type 0x02 RESPONSE  body = ct_B (1568) ‖ y_B (32) ‖ AEAD(bundle_B ‖ commit_B ‖ relays_B ‖ sig_B)
 *   type 0x03 CONFIRM   body = AEAD(bundle_A ‖ ct_S (1568) ‖ relays_A ‖ sig_A ‖ intent (1))
 *   type 0x04 REVEAL    body = AEAD(nonce_B (32))                            the callee's SAS nonce, after CONFIRM
 *   type 0x10 SEALED    body = seq (u32) ‖ AEAD(message)                     call control, SDP, candidates
 *
 * Version 2 (issue 14): SAS commitment (commit_B, REVEAL), strict CONFIRM,
 * HELLO admission tag.
 * Version 3 (issue 15): each side's current relays, signed, in RESPONSE and
 * CONFIRM (relay-list.ts), so a contact follows a move. An envelope of any
 * other version is refused (ERR_UNSUPPORTED_VERSION): a v2 peer fails at once.
 */
import { fail } from './errors';

export const ENVELOPE_VERSION = 3;
export const CALL_ID_LEN = 16;
export const PREFIX_LEN = 2 + CALL_ID_LEN;
/** Largest envelope either side accepts (the relay caps its frames at 64 KiB too). */
export const ENVELOPE_MAX = 48 * 1024;

export const EnvelopeType = {
  Hello: 0x01,
  Response: 0x02,
  Confirm: 0x03,
  Reveal: 0x04,
  Sealed: 0x10,
} as const;
export type EnvelopeType = (typeof EnvelopeType)[keyof typeof EnvelopeType];
const TYPES = new Set<number>(Object.values(EnvelopeType));

export interface EnvelopePrefix {
  type: EnvelopeType;
  callId: Uint8Array;
  body: Uint8Array;
  /** The prefix bytes themselves (authenticated as AAD by every sealed part). */
  prefix: Uint8Array;
}

export function encodePrefix(type: EnvelopeType, callId: Uint8Array): Uint8Array {
  if (callId.length !== CALL_ID_LEN) fail('ERR_BAD_INPUT', 'call id must be 16 bytes');
  const p = new Uint8Array(PREFIX_LEN);
  p[0] = ENVELOPE_VERSION;
  p[1] = type;
  p.set(callId, 2);
  return p;
}

/** Split an envelope into prefix and body; typed errors for anything malformed. */
export function parseEnvelope(bytes: Uint8Array): EnvelopePrefix {
  if (!(bytes instanceof Uint8Array) || bytes.length < PREFIX_LEN) {
    fail('ERR_HANDSHAKE_FORMAT', 'envelope shorter than its prefix');
  }
  if (bytes.length > ENVELOPE_MAX) fail('ERR_HANDSHAKE_FORMAT', `envelope larger than ${ENVELOPE_MAX} bytes`);
  if (bytes[0] !== ENVELOPE_VERSION) fail('ERR_UNSUPPORTED_VERSION', `envelope version ${bytes[0]} is not supported`);
  const type = bytes[1]!;
  if (!TYPES.has(type)) fail('ERR_HANDSHAKE_FORMAT', `unknown envelope type ${type}`);
  return {
    type: type as EnvelopeType,
    callId: bytes.slice(2, PREFIX_LEN),
    body: bytes.subarray(PREFIX_LEN),
    prefix: bytes.slice(0, PREFIX_LEN),
  };
}
