/**
 * The relay's parser of client signalling frames: the one place that checks
 * every field at the boundary; the router only ever sees checked values. The
 * frames themselves (both directions, the size limit, the mailbox id form)
 * are declared once, for the relay and the extension alike, in
 * lib/signal/wire.ts (docs/relay-protocol.md).
 */
import { MAILBOX_RE, type ClientMessage } from '../../../lib/signal/wire';
import { err, ok, type Result } from '../errors';

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A client message as the router sees it: the wire form, with auth's base64 fields decoded. */
export type CheckedClientMessage = Exclude<ClientMessage, { t: 'auth' }> | { t: 'auth'; mailbox: string; key: Uint8Array; sig: Uint8Array };

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

export type Parsed = Result<CheckedClientMessage> & { id?: number };

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
      if (typeof o.mailbox !== 'string' || !MAILBOX_RE.test(o.mailbox)) return bad('auth needs "mailbox": a mailbox id, 32 lower-case hex characters');
      // The decoded length, not the text's: 44 characters are 32 bytes only with one "=", 88 are 64 only with "==".
      const key = isBase64(o.key) && o.key.length === 44 ? Buffer.from(o.key, 'base64') : undefined;
      if (key?.length !== 32) return bad('auth needs "key": 32 bytes, standard base64');
      const sig = isBase64(o.sig) && o.sig.length === 88 ? Buffer.from(o.sig, 'base64') : undefined;
      if (sig?.length !== 64) return bad('auth needs "sig": 64 bytes, standard base64');
      return ok({ t: 'auth', mailbox: o.mailbox, key, sig });
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
