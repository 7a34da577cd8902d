/**
 * Moves what a call trusts out of `storage.local` (readable and writable by
 * every content script) into the extension's own IndexedDB (./idb-kv.ts).
 * Issue 13.
 *
 * The order is what makes a failure lose nothing:
 *   1. read every old key from storage.local;
 *   2. copy to IndexedDB the ones it does not hold yet, in one transaction
 *      (a key it already holds was copied by an earlier, interrupted run and
 *      may have changed since: IndexedDB's value wins);
 *   3. read every copied key back and compare it with the old value;
 *   4. only then remove the old keys (and WXT's `key$` metadata) from storage.local.
 *   5. record in IndexedDB that the move is done.
 * Any step that throws leaves storage.local as it was; the next boot starts over.
 * Once recorded, storage.local is never read as a source again: a content
 * script can still write `identity` or `contacts` there, and such keys are
 * only removed, never imported (else a page could plant relays or contacts
 * that the next browser start would trust). Running it again does nothing else.
 */
import { idbKv } from './idb-kv';

/** The keys WXT's `local:<key>` items used in storage.local (lib/background/storage.ts before issue 13). */
export const LEGACY_LOCAL_KEYS = ['identity', 'contacts', 'settings', 'history', 'unseenMissed', 'backup', 'admission', 'blocked'] as const;

export interface LocalArea {
  get(keys: string[]): Promise<Record<string, unknown>>;
  remove(keys: string[]): Promise<void>;
}

/** The IndexedDB key that records a finished move. */
export const MIGRATION_DONE_KEY = 'migratedFromStorageLocal';

export interface MigrationResult {
  /** Keys copied into IndexedDB by this run. */
  copied: string[];
  /** Keys removed from storage.local by this run. */
  removed: string[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export async function migrateLegacyLocal(area: LocalArea, kv = idbKv): Promise<MigrationResult> {
  const meta = LEGACY_LOCAL_KEYS.map((k) => `${k}$`);
  const old = await area.get([...LEGACY_LOCAL_KEYS, ...meta]);
  const present = LEGACY_LOCAL_KEYS.filter((k) => old[k] !== undefined);
  const metaPresent = meta.filter((k) => old[k] !== undefined);
  if ((await kv.get(MIGRATION_DONE_KEY)) !== undefined) {
    // Written after the move: by a content script, never by Hush. Drop it.
    const planted = [...present, ...metaPresent];
    if (planted.length) await area.remove(planted);
    return { copied: [], removed: planted };
  }
  if (present.length === 0 && metaPresent.length === 0) {
    await kv.set(MIGRATION_DONE_KEY, { at: Date.now() });
    return { copied: [], removed: [] };
  }

  const copy: Record<string, unknown> = {};
  for (const k of present) if ((await kv.get(k)) === undefined) copy[k] = old[k];
  const copied = Object.keys(copy);
  if (copied.length) await kv.setMany(copy);

  for (const k of present) {
    const now = await kv.get(k);
    if (now === undefined) throw new Error(`ERR_MIGRATION_VERIFY: ${k} is not in the extension database after the copy`);
    if (k in copy && !same(now, copy[k])) throw new Error(`ERR_MIGRATION_VERIFY: ${k} differs after the copy`);
  }

  const removed = [...present, ...metaPresent];
  await area.remove(removed);
  await kv.set(MIGRATION_DONE_KEY, { at: Date.now() });
  return { copied, removed };
}
