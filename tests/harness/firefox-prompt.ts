/**
 * Firefox's own microphone prompt, read and answered through the browser's
 * chrome scope (firefox.ts: BiDi cannot set a microphone permission). It is the
 * panel a person sees; `ASKING` makes the fake microphone go through it
 * (`media.navigator.permission.fake`) instead of the test shortcut every other
 * Firefox test uses (`media.navigator.permission.disabled`).
 * Used by tests/e2e/firefox-mic-permission.test.ts and tests/lab/firefox-slow-allow.test.ts.
 */
import type { FirefoxBrowser } from './firefox';

/** The prefs that make the fake microphone ask like a real one. */
export const ASKING = { 'media.navigator.permission.disabled': false, 'media.navigator.permission.fake': true };

/** Chrome-scope code: the microphone prompt of the window showing `url`, as {found, url}. */
export const FIND_PROMPT = (urlPrefix: string) => `
  for (const win of Services.wm.getEnumerator('navigator:browser')) {
    const browser = win.gBrowser.selectedBrowser;
    const n = win.PopupNotifications.getNotification('webRTC-shareDevices', browser);
    if (n) {
      const panel = win.PopupNotifications.panel;
      return { found: true, url: browser.currentURI.spec, ours: browser.currentURI.spec.startsWith(${JSON.stringify(urlPrefix)}), popupWindow: !win.toolbar.visible,
        panelWidth: panel.getBoundingClientRect().width, windowWidth: win.innerWidth };
    }
  }
  return { found: false };`;

/** Chrome-scope code: tick "Remember this decision" and press Allow (main) or Block (secondary). */
export const ANSWER_PROMPT = (allow: boolean) => `
  for (const win of Services.wm.getEnumerator('navigator:browser')) {
    if (!win.PopupNotifications.getNotification('webRTC-shareDevices', win.gBrowser.selectedBrowser)) continue;
    const el = win.PopupNotifications.panel.firstElementChild;
    if (!el) return 'panel not shown';
    el.checkbox.checked = true;
    (${allow} ? el.button : el.secondaryButton).click();
    return (${allow} ? el.getAttribute('buttonlabel') : el.getAttribute('secondarybuttonlabel'));
  }
  return 'no prompt';`;

/** Chrome-scope code: the remembered microphone decision of `origin` (0 none, 1 allow, 2 deny). */
export const PERMISSION_OF = (origin: string) => `
  const p = Services.scriptSecurityManager.createContentPrincipalFromOrigin(${JSON.stringify(origin)});
  return Services.perms.testExactPermissionFromPrincipal(p, 'microphone');`;

/** Forget what the person answered for `origin`: Firefox asks again. */
export async function forgetMicrophone(fb: FirefoxBrowser, origin: string): Promise<void> {
  await fb.chrome(`
    const p = Services.scriptSecurityManager.createContentPrincipalFromOrigin(${JSON.stringify(origin)});
    Services.perms.removeFromPrincipal(p, 'microphone');`);
}

/** Whether Firefox shows its microphone prompt for a Hush page whose URL starts with `urlPrefix`. */
export async function promptShown(fb: FirefoxBrowser, urlPrefix: string): Promise<boolean> {
  const p = await fb.chrome<{ found: boolean; ours?: boolean; panelWidth?: number }>(FIND_PROMPT(urlPrefix));
  return p.found && !!p.ours && (p.panelWidth ?? 0) > 0;
}
