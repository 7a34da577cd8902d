/**
 * The current call as the extension's pages show it (CallView,
 * lib/messaging/view.ts): the session's state plus what the contact list
 * knows about the peer. A call still in its handshake is not shown yet.
 */
import type { CallSession } from '../call/session';
import { CallState, isVisible } from '../call/state';
import { endMessage } from '../i18n/messages';
import type { CallView, Contact } from '../messaging/view';
import type { ToneName } from '../ui/ringtone';

/**
 * The tone the media host plays for this call, if any: the ringtone while it rings here (when the
 * setting is on), the ringback while the callee's device rings (state Ringing, caller only), until
 * the call is answered, declined or ends.
 */
export function callTone(s: CallSession | undefined, ringtoneOn: boolean): ToneName | null {
  if (s?.state === CallState.Incoming) return ringtoneOn ? 'ringtone' : null;
  if (s?.state === CallState.Ringing && s.role === 'caller') return 'ringback';
  return null;
}

/** A caller told "busy" during the call `callId` (call waiting). */
export interface WaitingCaller {
  callId: string;
  address: string;
  at: number;
}

export function callView(
  s: CallSession | undefined,
  contactFor: (address?: string) => Contact | undefined,
  waiting?: WaitingCaller,
): CallView | null {
  if (!s) return null;
  const state = s.state;
  if (!isVisible(state)) return null;
  const contact = contactFor(s.peerAddress);
  return {
    callId: s.callId,
    direction: s.role === 'caller' ? 'outgoing' : 'incoming',
    peerAddress: s.peerAddress,
    peerName: contact?.name || undefined,
    peerVerified: !!contact?.verified,
    peerKeyChanged: !!contact?.keyChanged,
    state,
    endReason: s.reason,
    endMessage: s.reason ? endMessage(s.reason) : undefined,
    path: s.path,
    muted: s.muted,
    ringback: callTone(s, false) === 'ringback',
    sas: s.sas,
    startedAt: s.startedAt,
    connectedAt: s.connectedAt,
    endedAt: s.endedAt,
    waiting:
      waiting?.callId === s.callId
        ? { address: waiting.address, name: contactFor(waiting.address)?.name || undefined, at: waiting.at }
        : undefined,
  };
}
