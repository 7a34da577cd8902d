import { expect, test } from 'vitest';
import { contactLabel, formatWhen, givenName, historyKind, historyLabel, shortAddress } from './display';
import { cleanName } from '../contacts/book';
import { addressFromBundle } from '../crypto/address';
import { identityFromSeed } from '../crypto/identity';

const addr = addressFromBundle(identityFromSeed(new Uint8Array(32).fill(7)).bundleBytes);

test('shortAddress keeps hush1 + 4 and the last 4 characters', () => {
  const s = shortAddress(addr);
  expect(s).toBe(`${addr.slice(0, 9)}…${addr.slice(-4)}`);
  expect(s.startsWith('hush1')).toBe(true);
  expect(s.length).toBe(14);
});

test('a contact saved without a name has no given name (the book’s "hush1…" placeholder never reaches an input)', () => {
  const placeholder = cleanName('', addr);
  expect(placeholder.endsWith('…')).toBe(true);
  expect(givenName({ address: addr, name: placeholder })).toBe('');
  expect(contactLabel({ address: addr, name: placeholder })).toBe(shortAddress(addr));
  expect(givenName({ address: addr, name: 'Bob' })).toBe('Bob');
  // A real name that happens to end with an ellipsis stays.
  expect(givenName({ address: addr, name: 'Bob…' })).toBe('Bob…');
});

test('history time: today the time only, another day the date and the time, per language', () => {
  const now = new Date(2026, 11, 1, 18, 0).getTime();
  const today = new Date(2026, 11, 1, 9, 5).getTime();
  const before = new Date(2026, 10, 28, 21, 40).getTime();
  const lastYear = new Date(2025, 4, 3, 7, 0).getTime();
  expect(formatWhen(today, now, 'en')).toMatch(/09:05/);
  expect(formatWhen(today, now, 'en')).not.toMatch(/Dec|Nov/);
  expect(formatWhen(before, now, 'en')).toMatch(/Nov/);
  expect(formatWhen(before, now, 'en')).toMatch(/28/);
  expect(formatWhen(before, now, 'en')).toMatch(/40/);
  expect(formatWhen(before, now, 'fr')).toMatch(/nov/);
  expect(formatWhen(before, now, 'fr')).toMatch(/21:40/);
  expect(formatWhen(lastYear, now, 'en')).toMatch(/2025/);
});

test('history kind from direction and end reason: a call that never connected is named by why', () => {
  const k = (direction: 'outgoing' | 'incoming', outcome: Parameters<typeof historyKind>[0]['outcome'], extra: object = {}) =>
    historyKind({ direction, outcome, ...extra });
  expect(k('outgoing', 'hangup', { durationMs: 5000 })).toBe('outgoing');
  expect(k('outgoing', 'remote-hangup', { durationMs: 5000 })).toBe('outgoing');
  expect(k('incoming', 'hangup', { durationMs: 5000 })).toBe('incoming');
  expect(k('incoming', 'missed')).toBe('missed');
  expect(k('incoming', 'missed', { busy: true })).toBe('busy-missed');
  expect(k('outgoing', 'declined')).toBe('declined');
  expect(k('incoming', 'declined-local')).toBe('declined-by-you');
  expect(k('outgoing', 'unreachable')).toBe('unreachable');
  expect(k('outgoing', 'relay-unreachable')).toBe('unreachable');
  expect(k('outgoing', 'no-answer')).toBe('no-answer');
  expect(k('outgoing', 'busy')).toBe('busy');
  expect(k('outgoing', 'cancelled')).toBe('cancelled');
  expect(k('outgoing', 'mic-denied')).toBe('failed');
  expect(historyLabel('unreachable', 'en')).toBe('Unreachable');
  expect(historyLabel('no-answer', 'fr')).toBe('Pas de réponse');
});
