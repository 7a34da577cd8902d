/**
 * The signalling wire protocol (docs/relay-protocol.md): one JSON object per
 * WebSocket text frame, discriminated on `t`. Binary fields are standard
 * base64. This file is the one union per direction and the one parser that
 * checks every field at the boundary; the router only ever sees checked
 * values.
 */
import { err, ok, type Result } from '../errors';

export const MAX_FRAME_BYTES = 64 * 1024;
export const MAILBOX_RE = /^[0-9a-f]{32}$/;
const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface TurnInfo {
  username: string;
  credential: string;
  ttl: number;
  urls: string[];
  stunAlt?: string;
}

export type ClientMessage =
  | { t: 'auth'; bundle: Uint8Array; sig: Uint8Array }
  | { t: 'send'; to: string; id: number; data: string }
  | { t: 'turn'; id?: number }
  /** Keep-alive: browsers keep an extension's service worker alive while messages flow. */
  | { t: 'ping' };

export type ServerMessage =
  | { t: 'challenge'; challenge: string; realm: string }
  | { t: 'ready'; mailbox: string; turn: TurnInfo }
  | { t: 'deliver'; from: string; data: string }
  | { t: 'sent'; id: number }
  | { t: 'unreachable'; id: number; to: string }
  | { t: 'turn'; turn: TurnInfo; id?: number }
  | { t: 'pong' }
  | { t: 'error'; code: string; message: string; id?: number };

export function isBase64(s: unknown): s is string {
  return typeof s === 'string' && s.length % 4 === 0 && B64_RE.test(s);
}

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** The `id` of a message if it has a usable one (echoed in errors). */
export function idOf(v: unknown): number | undefined {
  return typeof v === 'object' && v !== null && isId((v as { id?: unknown }).id) ? (v as { id: number }).id : undefined;
}

export type Parsed = Result<ClientMessage> & { id?: number };

/** Parse and check one client frame. Never throws. */
export function parseClientMessage(text: string): Parsed {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return err('ERR_BAD_MESSAGE', 'not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return err('ERR_BAD_MESSAGE', 'a message must be a JSON object');
  const o = v as Record<string, unknown>;
  const id = idOf(o);
  const bad = (message: string): Parsed => ({ ...err('ERR_BAD_MESSAGE', message), id });
  switch (o.t) {
    case 'auth': {
      if (!isBase64(o.bundle) || !isBase64(o.sig)) return bad('auth needs base64 "bundle" and "sig"');
      return ok({ t: 'auth', bundle: Buffer.from(o.bundle, 'base64'), sig: Buffer.from(o.sig, 'base64') });
    }
    case 'send': {
      if (typeof o.to !== 'string' || !MAILBOX_RE.test(o.to)) return bad('send needs "to": a mailbox id, 32 lower-case hex characters');
      if (!isId(o.id)) return bad('send needs "id": a non-negative integer');
      if (!isBase64(o.data)) return bad('send needs "data": standard base64');
      return { ...ok({ t: 'send', to: o.to, id: o.id, data: o.data }), id: o.id };
    }
    case 'turn':
      if (o.id !== undefined && !isId(o.id)) return bad('"id" must be a non-negative integer');
      return { ...ok({ t: 'turn', id }), id };
    case 'ping':
      return ok({ t: 'ping' });
    default:
      return bad(typeof o.t === 'string' ? 'unknown message type' : 'a message needs a string "t"');
  }
}
