/**
 * The microphone permission as a visible Hush page sees it, and the one
 * place Hush asks for it (issue 12).
 *
 * Why a visible page: Chrome's offscreen document cannot show the permission
 * prompt; its getUserMedia fails at once with `NotAllowedError: Permission
 * dismissed` while the state stays `prompt`. A tab or window of the extension
 * can show it, and Chrome records the grant for the extension's origin
 * (`chrome-extension://<id>`), which the offscreen document then shares.
 *
 * States (Permissions API, `navigator.permissions.query({name:'microphone'})`):
 *   prompt ──Allow──▶ granted
 *      │ └─close/Esc─▶ prompt again ("dismissed": Chrome asks again next time,
 *      │               and blocks for a while after three dismissals)
 *      └──Block────▶ denied (only the browser's settings lift it)
 * The page also listens to the status's `change` event: a grant recorded while
 * the page is open (the person allowed it in the address-bar icon after a
 * dismissal, or changed the site settings) is seen at once.
 *
 * Caveat: Firefox answers `query({name:'microphone'})` too (since 121), but
 * keeps its extension grants per add-on, not per page; its steps differ
 * (lib/i18n: firefoxMicBlocked, with Firefox's own labels).
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import { errorName } from '../media/errors';
import type { MicPermissionReport } from '../messaging/protocol';

/** What the browser says now; 'unknown' when it cannot say (no Permissions API). */
export type MicPermissionState = 'granted' | 'denied' | 'prompt' | 'unknown';

/** Chrome's settings page for Hush's own origin: Microphone is one of its rows. */
export function siteSettingsUrl(extensionOrigin: string): string {
  return `chrome://settings/content/siteDetails?site=${encodeURIComponent(extensionOrigin)}`;
}
/** The microphone's list of allowed and blocked sites: the fallback when the site page cannot open. */
export const MIC_SETTINGS_URL = 'chrome://settings/content/microphone';

/**
 * What a failed getUserMedia means for the person, from the error's name and
 * the permission state read just after it: Chrome rejects a dismissed prompt
 * and a block with the same NotAllowedError; only the state tells them apart.
 * Any other failure (no device, device busy) is not a permission answer: null.
 */
export function permissionOutcome(error: unknown, stateAfter: MicPermissionState): MicPermissionReport['state'] | null {
  const name = errorName(error);
  if (name !== 'NotAllowedError' && name !== 'PermissionDeniedError' && name !== 'SecurityError') return null;
  return stateAfter === 'denied' ? 'denied' : 'dismissed';
}

async function permissionStatus(): Promise<PermissionStatus | undefined> {
  try {
    return await navigator.permissions?.query({ name: 'microphone' as PermissionName });
  } catch {
    return undefined;
  }
}

function asState(s: string | undefined): MicPermissionState {
  return s === 'granted' || s === 'denied' || s === 'prompt' ? s : 'unknown';
}

/** Tell the background what the person answered (it continues or ends the call that needed it). */
export function reportMicPermission(state: MicPermissionReport['state']): void {
  const msg: MicPermissionReport = { target: 'background', kind: 'mic-permission', state };
  void browser.runtime.sendMessage(msg).catch(() => {});
}

/** Open Chrome's settings where Hush's microphone block can be lifted. */
export async function openMicrophoneSettings(): Promise<void> {
  const origin = new URL(browser.runtime.getURL('/')).origin;
  try {
    await browser.tabs.create({ url: siteSettingsUrl(origin) });
  } catch {
    await browser.tabs.create({ url: MIC_SETTINGS_URL });
  }
}

export interface MicPermission {
  state: MicPermissionState;
  /** The last request's answer: 'dismissed' when the person closed the prompt. */
  last?: MicPermissionReport['state'];
  /** A request is showing the browser's prompt. */
  asking: boolean;
  /** A failure that is not a permission answer (no microphone…), as a sentence. */
  error?: string;
  /** Show the browser's prompt (must run from a click). */
  ask(): Promise<void>;
}

/**
 * The permission's live state and the request that shows the prompt. Each
 * answer is reported once to the background (`onAnswer`), including a grant
 * seen only through the `change` event.
 */
export function useMicPermission(onAnswer: (state: MicPermissionReport['state']) => void = reportMicPermission): MicPermission {
  const [state, setState] = useState<MicPermissionState>('unknown');
  const [last, setLast] = useState<MicPermissionReport['state']>();
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<string>();
  // A grant arrives twice (getUserMedia resolves, and the status changes): report each answer once.
  const reported = useRef<MicPermissionReport['state'] | undefined>(undefined);
  const answer = useCallback(
    (s: MicPermissionReport['state']) => {
      setLast(s);
      if (reported.current === s) return;
      reported.current = s;
      onAnswer(s);
    },
    [onAnswer],
  );

  useEffect(() => {
    let status: PermissionStatus | undefined;
    let gone = false;
    const onChange = () => {
      const s = asState(status?.state);
      setState(s);
      if (s === 'granted' || s === 'denied') answer(s);
    };
    void permissionStatus().then((s) => {
      if (gone || !s) return;
      status = s;
      setState(asState(s.state));
      s.addEventListener('change', onChange);
    });
    return () => {
      gone = true;
      status?.removeEventListener('change', onChange);
    };
  }, [answer]);

  const ask = useCallback(async () => {
    setAsking(true);
    setError(undefined);
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      // Only the grant was wanted: release the microphone at once.
      stream.getTracks().forEach((t) => t.stop());
      setState('granted');
      answer('granted');
    } catch (e) {
      const now = asState((await permissionStatus())?.state);
      setState(now);
      const outcome = permissionOutcome(e, now);
      if (outcome) {
        // A dismissal may be followed by a grant: let the same answer be reported again after it.
        answer(outcome);
        if (outcome === 'dismissed') reported.current = undefined;
      } else {
        setError(errorName(e));
      }
    } finally {
      setAsking(false);
    }
  }, [answer]);

  return { state, last, asking, error, ask };
}
