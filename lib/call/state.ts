/**
 * The call state machine: one explicit enum, every transition drawn here and
 * listed in `next()` (style.md §7, after ringrtc's call_fsm). Pure: the
 * session (session.ts) feeds it events and performs the effects; every state
 * the session takes comes out of `next()`. state.test.ts checks the whole
 * table (every state × every event).
 *
 *  callee:  Handshaking ──ring──▶ Incoming
 *           (invisible until CONFIRM proves who calls; then the manager decides at
 *            once: ring, or busy → silent-end)
 *  caller:  DialWaitingMic ──mic-granted──▶ Dialing ──remote-ringing──▶ Ringing ──remote-accept──▶ Connecting
 *           (HELLO is sent only after mic-granted: nothing rings before the caller can speak)
 *           Ringing ──remote-answering──▶ PeerWaitingMic ──remote-accept──▶ Connecting
 *  callee:  Incoming ──local-accept──▶ AnswerWaitingMic ──mic-granted──▶ Connecting
 *           (`accept` is sent only after mic-granted; the caller is told `answering` meanwhile)
 *  Waiting for a person (a permission prompt) is a state, never a network timeout: no ring,
 *  handshake or connect timer runs in the three *WaitingMic states, only the cap
 *  (MIC_WAIT_MAX_MS) that ends with mic-wait-timeout (issue 21, style.md §13).
 *  both:    Connecting ──media-connected──▶ Connected ──media-lost──▶ Reconnecting
 *           Reconnecting ──media-connected──▶ Connected
 *           any live state ──(end event)──▶ Ended(reason)
 *           Handshaking ──silent-end / handshake-failed──▶ Ended (no reason: the call
 *           was never shown, nobody is told)
 *
 *  End events and the reason each gives:
 *    local-hangup     → hangup (or cancelled while Dialing/Ringing, declined-local in Incoming)
 *    remote-hangup    → remote-hangup (in Incoming: missed — the caller gave up)
 *    remote-decline   → declined          remote-busy    → busy
 *    unreachable      → unreachable       handshake-failed → handshake-failed
 *    ring-timeout     → no-answer (caller) / missed (callee)
 *    media-failed     → connection-lost (Reconnecting timed out) or media-failed
 *    media-error      → mic-denied / no-microphone / media-failed
 *    mic-refused      → mic-denied (we refused, or closed the window that asks)
 *    mic-wait-timeout → mic-denied (ours) / remote-mic-denied (the peer's wait)
 *    remote-mic-denied→ remote-mic-denied (the callee could not use its microphone)
 *    relay-down       → relay-unreachable (only before Connected: a live call survives a signalling drop)
 *    peer-relays-down → peer-relays-unreachable (Dialing: no relay of the callee's took the HELLO)
 *    silent-end       → no reason (only before the call is visible)
 *
 * An event that does not apply in the current state is ignored (returns
 * null) and logged by the caller of `next`, never thrown.
 */

export const CallState = {
  /** Callee: HELLO answered, CONFIRM not yet verified. Invisible: not a call yet. */
  Handshaking: 'handshaking',
  /** Caller: waiting for the person to let Hush use the microphone; no HELLO sent yet. */
  DialWaitingMic: 'dial-waiting-mic',
  Dialing: 'dialing',
  Ringing: 'ringing',
  Incoming: 'incoming',
  /** Callee: Accept pressed, waiting for the microphone permission; `accept` not sent yet. */
  AnswerWaitingMic: 'answer-waiting-mic',
  /** Caller: the callee answered and waits for its microphone permission (their prompt is open). */
  PeerWaitingMic: 'peer-waiting-mic',
  Connecting: 'connecting',
  Connected: 'connected',
  Reconnecting: 'reconnecting',
  Ended: 'ended',
} as const;
/** Every state of the machine, the callee's invisible handshake included. */
export type SessionState = (typeof CallState)[keyof typeof CallState];
/** A state a person sees: views and the UI (lib/messaging/view.ts) carry only these. */
export type CallState = Exclude<SessionState, typeof CallState.Handshaking>;

