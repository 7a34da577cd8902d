/**
 * Settings an organisation pushes through enterprise policy (docs/operators.md,
 * "Managed browsers"). Both browsers expose them read-only as
 * `browser.storage.managed`:
 *  - Chrome/Chromium: the extension's policy, validated against
 *    public/managed_schema.json (manifest `storage.managed_schema`); on Linux
 *    from `/etc/chromium/policies/managed/*.json` →
 *    `"3rdparty": { "extensions": { "<extension id>": {...} } }`.
 *  - Firefox: `policies.json` →
 *    `"3rdparty": { "Extensions": { "hush@hushvoice.org": {...} } }`.
 *
 * Only `relays` and `privacyMode` may be managed. A managed value overrides
 * the person's own, shows as locked in the options, and the background
 * refuses to change it (SettingsStore.update).
 *
 * Caveats: Firefox rejects `storage.managed.get` when no policy names Hush
 * (and Chrome may too without a schema), so a failure reads as "nothing
 * managed". A malformed value (a relay that is not ws:// or wss://) is
 * dropped, never half-applied: the person's own setting stays in force.
 */
import { browser } from 'wxt/browser';
import type { Settings } from '../messaging/view';

/** The settings an organisation may manage, and nothing else. */
export const MANAGEABLE_KEYS = ['relays', 'privacyMode'] as const;
export type ManagedKey = (typeof MANAGEABLE_KEYS)[number];
export type ManagedSettings = Partial<Pick<Settings, ManagedKey>>;

const RELAY_RE = /^wss?:\/\/[^\s]+$/;

/**
 * The managed values from a raw `storage.managed` object: unknown keys and
 * malformed values are left out (a policy typo never breaks Hush).
 */
export function parseManaged(raw: unknown): ManagedSettings {
  const out: ManagedSettings = {};
  if (typeof raw !== 'object' || raw === null) return out;
  const r = raw as Record<string, unknown>;
  if (Array.isArray(r.relays)) {
    const relays = r.relays.map((u) => (typeof u === 'string' ? u.trim() : '')).filter(Boolean);
    if (relays.length > 0 && relays.every((u) => RELAY_RE.test(u))) out.relays = relays;
  }
  if (typeof r.privacyMode === 'boolean') out.privacyMode = r.privacyMode;
  return out;
}

/** A change to a value the organisation manages (SettingsStore.update): shown to the person as `mgd.refused`. */
export class ManagedSettingError extends Error {
  readonly code = 'ERR_MANAGED' as const;
  constructor(readonly key: ManagedKey) {
    super(`${key} is set by your organisation: it cannot be changed here.`);
    this.name = 'ManagedSettingError';
  }
}

/** The keys a policy sets. */
export function managedKeys(m: ManagedSettings): ManagedKey[] {
  return MANAGEABLE_KEYS.filter((k) => m[k] !== undefined);
}

/** Read the policy; nothing managed when the browser has none for Hush (or no managed storage at all). */
export async function readManaged(): Promise<ManagedSettings> {
  try {
    const area = browser.storage?.managed;
    if (!area) return {};
    return parseManaged(await area.get(null));
  } catch {
    return {};
  }
}

/** Call `onChange` when the organisation changes the policy while Hush runs. */
export function watchManaged(onChange: (m: ManagedSettings) => void): () => void {
  const listener = (_changes: unknown, area: string) => {
    if (area === 'managed') void readManaged().then(onChange);
  };
  browser.storage?.onChanged?.addListener(listener);
  return () => browser.storage?.onChanged?.removeListener(listener);
}
