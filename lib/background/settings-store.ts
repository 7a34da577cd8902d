/**
 * The person's settings (messaging/view.ts Settings) as the background keeps
 * them: in memory, saved to extension storage (storage.ts settingsItem) on
 * every change, stored values laid over DEFAULT_SETTINGS so a setting added in
 * an update gets its default. Values an organisation manages (managed-settings.ts)
 * are laid over the person's and cannot be changed here; only the person's own
 * values are saved, so a policy taken away gives them back.
 */
import { CallError } from '../call/manager';
import { relayUrlProblem } from '../signal/relay-url';
import { testInsecureRelayHost } from '../testing/hooks';
import type { Settings } from '../messaging/view';
import { DEFAULT_SETTINGS, settingsItem } from './storage';
import { type ManagedKey, type ManagedSettings, ManagedSettingError, managedKeys, readManaged } from './managed-settings';

export class SettingsStore {
  private constructor(
    private settings: Settings,
    private managed: ManagedSettings = {},
  ) {}

  static async load(): Promise<SettingsStore> {
    return new SettingsStore({ ...DEFAULT_SETTINGS, ...(await settingsItem.getValue()) }, await readManaged());
  }

  /** The settings in force: the person's, with the organisation's managed values over them. */
  get current(): Settings {
    return { ...this.settings, ...this.managed };
  }

  /** The keys the organisation sets (shown locked in the options). */
  get managedKeys(): ManagedKey[] {
    return managedKeys(this.managed);
  }

  /** A new policy while running: whether the relays in force changed. */
  setManaged(m: ManagedSettings): { relaysChanged: boolean } {
    const before = JSON.stringify(this.current.relays);
    this.managed = m;
    return { relaysChanged: JSON.stringify(this.current.relays) !== before };
  }

  /**
   * Apply and save a change. Relay addresses are trimmed, empty ones dropped,
   * and anything but ws:// or wss:// is refused with a sentence for the person,
   * and so is ws:// to a host that is not loopback (it must be wss://).
   */
  async update(patch: Partial<Settings>): Promise<{ settings: Settings; relaysChanged: boolean }> {
    for (const k of this.managedKeys) {
      if (k in patch) throw new ManagedSettingError(k);
    }
    const before = JSON.stringify(this.current.relays);
    const next: Settings = { ...this.settings, ...patch };
    if (patch.relays) {
      next.relays = patch.relays.map((u) => u.trim()).filter(Boolean);
      for (const u of next.relays) {
        if (!/^wss?:\/\/[^\s]+$/.test(u)) throw new CallError('ERR_NO_CALL', `“${u}” is not a relay address (ws://… or wss://…).`);
        // wss:// for every host but loopback (lib/signal/relay-url.ts): said here, where it was typed.
        const problem = relayUrlProblem(u, { insecureAllowed: testInsecureRelayHost });
        if (problem) throw new CallError('ERR_NO_CALL', problem);
      }
    }
    this.settings = next;
    await settingsItem.setValue(next);
    return { settings: this.current, relaysChanged: JSON.stringify(this.current.relays) !== before };
  }

  /** Whether a web page's origin may start calls without asking each time (page API, "always"). */
  async allowOrigin(origin: string): Promise<{ relaysChanged: boolean } | undefined> {
    const origins = this.settings.pageOrigins ?? [];
    if (origins.includes(origin)) return undefined;
    return this.update({ pageOrigins: [...origins, origin] });
  }
}
