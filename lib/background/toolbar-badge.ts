/**
 * The toolbar button's badge and tooltip: the one place Hush can show something on pages it
 * cannot draw on (chrome:// pages, PDFs, the new tab page). Precedence:
 *
 *   microphone open (a call)  → "●" on red, tooltip "microphone on"
 *   microphone open but muted → "●" on grey, tooltip "microphone muted"
 *   otherwise                 → the count of unseen missed calls (none: no badge)
 *
 * The microphone is open from the moment a call starts its media: the caller gathers while
 * Dialing / Ringing (lib/call/session.ts), the callee after Accept. After the call the missed-call
 * count comes back. Chrome MV3 has `action`, Firefox MV2 `browserAction`: same calls.
 */
import { browser } from 'wxt/browser';
import { CallState } from '../call/state';
import type { CallView } from '../messaging/view';
import { t } from '../i18n/messages';

export type MicIndicator = 'live' | 'muted' | null;

/** Red like a recording light; grey when muted; the missed count keeps the same red. */
export const BADGE_LIVE = '#d93025';
export const BADGE_MUTED = '#5f6368';
export const BADGE_MISSED = '#d93025';
export const MIC_DOT = '●';

const MIC_OPEN_STATES: ReadonlySet<string> = new Set([
  CallState.Dialing,
  CallState.Ringing,
  CallState.Connecting,
  CallState.Connected,
  CallState.Reconnecting,
]);

/** Whether this call holds the microphone, and how the badge should say it. */
export function micIndicator(call: CallView | null): MicIndicator {
  if (!call || !MIC_OPEN_STATES.has(call.state)) return null;
  return call.muted ? 'muted' : 'live';
}

export interface BadgeLook {
  text: string;
  color: string;
  /** Tooltip; undefined: the manifest's own title. */
  title?: string;
}

export function badgeLook(mic: MicIndicator, unseenMissed: number): BadgeLook {
  if (mic === 'live') return { text: MIC_DOT, color: BADGE_LIVE, title: t('ring18.badge.micLive') };
  if (mic === 'muted') return { text: MIC_DOT, color: BADGE_MUTED, title: t('ring18.badge.micMuted') };
  return { text: unseenMissed > 0 ? String(unseenMissed) : '', color: BADGE_MISSED };
}

/** Applies a BadgeLook to the toolbar button, only when it changed. */
export class ToolbarBadge {
  private shown?: string;

  async show(look: BadgeLook): Promise<void> {
    const key = JSON.stringify(look);
    if (key === this.shown) return;
    this.shown = key;
    const action = browser.action ?? browser.browserAction;
    if (!action) return;
    await Promise.all([
      action.setBadgeBackgroundColor({ color: look.color }).catch(() => {}),
      action.setBadgeText({ text: look.text }).catch(() => {}),
      action.setTitle({ title: look.title ?? manifestTitle() }).catch(() => {}),
    ]);
  }
}

/** The toolbar button's own title from the manifest (MV3 `action`, MV2 `browser_action`). */
function manifestTitle(): string {
  const m = browser.runtime.getManifest() as { action?: { default_title?: string }; browser_action?: { default_title?: string } };
  return m.action?.default_title ?? m.browser_action?.default_title ?? 'Hush';
}
