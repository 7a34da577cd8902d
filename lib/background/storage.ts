/**
 * What the extension keeps, all on this device in the extension's own
 * IndexedDB (./idb-kv.ts), where no content script can read or write it
 * (issue 13; before, WXT items over browser.storage.local, which content
 * scripts can reach). Nothing here is ever sent to a server. The identity
 * seed survives browser restarts and extension updates; losing it loses the
 * address (export it: issue 7).
 * The first read or write waits for the one-time move of the old
 * storage.local keys (./storage-migration.ts); if that move fails, every read
 * fails too (the background does not start) rather than start empty and later
 * shadow the old identity: nothing is lost, the next boot tries again.
 * The test hooks' session-storage items are lib/testing/hooks.ts's, not here.
 */
import { browser } from 'wxt/browser';
import { idbKv } from './idb-kv';
import { migrateLegacyLocal } from './storage-migration';
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

let migrated: Promise<unknown> | undefined;
/** The migration, once per background lifetime; retried after a failure. */
export function storageReady(): Promise<unknown> {
  migrated ??= migrateLegacyLocal(browser.storage.local as never).catch((e: unknown) => {
    migrated = undefined;
    console.error('[hush] moving storage.local into the extension database failed; kept as is', e);
    throw e;
  });
  return migrated;
}

/** The getValue/setValue half of WXT's storage items, over IndexedDB. */
export interface TrustedItem<T> {
  readonly key: string;
  getValue(): Promise<T>;
  setValue(value: T): Promise<void>;
}

function defineItem<T>(key: string, opts: { fallback: T }): TrustedItem<T> {
  return {
    key,
    async getValue() {
      await storageReady();
      const v = await idbKv.get<T>(key);
      return v === undefined ? structuredClone(opts.fallback) : v;
    },
    async setValue(value: T) {
      await storageReady();
      await idbKv.set(key, value);
    },
  };
}

export const identityItem = defineItem<StoredIdentity | null>('identity', { fallback: null });
export const contactsItem = defineItem<Contact[]>('contacts', { fallback: [] });
export const settingsItem = defineItem<Settings>('settings', { fallback: DEFAULT_SETTINGS });
export const historyItem = defineItem<HistoryEntry[]>('history', { fallback: [] });
export const unseenMissedItem = defineItem<number>('unseenMissed', { fallback: 0 });
/** Whether the identity was exported (or imported) since it was created: else the popup shows the backup banner. */
export const backupItem = defineItem<{ done: boolean }>('backup', { fallback: { done: false } });
/** Calls kept in the on-device history. */
export const HISTORY_MAX = 200;

// ─── Call admission (issue 14, lib/background/admission-store.ts) ─────────────
// Kept under their own keys, apart from the contacts and the settings that the
// view carries: admission tokens are keys and never leave the background.

/** A contact's admission tokens (docs/protocol.md §5.4), base64, keyed by the contact's address. */
export interface StoredAdmission {
  /** The contact's mailbox id (derived from its address): HELLOs from elsewhere are never checked against these. */
  mailbox: string;
  /** Tags our HELLOs to this contact: the newest call's. */
  send: string;
  /** Recognises this contact's HELLOs: the last ADMIT_RECV_KEPT calls', newest first. */
  recv: string[];
}
export const admissionItem = defineItem<Record<string, StoredAdmission>>('admission', { fallback: {} });
/** Blocked callers: the address as the person saw it, and its mailbox id (what admission compares). */
export const blockedItem = defineItem<{ address: string; mailbox: string }[]>('blocked', { fallback: [] });

