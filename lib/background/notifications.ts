/**
 * The incoming-call system notification. Chrome shows Accept / Decline
 * buttons on it; Firefox has no notification buttons, so its text ends with
 * "Click to answer." and a click opens the call window, which shows Accept /
 * Decline (entrypoints/background.ts, lib/platform/call-window.ts).
 */
import { browser } from 'wxt/browser';
import { t, uiLang } from '../i18n/messages';

export const INCOMING_ID = 'hush-incoming';

/** The incoming-call notification: Chrome gets Accept / Decline buttons, Firefox (none) "Click to answer." */
export function incomingNotification(who: string): Record<string, unknown> {
  const fr = uiLang() === 'fr';
  const opts: Record<string, unknown> = {
    type: 'basic',
    iconUrl: browser.runtime.getURL('/icon/128.png'),
    title: fr ? 'Appel Hush entrant' : 'Incoming Hush call',
    message: who,
    priority: 2,
  };
  if (import.meta.env.CHROME) {
    opts.requireInteraction = true;
    opts.buttons = [{ title: fr ? 'Répondre' : 'Accept' }, { title: fr ? 'Refuser' : 'Decline' }];
  } else {
    opts.message = `${who}\n${t('ffx.notify.clickToAnswer')}`;
  }
  return opts;
}

export async function notifyIncoming(who: string): Promise<void> {
  await browser.notifications.create(INCOMING_ID, incomingNotification(who) as never).catch(() => {});
}

export function clearIncomingNotification(): void {
  browser.notifications.clear(INCOMING_ID).catch(() => {});
}
