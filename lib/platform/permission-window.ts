/**
 * Chrome's side of the microphone gate (lib/background/mic-gate.ts): the permission state read
 * in the offscreen document (where the call's getUserMedia will run), and Hush's permission
 * window (permission.html), a small popup window that can show Chrome's prompt.
 *
 * Issue 17: the service worker reads the same origin's permission first (the Permissions API
 * exists in workers); `granted` there is the answer at once, with no offscreen document to create
 * on the dial's path. Anything else is asked in the offscreen document, as before.
 */
import { browser } from 'wxt/browser';
import type { MicGateHost } from '../background/mic-gate';
import { PERMISSION_WINDOW } from '../background/mic-gate';
import type { OffscreenRequest, OffscreenResponse } from '../messaging/protocol';
import { ensureOffscreen } from './offscreen';

export function chromeMicGateHost(log?: (m: string) => void): MicGateHost {
  return {
    async query() {
      if ((await workerMicState()) === 'granted') return 'granted';
      await ensureOffscreen();
      const r = (await browser.runtime.sendMessage({ target: 'offscreen', kind: 'mic-state' } satisfies OffscreenRequest)) as OffscreenResponse<string>;
      const v = r?.ok ? r.value : 'unknown';
      return v === 'granted' || v === 'denied' || v === 'prompt' ? v : 'unknown';
    },
    async openWindow() {
      const w = await browser.windows.create({
        url: browser.runtime.getURL('/permission.html'),
        type: 'popup',
        focused: true,
        ...PERMISSION_WINDOW,
      });
      return w?.id;
    },
    async closeWindow(id) {
      await browser.windows.remove(id);
    },
    onWindowClosed(cb) {
      const l = (id: number) => cb(id);
      browser.windows.onRemoved.addListener(l);
      return () => browser.windows.onRemoved.removeListener(l);
    },
    log,
  };
}

/** The microphone permission as this (service worker) context reads it; 'unknown' where it cannot. */
async function workerMicState(): Promise<string> {
  try {
    return (await navigator.permissions.query({ name: 'microphone' as PermissionName })).state;
  } catch {
    return 'unknown';
  }
}
