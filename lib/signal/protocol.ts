/**
 * The extension's parser of relay signalling frames (docs/relay-protocol.md):
 * checks the fields the client reads and drops anything else. The frames
 * themselves are declared once, for the extension and the relay alike, in
 * ./wire.ts.
 */
import { SIGNAL_MAX_FRAME_BYTES, type ServerMessage, type TurnCredentials } from './wire';

/** The checked message, or null for anything that is not a well-formed relay frame. Never throws. */
export function parseServerMessage(text: unknown): ServerMessage | null {
  if (typeof text !== 'string' || text.length > SIGNAL_MAX_FRAME_BYTES) return null;
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof m !== 'object' || m === null || typeof (m as { t?: unknown }).t !== 'string') return null;
  const o = m as Record<string, unknown>;
  const str = (k: string) => typeof o[k] === 'string';
  switch (o.t) {
    case 'challenge':
      // A challenge without `v` is a version-1 relay's: the client then says which versions differ.
      return str('challenge') ? { t: 'challenge', v: typeof o.v === 'number' ? o.v : 1, challenge: o.challenge as string } : null;
    case 'ready':
      return str('mailbox') && isTurn(o.turn) ? (o as ServerMessage) : null;
    case 'deliver':
      return str('data') ? { t: 'deliver', data: o.data as string } : null;
    case 'sent':
      return typeof o.id === 'number' ? (o as ServerMessage) : null;
    case 'turn':
      return isTurn(o.turn) ? (o as ServerMessage) : null;
    case 'pong':
      return { t: 'pong' };
    case 'error':
      return str('code') ? ({ t: 'error', code: o.code, message: str('message') ? (o.message as string) : '', id: typeof o.id === 'number' ? o.id : undefined } as ServerMessage) : null;
    default:
      return null;
  }
}

function isTurn(v: unknown): v is TurnCredentials {
  if (typeof v !== 'object' || v === null) return false;
  const t = v as Record<string, unknown>;
  // ttl bounds the renewal timer: a missing, non-finite or non-positive one would renew at once, in a loop.
  return (
    typeof t.username === 'string' &&
    typeof t.credential === 'string' &&
    typeof t.ttl === 'number' &&
    Number.isFinite(t.ttl) &&
    t.ttl > 0 &&
    Array.isArray(t.urls) &&
    t.urls.every((u) => typeof u === 'string')
  );
}
