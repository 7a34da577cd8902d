/**
 * Typed errors of the relay, one stable code each. Codes are what tests and
 * operators match on; messages are sentences a person can act on. No error
 * message ever carries an address, a username, a mailbox id or payload bytes
 * (the relay keeps no metadata, see docs/relay.md).
 */
export type RelayErrorCode =
  // configuration and startup
  | 'ERR_CONFIG' // a setting is missing, malformed or out of range
  | 'ERR_LISTEN' // a port could not be bound
  // STUN/TURN wire
  | 'ERR_TRUNCATED' // fewer bytes than a header or a declared length needs
  | 'ERR_MALFORMED' // bytes that are not a well-formed STUN message or attribute
  | 'ERR_TOO_LARGE' // over the configured message size bound
  // signalling (also the `code` of {"t":"error"} frames, docs/relay-protocol.md)
  | 'ERR_BAD_MESSAGE' // not JSON, unknown `t`, or a field of the wrong shape
  | 'ERR_AUTH' // the mailbox proof did not verify
  | 'ERR_AUTH_REQUIRED' // a message other than `auth` before authentication
  | 'ERR_RATE_LIMIT' // too many messages on this connection; slow down
  | 'ERR_BUSY' // the server is at a connection or verification limit; retry later
  | 'ERR_REPLACED' // a newer connection took this mailbox's slot
  | 'ERR_DRAINING'; // this node is shutting down; connect to another (close 1012)

export class RelayError extends Error {
  override readonly name = 'RelayError';
  constructor(
    readonly code: RelayErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Result for boundaries that must never throw (parsers fed by the network). */
export type Result<T> = { ok: true; value: T } | { ok: false; code: RelayErrorCode; message: string };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}
export function err<T = never>(code: RelayErrorCode, message: string): Result<T> {
  return { ok: false, code, message };
}
