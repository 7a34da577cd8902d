/**
 * How the popup shows people, times and past calls: pure functions, unit-tested
 * (display.test.ts), no browser API. The background stores facts (an address,
 * an epoch time, an end reason); these turn them into what a person reads.
 */
import type { Contact, HistoryEntry } from '../messaging/view';
import { type Lang, type MessageKey, t, uiLang } from '../i18n/messages';

/**
 * A short form of an address a person can compare at a glance: the first 9 and
 * the last 4 characters (`hush1abcd…wxyz`). Display only: never put it in an input.
 */
export function shortAddress(address: string): string {
  return address.length <= 16 ? address : `${address.slice(0, 9)}…${address.slice(-4)}`;
}

/**
 * The name a contact was given, or '' when it has none. The contact book names a
 * contact saved without a name by its truncated address with a trailing "…"
 * (lib/contacts/book.ts cleanName): that is not a name, and must not reach an
 * Edit field.
 */
export function givenName(c: Pick<Contact, 'address' | 'name'>): string {
  const n = c.name.trim();
  if (!n) return '';
  if (n.endsWith('…') && c.address.startsWith(n.slice(0, -1))) return '';
  return n;
}

/** What to call a contact in a list: its name, else the short address. */
export function contactLabel(c: Pick<Contact, 'address' | 'name'>): string {
  return givenName(c) || shortAddress(c.address);
}

/** A history time: the time alone for today, otherwise the date and the time, in the UI's language. */
export function formatWhen(at: number, now = Date.now(), lang: Lang = uiLang()): string {
  const d = new Date(at);
  const today = new Date(now);
  const sameDay = d.getFullYear() === today.getFullYear() && d.getMonth() === today.getMonth() && d.getDate() === today.getDate();
  const time: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit' };
  if (sameDay) return d.toLocaleTimeString(lang, time);
  const date: Intl.DateTimeFormatOptions =
    d.getFullYear() === today.getFullYear() ? { day: 'numeric', month: 'short' } : { day: 'numeric', month: 'short', year: 'numeric' };
  return d.toLocaleString(lang, { ...date, ...time });
}

/** What kind of call a history entry was, as a stable name (data-kind) and its label key. */
export type HistoryKind =
  | 'outgoing'
  | 'incoming'
  | 'missed'
  | 'busy-missed'
  | 'declined'
  | 'declined-by-you'
  | 'unreachable'
  | 'no-answer'
  | 'busy'
  | 'cancelled'
  | 'failed';

/**
 * The kind from the entry's direction and end reason (HistoryEntry.outcome): a call
 * that connected and then ended is plain outgoing/incoming (it has a duration); one
 * that never connected is named by why.
 */
export function historyKind(e: Pick<HistoryEntry, 'direction' | 'outcome' | 'durationMs' | 'busy'>): HistoryKind {
  if (e.direction === 'incoming' && e.busy) return 'busy-missed';
  switch (e.outcome) {
    case 'missed':
      return 'missed';
    case 'declined':
      return 'declined';
    case 'declined-local':
      return 'declined-by-you';
    case 'unreachable':
    case 'relay-unreachable':
    case 'peer-relays-unreachable':
      return 'unreachable';
    case 'no-answer':
      return e.direction === 'incoming' ? 'missed' : 'no-answer';
    case 'busy':
      return 'busy';
    case 'cancelled':
      return e.direction === 'incoming' ? 'missed' : 'cancelled';
    case 'hangup':
    case 'remote-hangup':
    case 'connection-lost':
      return e.direction;
    default:
      // handshake-failed, mic-denied, no-microphone, media-failed: it never became a call.
      return e.durationMs ? e.direction : 'failed';
  }
}

const KIND_LABEL: Record<HistoryKind, MessageKey> = {
  outgoing: 'ui18.history.outgoing',
  incoming: 'ui18.history.incoming',
  missed: 'ui18.history.missed',
  'busy-missed': 'ui18.history.busyMissed',
  declined: 'ui18.history.declined',
  'declined-by-you': 'ui18.history.declinedByYou',
  unreachable: 'ui18.history.unreachable',
  'no-answer': 'ui18.history.noAnswer',
  busy: 'ui18.history.busy',
  cancelled: 'ui18.history.cancelled',
  failed: 'ui18.history.failed',
};

export function historyLabel(kind: HistoryKind, lang: Lang = uiLang()): string {
  return t(KIND_LABEL[kind], lang);
}

/** Kinds shown in red: a call that did not reach the person (it is worth calling back). */
export function isMissedKind(kind: HistoryKind): boolean {
  return kind === 'missed' || kind === 'busy-missed';
}
