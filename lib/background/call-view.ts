/**
 * The current call as the extension's pages show it (CallView,
 * lib/messaging/view.ts): the session's state plus what the contact list
 * knows about the peer. A call still in its handshake is not shown yet.
 */
import type { CallSession } from '../call/session';
import { isVisible } from '../call/state';
import { endMessage } from '../i18n/messages';
import type { CallView, Contact } from '../messaging/view';

export function callView(s: CallSession | undefined, contactFor: (address?: string) => Contact | undefined): CallView | null {
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
    sas: s.sas,
    startedAt: s.startedAt,
    connectedAt: s.connectedAt,
    endedAt: s.endedAt,
  };
}
