import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { beforeEach, expect, test, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { idbKv } from './idb-kv';
vi.mock('wxt/browser', () => ({ browser: fakeBrowser }));
import { LEGACY_LOCAL_KEYS, migrateLegacyLocal, type LocalArea } from './storage-migration';

/** storage.local as WXT left it: `local:<key>` items, values JSON. */
function fakeLocal(init: Record<string, unknown>, failRemove = false) {
  const mem = new Map(Object.entries(structuredClone(init)));
  const area: LocalArea = {
    async get(keys) {
      return Object.fromEntries(keys.filter((k) => mem.has(k)).map((k) => [k, structuredClone(mem.get(k))]));
    },
    async remove(keys) {
      if (failRemove) throw new Error('quota');
      for (const k of keys) mem.delete(k);
    },
  };
  return { area, mem };
}

const OLD = {
  identity: { v: 1, seed: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=', createdAt: 1 },
  'identity$': { v: 1 },
  contacts: [{ id: 'hush:abc', name: 'Ada', verified: true }],
  settings: { relays: ['wss://r.example/signal'], privacyMode: true, ringtone: true, contactsOnly: false, pageOrigins: ['https://a.example'] },
  history: [{ id: 'h1', peer: 'hush:abc', at: 5 }],
  unseenMissed: 2,
  backup: { done: true },
  admission: { 'hush:abc': { mailbox: 'm', send: 's', recv: ['r1'] } },
  blocked: [{ address: 'hush:bad', mailbox: 'mb' }],
  unrelated: 'stays',
};

beforeEach(() => {
  globalThis.indexedDB = new IDBFactory();
  idbKv._reset();
});

test('every old key moves into IndexedDB unchanged and leaves storage.local; unrelated keys stay', async () => {
  const { area, mem } = fakeLocal(OLD);
  const r = await migrateLegacyLocal(area);
  expect(r.copied.sort()).toEqual([...LEGACY_LOCAL_KEYS].sort());
  for (const k of LEGACY_LOCAL_KEYS) expect(await idbKv.get(k)).toEqual(OLD[k]);
  expect([...mem.keys()]).toEqual(['unrelated']);
});

test('running it again does nothing (idempotent)', async () => {
  const { area } = fakeLocal(OLD);
  await migrateLegacyLocal(area);
  await idbKv.set('contacts', []);
  expect(await migrateLegacyLocal(area)).toEqual({ copied: [], removed: [] });
  expect(await idbKv.get('contacts')).toEqual([]);
});

test('after the move, keys a content script plants in storage.local are removed, never imported', async () => {
  const fresh = fakeLocal({});
  await migrateLegacyLocal(fresh.area); // a fresh install: nothing to move, done
  const planted = fakeLocal({ settings: { relays: ['wss://evil.example'] }, contacts: [{ id: 'hush:evil' }], unrelated: 1 });
  const r = await migrateLegacyLocal(planted.area);
  expect(r.copied).toEqual([]);
  expect(await idbKv.get('settings')).toBeUndefined();
  expect(await idbKv.get('contacts')).toBeUndefined();
  expect([...planted.mem.keys()]).toEqual(['unrelated']);
});

test('a failure to remove loses nothing; the next run keeps the newer IndexedDB value and finishes', async () => {
  const broken = fakeLocal(OLD, true);
  await expect(migrateLegacyLocal(broken.area)).rejects.toThrow('quota');
  expect(broken.mem.get('identity')).toEqual(OLD.identity);
  // The app wrote after the copy: the retry must not overwrite it with the old value.
  await idbKv.set('unseenMissed', 0);
  const ok = fakeLocal(Object.fromEntries(broken.mem));
  const r = await migrateLegacyLocal(ok.area);
  expect(r.copied).toEqual([]);
  expect(await idbKv.get('unseenMissed')).toBe(0);
  expect(await idbKv.get('identity')).toEqual(OLD.identity);
  expect([...ok.mem.keys()]).toEqual(['unrelated']);
});

test('a copy that cannot be verified keeps storage.local as it was', async () => {
  const { area, mem } = fakeLocal(OLD);
  const lying = { ...idbKv, get: async () => undefined as never, setMany: async () => undefined };
  await expect(migrateLegacyLocal(area, lying)).rejects.toThrow('ERR_MIGRATION_VERIFY');
  expect(mem.get('identity')).toEqual(OLD.identity);
  expect(mem.size).toBe(Object.keys(OLD).length);
});

test('a database that cannot open keeps storage.local as it was', async () => {
  const { area, mem } = fakeLocal(OLD);
  globalThis.indexedDB = { open: () => { throw new Error('ERR_IDB_OPEN'); } } as never;
  idbKv._reset();
  await expect(migrateLegacyLocal(area)).rejects.toThrow('ERR_IDB_OPEN');
  expect(mem.size).toBe(Object.keys(OLD).length);
});

test('the items read the migrated values through the stores\' API', async () => {
  await fakeBrowser.storage.local.set(structuredClone(OLD));
  const { identityItem, contactsItem, historyItem, blockedItem } = await import('./storage');
  expect(await identityItem.getValue()).toEqual(OLD.identity);
  expect(await contactsItem.getValue()).toEqual(OLD.contacts);
  expect(await historyItem.getValue()).toEqual(OLD.history);
  expect(await blockedItem.getValue()).toEqual(OLD.blocked);
  expect(await fakeBrowser.storage.local.get(null)).toEqual({ unrelated: 'stays' });
});

test('issue 15: contacts and history from before relays were saved move unchanged and are rung on our own relay', async () => {
  const { savedRelays } = await import('../contacts/contact-relays');
  const old = {
    contacts: [{ address: 'hush1old', name: 'Ada', verified: true, addedAt: 1 }],
    history: [{ direction: 'outgoing', address: 'hush1old', at: 5, outcome: 'hangup' }],
  };
  const { area } = fakeLocal(old);
  await migrateLegacyLocal(area);
  const contacts = (await idbKv.get<Array<{ relays?: unknown; name: string }>>('contacts'))!;
  const history = (await idbKv.get<Array<{ relays?: unknown }>>('history'))!;
  expect(contacts).toEqual(old.contacts); // no field invented, nothing rewritten
  expect(savedRelays(contacts[0]!.relays, contacts[0]!.name)).toEqual([]);
  expect(savedRelays(history[0]!.relays, 'hush1old')).toEqual([]);
});
