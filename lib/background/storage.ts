/**
 * What the extension keeps, all in extension storage on this device
 * (WXT's storage helpers over browser.storage.local). Nothing here is ever
 * sent to a server. The identity seed survives browser restarts and
 * extension updates; losing it loses the address (export it: issue 7).
 * The test hooks' session-storage items are lib/testing/hooks.ts's, not here.
 */
import { storage } from 'wxt/utils/storage';
import type { Contact, HistoryEntry, Settings } from '../messaging/view';

export interface StoredIdentity {
  v: 1;
  /** The 32-byte master seed, base64. */
  seed: string;
  createdAt: number;
}

/** The relay a fresh install uses; a build can embed another with WXT_HUSH_RELAY. */
export const DEFAULT_RELAY: string = import.meta.env.WXT_HUSH_RELAY ?? 'ws://127.0.0.1:8080/signal';

export const DEFAULT_SETTINGS: Settings = {
  relays: [DEFAULT_RELAY],
  privacyMode: false,
  ringtone: true,
  contactsOnly: false,
};

export const identityItem = storage.defineItem<StoredIdentity | null>('local:identity', { fallback: null });
export const contactsItem = storage.defineItem<Contact[]>('local:contacts', { fallback: [] });
export const settingsItem = storage.defineItem<Settings>('local:settings', { fallback: DEFAULT_SETTINGS });
export const historyItem = storage.defineItem<HistoryEntry[]>('local:history', { fallback: [] });
export const unseenMissedItem = storage.defineItem<number>('local:unseenMissed', { fallback: 0 });
/** Whether the identity was exported (or imported) since it was created: else the popup shows the backup banner. */
export const backupItem = storage.defineItem<{ done: boolean }>('local:backup', { fallback: { done: false } });
/** Calls kept in the on-device history. */
export const HISTORY_MAX = 200;

// ─── Call admission (issue 14, lib/background/admission-store.ts) ─────────────
// Kept under their own keys, apart from the contacts and the settings that the
// view carries: admission tokens are keys and never leave the background. Like
// the identity seed they are only as safe as storage.local itself: content
// scripts can read it until another issue moves the extension's storage out
// of their reach.

/** A contact's admission tokens (docs/protocol.md §5.4), base64, keyed by the contact's address. */
export interface StoredAdmission {
  /** The contact's mailbox id (derived from its address): HELLOs from elsewhere are never checked against these. */
  mailbox: string;
  /** Tags our HELLOs to this contact: the newest call's. */
  send: string;
  /** Recognises this contact's HELLOs: the last ADMIT_RECV_KEPT calls', newest first. */
  recv: string[];
}
export const admissionItem = storage.defineItem<Record<string, StoredAdmission>>('local:admission', { fallback: {} });
/** Blocked callers: the address as the person saw it, and its mailbox id (what admission compares). */
export const blockedItem = storage.defineItem<{ address: string; mailbox: string }[]>('local:blocked', { fallback: [] });
