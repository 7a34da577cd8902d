/**
 * What a person can do to the current call, written once for the three places
 * that offer it: the extension's pages (ui-dispatch.ts), the in-page bar and
 * page API (lib/page-api/bridge.ts), and the incoming-call notification's
 * buttons (Chrome). Accepting or hanging up also takes the incoming-call
 * notification away.
 */
import type { CallManager } from '../call/manager';
import { CallState } from '../call/state';
import { INCOMING_ID, clearIncomingNotification } from './notifications';

export interface CallControls {
  accept(): void;
  hangup(): void;
  mute(muted: boolean): void;
  /** Forget a call that has ended (its "ended" card goes away). */
  dismiss(): void;
  /** A button on the incoming-call notification: 0 is Accept, any other Decline. */
  notificationButton(id: string, button: number): void;
}

/** `calls` is read at each use: importing an identity replaces the call manager. */
export function callControls(calls: () => CallManager, changed: () => void): CallControls {
  const controls: CallControls = {
    accept() {
      clearIncomingNotification();
      calls().accept();
    },
    hangup() {
      clearIncomingNotification();
      calls().hangup();
    },
    mute(muted) {
      calls().setMuted(muted);
    },
    dismiss() {
      const c = calls();
      if (c.current?.state === CallState.Ended) c.current = undefined;
      changed();
    },
    notificationButton(id, button) {
      if (id !== INCOMING_ID) return;
      if (button === 0) controls.accept();
      else controls.hangup();
    },
  };
  return controls;
}
