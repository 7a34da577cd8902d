/** The options page's relay field (settings-store.ts): ws:// for a remote host is refused with a sentence naming wss:// (issue 15). */
import { expect, test, vi } from 'vitest';
import type { Settings } from '../messaging/view';

const mem = new Map<string, unknown>();
const DEFAULTS: Settings = { relays: ['wss://default.example/signal'], privacyMode: false, ringtone: true };
vi.mock('./storage', () => ({
  DEFAULT_SETTINGS: DEFAULTS,
  settingsItem: {
    getValue: async () => (mem.has('settings') ? structuredClone(mem.get('settings')) : DEFAULTS),
    setValue: async (v: unknown) => void mem.set('settings', structuredClone(v)),
  },
}));
vi.mock('wxt/browser', () => ({
  browser: { storage: { managed: { get: async () => ({}) }, onChanged: { addListener() {}, removeListener() {} } } },
}));

const { SettingsStore } = await import('./settings-store');

test('ws:// to a remote host is refused where it was typed; wss:// anywhere and ws:// on loopback are saved', async () => {
  const s = await SettingsStore.load();
  await expect(s.update({ relays: ['ws://relay.example/signal'] })).rejects.toThrow(/unencrypted.*wss:\/\//);
  expect(s.current.relays).toEqual(['wss://default.example/signal']);
  const r = await s.update({ relays: ['wss://relay.example/signal', 'ws://127.0.0.1:8080/signal'] });
  expect(r.settings.relays).toEqual(['wss://relay.example/signal', 'ws://127.0.0.1:8080/signal']);
});
