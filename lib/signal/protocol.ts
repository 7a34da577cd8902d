/**
 * The relay's signalling protocol as the extension speaks it
 * (docs/relay-protocol.md): JSON text frames over a WebSocket at /signal.
 * Binary fields are standard base64. One union per direction.
 */

export interface TurnCredentials {
  username: string;
  credential: string;
  ttl: number;
  urls: string[];
  /** Second STUN port, for telling a symmetric NAT from an endpoint-independent one. */
  stunAlt?: string;
}

export type ServerMessage =
  | { t: 'challenge'; challenge: string; realm: string }
  | { t: 'ready'; mailbox: string; turn: TurnCredentials }
  | { t: 'deliver'; from: string; data: string }
  | { t: 'sent'; id: number }
  | { t: 'unreachable'; id: number; to: string }
  | { t: 'turn'; turn: TurnCredentials }
  | { t: 'pong' }
  | { t: 'error'; code: string; message: string; id?: number };

export type ClientMessage =
  | { t: 'auth'; bundle: string; sig: string }
  | { t: 'send'; to: string; id: number; data: string }
  | { t: 'turn' }
  | { t: 'ping' };

/** Largest frame the relay accepts. */
export const SIGNAL_MAX_MESSAGE = 64 * 1024;

export function parseServerMessage(text: unknown): ServerMessage | null {
  if (typeof text !== 'string' || text.length > SIGNAL_MAX_MESSAGE) return null;
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
      return str('challenge') && str('realm') ? (o as ServerMessage) : null;
    case 'ready':
      return str('mailbox') && isTurn(o.turn) ? (o as ServerMessage) : null;
    case 'deliver':
      return str('from') && str('data') ? (o as ServerMessage) : null;
    case 'sent':
      return typeof o.id === 'number' ? (o as ServerMessage) : null;
    case 'unreachable':
      return typeof o.id === 'number' && str('to') ? (o as ServerMessage) : null;
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
  return typeof t.username === 'string' && typeof t.credential === 'string' && Array.isArray(t.urls) && t.urls.every((u) => typeof u === 'string');
}
