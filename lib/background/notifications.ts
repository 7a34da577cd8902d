/**
 * The incoming-call system notification. Chrome shows Accept / Decline
 * buttons on it; Firefox has no notification buttons, so a click opens the
 * popup's incoming view instead (the popup shows the same two buttons).
 */
import { browser } from 'wxt/browser';
import { uiLang } from '../i18n/messages';

export const INCOMING_ID = 'hush-incoming';

export async function notifyIncoming(who: string): Promise<void> {
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
  }
  await browser.notifications.create(INCOMING_ID, opts as never).catch(() => {});
}

export function clearIncomingNotification(): void {
  browser.notifications.clear(INCOMING_ID).catch(() => {});
}