export type EndReason =
  | 'hangup' // we hung up a live call
  | 'remote-hangup' // they hung up
  | 'cancelled' // we hung up before they answered
  | 'declined' // they declined
  | 'declined-local' // we declined
  | 'busy' // they are in another call
  | 'missed' // an incoming call we did not answer
  | 'no-answer' // they did not answer in time
  | 'unreachable' // their mailbox is offline
  | 'relay-unreachable' // our relay could not be reached
  | 'peer-relays-unreachable' // none of the relays on their card (or saved with them) took our HELLO (issue 15)
  | 'handshake-failed' // keys did not check out: possible interception
  | 'mic-denied'
  | 'remote-mic-denied' // they could not use their microphone (refused it, or closed the prompt)
  | 'no-microphone'
  | 'media-failed'
  | 'connection-lost';

export type CallEvent =
  /** Callee: CONFIRM verified and the manager decided this call may ring (not busy). */
  | { type: 'ring' }
  /** Callee: end a call that was never shown (HELLO or CONFIRM refused, busy). */
  | { type: 'silent-end' }
  | { type: 'remote-ringing' }
  | { type: 'remote-accept' }
  | { type: 'local-accept' }
  | { type: 'media-connected' }
  | { type: 'media-lost' }
  | { type: 'local-hangup' }
  | { type: 'remote-hangup' }
  | { type: 'remote-decline' }
  | { type: 'remote-busy' }
  | { type: 'unreachable' }
  | { type: 'handshake-failed' }
  | { type: 'ring-timeout' }
  | { type: 'media-failed' }
  | { type: 'media-error'; reason: 'mic-denied' | 'no-microphone' | 'media-failed' }
  | { type: 'relay-down' }
  /** Caller: the HELLO could be posted to none of the callee's relays (her card's, in order). */
  | { type: 'peer-relays-down' }
  /** The person let Hush use the microphone (or it was already allowed). */
  | { type: 'mic-granted' }
  /** The person refused the microphone, or closed the window that asks for it. */
  | { type: 'mic-refused' }
  /** A microphone wait (ours or the peer's) lasted MIC_WAIT_MAX_MS. */
  | { type: 'mic-wait-timeout' }
  /** Caller: the callee pressed Accept and waits for its microphone permission. */
  | { type: 'remote-answering' }
  /** Caller: the callee could not use its microphone (sealed `decline` with `why: 'mic'`). */
  | { type: 'remote-mic-denied' };

/**
 * The longest a call waits for a person to answer a microphone prompt (ours or the peer's).
 * Not a network deadline: long enough for someone to find the prompt, read it and decide
 * (issue 21 measured people taking 18-25 s; a window behind others takes longer), short
 * enough that a forgotten prompt does not hold the call, the relay mailbox and the other
 * person's screen forever.
 */
export const MIC_WAIT_MAX_MS = 5 * 60_000;

export interface Transition {
  state: SessionState;
  /** Set when the transition ends a visible call; absent for a silent end. */
  reason?: EndReason;
}


const S = CallState;
const live: SessionState[] = [
  S.DialWaitingMic,
  S.Dialing,
  S.Ringing,
  S.Incoming,
  S.AnswerWaitingMic,
  S.PeerWaitingMic,
  S.Connecting,
  S.Connected,
  S.Reconnecting,
];

