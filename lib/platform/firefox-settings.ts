/**
 * Where Firefox keeps the microphone decision it remembered for Hush, named
 * with Firefox's own labels, so a person who clicked Block (remembered: the
 * prompt's "Remember for all microphones" box is ticked by default) finds the
 * way out. The call window has no address bar, hence no permission icon to
 * undo it from; Settings is the only place.
 *
 * Firefox ESR 153's settings (about:preferences, the "Permissions and data"
 * pane, browser/content/browser/preferences/config/permissions-data.mjs):
 *
 *   Settings → Permissions and data → Permissions → Microphone   (a button: opens
 *   the "Settings - Microphone Permissions" dialog, which lists every origin with a
 *   decision: Hush is `moz-extension://<this install's UUID>`, not "Hush")
 *   → select it → Remove Website → Save Changes
 *
 * The sentences in lib/i18n/messages.ts (ffx.micBlocked*) spell these labels out;
 * firefox-settings.test.ts reads the installed Firefox's localisation (omni.ja and
 * the French language pack) by the Fluent ids below and fails when Firefox renames
 * one. Older Firefoxes (before the settings redesign) said "Privacy & Security";
 * Hush requires 153 (strict_min_version).
 */

/** Each label of the path, by the Fluent id (and attribute) Firefox renders it from. */
export const FIREFOX_MIC_SETTINGS = {
  /** The settings page itself (the menu item and the page title). */
  settings: { file: 'browser/preferences/preferences.ftl', id: 'settings-page-title', attr: null },
  /** The pane in the sidebar. */
  pane: { file: 'browser/preferences/preferences.ftl', id: 'pane-permissions-data-title2', attr: null },
  /** The group heading inside it. */
  group: { file: 'browser/preferences/preferences.ftl', id: 'permissions-header3', attr: 'label' },
  /** The row (a button) that opens the microphone exceptions dialog. */
  microphone: { file: 'browser/preferences/preferences.ftl', id: 'permissions-microphone2', attr: 'label' },
  /** The dialog's button that forgets the selected origin's decision. */
  remove: { file: 'browser/preferences/permissions.ftl', id: 'permissions-remove', attr: 'label' },
  /** The dialog's accept button. */
  save: { file: 'browser/preferences/permissions.ftl', id: 'permission-dialog', attr: 'buttonlabelaccept' },
  /** The prompt's Allow button (the person chooses it on the next call). */
  allow: { file: 'browser/webrtcIndicator.ftl', id: 'webrtc-action-allow', attr: 'label' },
} as const;

export type FirefoxSettingsLabel = keyof typeof FIREFOX_MIC_SETTINGS;

/** The labels as Firefox ESR 153 shows them, per UI language (checked against the installed Firefox). */
export const FIREFOX_MIC_LABELS: Record<'en' | 'fr', Record<FirefoxSettingsLabel, string>> = {
  en: {
    settings: 'Settings',
    pane: 'Permissions and data',
    group: 'Permissions',
    microphone: 'Microphone',
    remove: 'Remove Website',
    save: 'Save Changes',
    allow: 'Allow',
  },
  fr: {
    settings: 'Paramètres',
    pane: 'Autorisations et données',
    group: 'Permissions',
    microphone: 'Microphone',
    remove: 'Supprimer le site',
    save: 'Enregistrer les modifications',
    allow: 'Autoriser',
  },
};

/** The path to the microphone list, as the sentences write it ("Settings → … → Microphone"). */
export function firefoxMicPath(lang: 'en' | 'fr'): string {
  const l = FIREFOX_MIC_LABELS[lang];
  return [l.settings, l.pane, l.group, l.microphone].join(' → ');
}

/**
 * Hush's origin as Firefox's permission list shows it: `moz-extension://<UUID>`.
 * The UUID is per install (and per profile), so only the running extension can say it.
 */
export function hushOrigin(): string {
  const runtime = (globalThis as { browser?: { runtime?: { getURL?(p: string): string } } }).browser?.runtime;
  const url = typeof runtime?.getURL === 'function' ? runtime.getURL('') : '';
  return url ? url.replace(/\/$/, '') : 'moz-extension://…';
}
