/**
 * The person's settings (messaging/view.ts Settings) as the background keeps
 * them: in memory, saved to extension storage (storage.ts settingsItem) on
 * every change, stored values laid over DEFAULT_SETTINGS so a setting added in
 * an update gets its default.
 */
import { CallError } from '../call/manager';
import type { Settings } from '../messaging/view';
import { DEFAULT_SETTINGS, settingsItem } from './storage';

export class SettingsStore {
  private constructor(private settings: Settings) {}

  static async load(): Promise<SettingsStore> {
    return new SettingsStore({ ...DEFAULT_SETTINGS, ...(await settingsItem.getValue()) });
  }

  get current(): Settings {
    return this.settings;
  }

  /**
   * Apply and save a change. Relay addresses are trimmed, empty ones dropped,
   * and anything but ws:// or wss:// is refused with a sentence for the person.
   */
  async update(patch: Partial<Settings>): Promise<{ settings: Settings; relaysChanged: boolean }> {
    const next: Settings = { ...this.settings, ...patch };
    if (patch.relays) {
      next.relays = patch.relays.map((u) => u.trim()).filter(Boolean);
      for (const u of next.relays) {
        if (!/^wss?:\/\/[^\s]+$/.test(u)) throw new CallError('ERR_NO_CALL', `“${u}” is not a relay address (ws://… or wss://…).`);
      }
    }
    const relaysChanged = JSON.stringify(next.relays) !== JSON.stringify(this.settings.relays);
    this.settings = next;
    await settingsItem.setValue(next);
    return { settings: next, relaysChanged };
  }

  /** Whether a web page's origin may start calls without asking each time (page API, "always"). */
  async allowOrigin(origin: string): Promise<{ relaysChanged: boolean } | undefined> {
    const origins = this.settings.pageOrigins ?? [];
    if (origins.includes(origin)) return undefined;
    return this.update({ pageOrigins: [...origins, origin] });
  }
}