/** Every transition, by event: from which states, to which state. */
export function next(state: SessionState, ev: CallEvent): Transition | null {
  const from = (...states: SessionState[]) => states.includes(state);
  const end = (reason: EndReason): Transition => ({ state: S.Ended, reason });
  const silentEnd: Transition = { state: S.Ended };
  switch (ev.type) {
    case 'ring':
      return from(S.Handshaking) ? { state: S.Incoming } : null;
    case 'silent-end':
      return from(S.Handshaking) ? silentEnd : null;
    case 'remote-ringing':
      return from(S.Dialing) ? { state: S.Ringing } : null;
    case 'remote-accept':
      return from(S.Dialing, S.Ringing, S.PeerWaitingMic) ? { state: S.Connecting } : null;
    case 'local-accept':
      return from(S.Incoming) ? { state: S.AnswerWaitingMic } : null;
    case 'mic-granted':
      if (from(S.DialWaitingMic)) return { state: S.Dialing };
      return from(S.AnswerWaitingMic) ? { state: S.Connecting } : null;
    case 'mic-refused':
      return from(S.DialWaitingMic, S.AnswerWaitingMic) ? end('mic-denied') : null;
    case 'mic-wait-timeout':
      if (from(S.DialWaitingMic, S.AnswerWaitingMic)) return end('mic-denied');
      return from(S.PeerWaitingMic) ? end('remote-mic-denied') : null;
    case 'remote-answering':
      return from(S.Dialing, S.Ringing) ? { state: S.PeerWaitingMic } : null;
    case 'remote-mic-denied':
      return from(S.Dialing, S.Ringing, S.PeerWaitingMic) ? end('remote-mic-denied') : null;
    case 'media-connected':
      return from(S.Connecting, S.Reconnecting) ? { state: S.Connected } : null;
    case 'media-lost':
      return from(S.Connected) ? { state: S.Reconnecting } : null;
    case 'local-hangup':
      if (from(S.DialWaitingMic, S.Dialing, S.Ringing, S.PeerWaitingMic)) return end('cancelled');
      if (from(S.Incoming, S.AnswerWaitingMic)) return end('declined-local');
      return from(...live) ? end('hangup') : null;
    case 'remote-hangup':
      if (from(S.Incoming)) return end('missed');
      return from(...live) ? end('remote-hangup') : null;
    case 'remote-decline':
      return from(S.Dialing, S.Ringing, S.PeerWaitingMic) ? end('declined') : null;
    case 'remote-busy':
      return from(S.Dialing, S.Ringing) ? end('busy') : null;
    case 'unreachable':
      return from(S.Dialing, S.Ringing, S.PeerWaitingMic, S.Connecting) ? end('unreachable') : null;
    case 'handshake-failed':
      if (from(S.Handshaking)) return silentEnd;
      return from(S.Dialing, S.Incoming) ? end('handshake-failed') : null;
    case 'ring-timeout':
      if (from(S.Incoming)) return end('missed');
      return from(S.Dialing, S.Ringing) ? end('no-answer') : null;
    case 'media-failed':
      if (from(S.Reconnecting)) return end('connection-lost');
      return from(S.Connecting, S.Connected) ? end('media-failed') : null;
    case 'media-error':
      return from(...live) ? end(ev.reason) : null;
    case 'relay-down':
      return from(S.Dialing, S.Ringing, S.Incoming, S.AnswerWaitingMic, S.PeerWaitingMic) ? end('relay-unreachable') : null;
    case 'peer-relays-down':
      return from(S.Dialing) ? end('peer-relays-unreachable') : null;
    default: {
      const never: never = ev;
      return never;
    }
  }
}

/** Predicates the session asks, next to the enum (each state listed explicitly). */

/** A visible call that has not ended (the invisible callee handshake is not one yet). */
export function isLive(s: SessionState): boolean {
  switch (s) {
    case S.DialWaitingMic:
    case S.Dialing:
    case S.Ringing:
    case S.Incoming:
    case S.AnswerWaitingMic:
    case S.PeerWaitingMic:
    case S.Connecting:
    case S.Connected:
    case S.Reconnecting:
      return true;
    case S.Handshaking:
    case S.Ended:
      return false;
  }
}

/** Shown to the person (live or ended); false while a callee handshake is still invisible. */
export function isVisible(s: SessionState): s is CallState {
  switch (s) {
    case S.Handshaking:
      return false;
    case S.DialWaitingMic:
    case S.Dialing:
    case S.Ringing:
    case S.Incoming:
    case S.AnswerWaitingMic:
    case S.PeerWaitingMic:
    case S.Connecting:
    case S.Connected:
    case S.Reconnecting:
    case S.Ended:
      return true;
  }
}

/** A state in which the call waits for a person's microphone answer (ours or the peer's). */
export function waitsForMicrophone(s: SessionState): boolean {
  switch (s) {
    case S.DialWaitingMic:
    case S.AnswerWaitingMic:
    case S.PeerWaitingMic:
      return true;
    case S.Handshaking:
    case S.Dialing:
    case S.Ringing:
    case S.Incoming:
    case S.Connecting:
    case S.Connected:
    case S.Reconnecting:
    case S.Ended:
      return false;
  }
}

/** Where a session starts: the caller waits for its microphone, then dials; the callee answers a HELLO, invisible. */
export function initialState(role: 'caller' | 'callee'): SessionState {
  return role === 'caller' ? S.DialWaitingMic : S.Handshaking;
}
