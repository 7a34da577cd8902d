import { beforeEach, expect, test, vi } from 'vitest';
import type { Settings } from '../messaging/view';

// The person's saved settings (storage.ts) and the organisation's policy (storage.managed), both in memory.
const mem = new Map<string, unknown>();
let policy: unknown = {};
const DEFAULTS: Settings = { relays: ['wss://default.example/signal'], privacyMode: false, ringtone: true };
vi.mock('./storage', () => ({
  DEFAULT_SETTINGS: DEFAULTS,
  settingsItem: {
    getValue: async () => (mem.has('settings') ? structuredClone(mem.get('settings')) : DEFAULTS),
    setValue: async (v: unknown) => void mem.set('settings', structuredClone(v)),
  },
}));
vi.mock('wxt/browser', () => ({
  browser: {
    storage: {
      managed: { get: async () => (policy instanceof Error ? Promise.reject(policy) : structuredClone(policy)) },
      onChanged: { addListener() {}, removeListener() {} },
    },
  },
}));

const { parseManaged, readManaged, managedKeys } = await import('./managed-settings');
const { SettingsStore } = await import('./settings-store');

beforeEach(() => {
  mem.clear();
  policy = {};
});

test('parseManaged keeps well-formed relays and privacyMode, and nothing else', () => {
  expect(parseManaged({ relays: [' wss://relay.corp/signal ', 'ws://10.0.0.2:8443/signal'], privacyMode: true, ringtone: false })).toEqual({
    relays: ['wss://relay.corp/signal', 'ws://10.0.0.2:8443/signal'],
    privacyMode: true,
  });
  // A policy typo is dropped whole, never half-applied.
  expect(parseManaged({ relays: ['wss://ok/signal', 'https://wrong'] })).toEqual({});
  expect(parseManaged({ relays: [] })).toEqual({});
  expect(parseManaged({ privacyMode: 'yes' })).toEqual({});
  expect(parseManaged(null)).toEqual({});
  expect(managedKeys({ privacyMode: false })).toEqual(['privacyMode']);
});

test('no policy for Hush (Firefox rejects storage.managed.get) reads as nothing managed', async () => {
  policy = new Error('Managed storage manifest not found');
  expect(await readManaged()).toEqual({});
});

test('managed values override the person’s, cannot be changed, and are never saved as theirs', async () => {
  mem.set('settings', { ...DEFAULTS, relays: ['wss://mine.example/signal'], privacyMode: false });
  policy = { relays: ['wss://relay.corp/signal'], privacyMode: true };
  const s = await SettingsStore.load();
  expect(s.current.relays).toEqual(['wss://relay.corp/signal']);
  expect(s.current.privacyMode).toBe(true);
  expect(s.managedKeys).toEqual(['relays', 'privacyMode']);

  await expect(s.update({ relays: ['wss://other.example/signal'] })).rejects.toMatchObject({ code: 'ERR_MANAGED' });
  await expect(s.update({ privacyMode: false })).rejects.toMatchObject({ code: 'ERR_MANAGED' });
  // What is not managed stays the person's to change; the save holds their own relays.
  const r = await s.update({ ringtone: false });
  expect(r.relaysChanged).toBe(false);
  expect(r.settings.relays).toEqual(['wss://relay.corp/signal']);
  expect((mem.get('settings') as Settings).relays).toEqual(['wss://mine.example/signal']);
  expect((mem.get('settings') as Settings).ringtone).toBe(false);

  // The organisation lifts the policy: the person's own values are back.
  expect(s.setManaged({})).toEqual({ relaysChanged: true });
  expect(s.current.relays).toEqual(['wss://mine.example/signal']);
  expect(s.current.privacyMode).toBe(false);
  expect(s.managedKeys).toEqual([]);
});

test('the policy snippets in docs/operators.md give Hush exactly relays and privacy mode, in both browsers', async () => {
  const { readFileSync } = await import('node:fs');
  const doc = readFileSync(new URL('../../docs/operators.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## Managed browsers'), doc.indexOf('## Troubleshooting'));
  const snippets = [...section.matchAll(/```jsonc\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as Record<string, any>);
  expect(snippets.length).toBe(2);
  const [chrome, firefox] = snippets;
  const want = { relays: ['wss://relay.example.org:8443/signal'], privacyMode: true };
  expect(parseManaged(chrome!['3rdparty'].extensions['<hush extension id>'])).toEqual(want);
  // Firefox's key is the add-on id in wxt.config.ts (GECKO_ID).
  const config = readFileSync(new URL('../../wxt.config.ts', import.meta.url), 'utf8');
  const geckoId = /const GECKO_ID = '([^']+)'/.exec(config)![1]!;
  expect(parseManaged(firefox!.policies['3rdparty'].Extensions[geckoId])).toEqual(want);
  // And the Chrome schema names the same two keys, nothing more.
  const schema = JSON.parse(readFileSync(new URL('../../public/managed_schema.json', import.meta.url), 'utf8')) as { properties: object };
  expect(Object.keys(schema.properties)).toEqual(['relays', 'privacyMode']);
});

test('a refused change reaches the page as ERR_MANAGED with its sentence, not as a generic failure', async () => {
  policy = { privacyMode: true };
  const s = await SettingsStore.load();
  const e = await s.update({ privacyMode: false }).catch((x: unknown) => x);
  const { failure } = await import('./ui-dispatch');
  expect(failure(e)).toEqual({ ok: false, code: 'ERR_MANAGED', message: 'privacyMode is set by your organisation: it cannot be changed here.' });
  const { errorText } = await import('../i18n/messages');
  expect(errorText(failure(e), 'en')).toBe('This setting is set by your organisation: it cannot be changed here.');
  expect(errorText(failure(e), 'fr')).toBe('Ce réglage est défini par votre organisation : il ne peut pas être modifié ici.');
});
