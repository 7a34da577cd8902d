/**
 * A small key-value store over the extension's own IndexedDB (issue 13).
 *
 * Why IndexedDB: an IndexedDB database belongs to the origin that opened it.
 * The background opens it from the extension's origin (chrome-extension://<id>,
 * moz-extension://<uuid>); a content script runs in the web page's origin, so
 * its `indexedDB` is the page's and can never open this one. `storage.local`,
 * where these values lived before, is readable and writable by content scripts
 * in both Chrome and Firefox; Chrome's `setAccessLevel('TRUSTED_CONTEXTS')`
 * exists only for `storage.session` (checked: chrome.storage.StorageArea
 * .setAccessLevel, "only supported on session storage"; Firefox has no
 * equivalent), and session storage is wiped at browser restart.
 *
 * One object store, values stored with the structured clone algorithm (no
 * JSON round trip). Caveat: a database is per browser profile and is wiped
 * with the extension's site data, exactly as storage.local is wiped on
 * uninstall.
 */

export const IDB_NAME = 'hush';
export const IDB_STORE = 'kv';
const IDB_VERSION = 1;

let opening: Promise<IDBDatabase> | undefined;

function open(): Promise<IDBDatabase> {
  opening ??= new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(IDB_NAME, IDB_VERSION);
    req.onupgradeneeded = () => {
      if (!req.result.objectStoreNames.contains(IDB_STORE)) req.result.createObjectStore(IDB_STORE);
    };
    req.onsuccess = () => {
      const db = req.result;
      // Another context deleting or upgrading the database: reopen next time.
      db.onversionchange = () => {
        db.close();
        opening = undefined;
      };
      resolve(db);
    };
    req.onerror = () => reject(req.error ?? new Error('ERR_IDB_OPEN'));
    req.onblocked = () => reject(new Error('ERR_IDB_BLOCKED: the extension database is held by an older version'));
  }).catch((e: unknown) => {
    opening = undefined;
    throw e;
  });
  return opening;
}

function run<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest | void): Promise<T> {
  return open().then(
    (db) =>
      new Promise<T>((resolve, reject) => {
        const tx = db.transaction(IDB_STORE, mode);
        const req = fn(tx.objectStore(IDB_STORE));
        // Resolve on commit, not on the request's success: a write is durable only then.
        tx.oncomplete = () => resolve((req ? req.result : undefined) as T);
        tx.onerror = () => reject(tx.error ?? new Error('ERR_IDB_TX'));
        tx.onabort = () => reject(tx.error ?? new Error('ERR_IDB_ABORTED'));
      }),
  );
}

export const idbKv = {
  get<T>(key: string): Promise<T | undefined> {
    return run<T | undefined>('readonly', (s) => s.get(key));
  },
  set(key: string, value: unknown): Promise<void> {
    return run<void>('readwrite', (s) => s.put(value, key));
  },
  /** Several keys in one transaction: all are written or none. */
  setMany(entries: Record<string, unknown>): Promise<void> {
    return run<void>('readwrite', (s) => {
      for (const [k, v] of Object.entries(entries)) s.put(v, k);
    });
  },
  del(key: string): Promise<void> {
    return run<void>('readwrite', (s) => s.delete(key));
  },
  keys(): Promise<string[]> {
    return run<IDBValidKey[]>('readonly', (s) => s.getAllKeys()).then((ks) => ks.map(String));
  },
  /** For tests: forget the open connection (fake-indexeddb resets between tests). */
  _reset(): void {
    opening = undefined;
  },
};
