/**
 * Issue 13, "Secrets out of content scripts' reach": a profile with the old
 * storage layout (everything in storage.local) keeps its address, contacts,
 * history, admission tokens and block list after the update; afterwards a
 * content-script-level attacker (CDP evaluate in the extension's isolated
 * world of a web page) can neither read the seed or contacts nor change what
 * the extension trusts by writing storage.local.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchWithExtension, type HushBrowser } from '../harness/chromium';
import { request } from '../harness/hush';
import { isolatedWorld } from '../harness/isolated-world';
import { startPageServer, type PageServer } from '../harness/ui';
import { identityFromSeed } from '../../lib/crypto/identity';
import { addressFromBundle, mailboxIdOfBundle } from '../../lib/crypto/address';
import type { AppView } from '../../lib/messaging/view';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const who = (n: number) => {
  const id = identityFromSeed(new Uint8Array(32).fill(n));
  return { address: addressFromBundle(id.bundleBytes), mailbox: mailboxIdOfBundle(id.bundleBytes) };
};
const SEED = new Uint8Array(32).map((_, i) => i + 1);
const ME = addressFromBundle(identityFromSeed(SEED).bundleBytes);
const ADA = who(7);
const BAD = who(9);

/** storage.local exactly as the last release wrote it (WXT `local:<key>` items). */
const OLD = {
  identity: { v: 1, seed: b64(SEED), createdAt: 1_700_000_000_000 },
  contacts: [{ address: ADA.address, name: 'Ada Lovelace', verified: true, addedAt: 1_700_000_000_001 }],
  history: [{ direction: 'incoming', address: ADA.address, at: 1_700_000_100_000, durationMs: 61_000, outcome: 'remote-hangup' }],
  unseenMissed: 0,
  backup: { done: true },
  admission: { [ADA.address]: { mailbox: ADA.mailbox, send: b64(new Uint8Array(32).fill(1)), recv: [b64(new Uint8Array(32).fill(2))] } },
  blocked: [{ address: BAD.address, mailbox: BAD.mailbox }],
};

let dir: string;
let hb: HushBrowser | undefined;
let web: PageServer;

async function start(): Promise<HushBrowser> {
  hb = await launchWithExtension({ userDataDir: dir });
  return hb;
}
async function stop(): Promise<void> {
  await hb?.close();
  hb = undefined;
}
async function view(b: HushBrowser): Promise<AppView> {
  const popup = await b.openPopup();
  await popup.waitForSelector('[data-testid="my-address"]', { timeout: 20_000 });
  const v = (await request(popup, 'get-view')) as AppView;
  await popup.close();
  return v;
}
/** What the background keeps in its IndexedDB, read from the service worker (the extension's origin). */
async function idb(b: HushBrowser, key: string): Promise<unknown> {
  const w = await b.worker();
  return w.evaluate(
    (k) =>
      new Promise((resolve, reject) => {
        const r = indexedDB.open('hush');
        r.onsuccess = () => {
          const g = r.result.transaction('kv').objectStore('kv').get(k);
          g.onsuccess = () => resolve(g.result);
          g.onerror = () => reject(g.error);
        };
        r.onerror = () => reject(r.error);
      }),
    key,
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hush-migrate-'));
  web = await startPageServer();
  web.set('/', '<!doctype html><title>plain</title><p>A plain page.</p>');
}, 60_000);
afterAll(async () => {
  await stop();
  await web?.close();
  await rm(dir, { recursive: true, force: true });
});

test('a profile with the old storage.local layout keeps its address, contacts, history, tokens and block list', async () => {
  // A fresh profile, then turned into the last release's layout: no extension database, the old keys in storage.local.
  const first = await start();
  await view(first);
  const w = await first.worker();
  await w.evaluate(
    (old) =>
      new Promise<void>((resolve, reject) => {
        const c = (globalThis as unknown as { chrome: { storage: { local: { clear(): Promise<void>; set(v: object): Promise<void> } } } }).chrome;
        const del = indexedDB.deleteDatabase('hush');
        del.onsuccess = () => void c.storage.local.clear().then(() => c.storage.local.set(old)).then(resolve, reject);
        del.onerror = () => reject(del.error);
      }),
    OLD,
  );
  await stop();

  const b = await start();
  const v = await view(b);
  expect(v.address).toBe(ME);
  expect(v.contacts).toEqual(OLD.contacts);
  expect(v.history).toEqual(OLD.history);
  expect(v.blocked).toEqual([BAD.address]);
  expect(v.backupNeeded).toBeFalsy();
  expect(await idb(b, 'admission')).toEqual(OLD.admission);
  expect(await idb(b, 'identity')).toEqual(OLD.identity);
  // The old copies are gone from storage.local once the new ones were verified.
  const left = await (await b.worker()).evaluate(() => (globalThis as unknown as { chrome: { storage: { local: { get(k: null): Promise<object> } } } }).chrome.storage.local.get(null));
  expect(Object.keys(left).filter((k) => k in OLD)).toEqual([]);
}, 120_000);

test("a content script's world can neither read the seed or contacts nor change what Hush trusts", async () => {
  const b = hb ?? (await start());
  const page = await b.browser.newPage();
  await page.goto(web.url + '/', { waitUntil: 'load' });
  const iso = await isolatedWorld(page, b.extensionId);
  const everything = await iso.run<Record<string, unknown>>('chrome.storage.local.get(null)');
  const dump = JSON.stringify(everything);
  for (const secret of [OLD.identity.seed, 'Ada Lovelace', ADA.address, OLD.admission[ADA.address]!.send]) expect(dump).not.toContain(secret);
  for (const k of ['identity', 'contacts', 'settings', 'admission', 'blocked', 'history']) expect(everything).not.toHaveProperty(k);
  // The page origin's IndexedDB is not the extension's: a database named like Hush's is empty there.
  const stores = await iso.run<string[]>(`new Promise((res) => { const r = indexedDB.open('hush'); r.onsuccess = () => { res([...r.result.objectStoreNames]); r.result.close(); indexedDB.deleteDatabase('hush'); }; r.onerror = () => res(['error']); })`);
  expect(stores).toEqual([]);

  // Writes land in storage.local, which Hush no longer reads: after a restart nothing changed.
  const evil = b64(new Uint8Array(32).fill(66));
  await iso.run(`chrome.storage.local.set(${JSON.stringify({
    identity: { v: 1, seed: evil, createdAt: 1 },
    contacts: [{ address: BAD.address, name: 'Evil', verified: true, addedAt: 1 }],
    settings: { relays: ['ws://evil.example/signal'], privacyMode: false, ringtone: true, contactsOnly: false },
    blocked: [],
  })})`);
  await page.close();
  await stop();
  const again = await start();
  const v = await view(again);
  expect(v.address).toBe(ME);
  expect(v.contacts).toEqual(OLD.contacts);
  expect(v.blocked).toEqual([BAD.address]);
  expect(v.settings.relays).not.toContain('ws://evil.example/signal');
  const left = await (await again.worker()).evaluate(() => (globalThis as unknown as { chrome: { storage: { local: { get(k: null): Promise<object> } } } }).chrome.storage.local.get(null));
  expect(left).not.toHaveProperty('identity');
  expect(left).not.toHaveProperty('contacts');
}, 120_000);
