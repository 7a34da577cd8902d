/**
 * Holds the calls of this device: at most one visible call, plus callee
 * handshakes in progress (invisible until their CONFIRM proves who calls).
 * Routes each envelope from the relay to its call by call id, declines a
 * second call with "busy", and decides which HELLOs are answered at all
 * (docs/protocol.md §5.5): before any signature, a HELLO's admission tag is
 * checked against the tokens of the contacts at its sending mailbox
 * (lib/crypto/admit-tag.ts), then the admission policy (lib/call/admission.ts)
 * admits it on a contact's or a stranger's slot, or refuses it. A refused
 * HELLO is dropped silently: no session, no reply (the debug log names the
 * reason only, never the sender), so the caller's own handshake timer ends
 * its call "unreachable".
 */
import { addressFromBundle, parseAddress } from '../crypto/address';
import { toHex, wipe } from '../crypto/bytes';
import { recogniseHello, type RecvToken } from '../crypto/admit-tag';
import { EnvelopeType, parseEnvelope } from '../crypto/envelope-format';
import type { AdmissionTokens } from '../crypto/handshake';
import type { MediaEvent } from '../media/types';
import { AdmissionControl, type AdmissionLimits } from './admission';
import { CallSession, TIMEOUTS, type SessionPorts } from './session';
import { isLive } from './state';

export class CallError extends Error {
  override readonly name = 'CallError';
  constructor(
    readonly code: 'ERR_IN_CALL' | 'ERR_SELF' | 'ERR_NO_CALL',
    message: string,
  ) {
    super(message);
  }
}

/**
 * What admission reads from the person's data, and where a completed call's
 * tokens go. Read per HELLO, so it must be cheap (in-memory lookups).
 */
export interface AdmissionPorts {
  /** `recv` tokens stored for the contacts whose mailbox is `mailbox` (contactId: the contact's address). */
  recvTokens(mailbox: string): Iterable<RecvToken>;
  /** The `send` token stored for this contact's address, if any. */
  sendToken(address: string): Uint8Array | undefined;
  /** Blocked mailbox ids. */
  blocked(): ReadonlySet<string>;
  /** "Only my contacts may ring me". */
  contactsOnly(): boolean;
  /** A handshake completed with these tokens: store them (if the peer is a contact) or wipe them. */
  completed(s: CallSession, tokens: AdmissionTokens): void;
}

const NOBODY: ReadonlySet<string> = new Set();

export interface ManagerPorts extends Omit<SessionPorts, 'onChange' | 'onEnded' | 'mayRing' | 'onAdmission'> {
  /** Block list, contacts-only, tokens (absent: every HELLO is a stranger's, nobody blocked). */
  admission?: AdmissionPorts;
  /** The visible call changed (state, path, mute, SAS…). */
  onChange(): void;
  /** A call started ringing here. */
  onIncoming?(s: CallSession): void;
  /** A visible call ended, or an incoming one was turned away busy. */
  onEnded?(s: CallSession, busy: boolean): void;
}

export class CallManager {
  /** The visible call: live, or the last one that ended (until the next). */
  current?: CallSession;
  private readonly handshaking = new Map<string, CallSession>();
  private readonly sessionPorts: SessionPorts;
  private readonly myAddress: string;
  /** Which HELLOs are answered (docs/protocol.md §5.5); replaces protocol v1's 4 shared slots. */
  private readonly admission: AdmissionControl;

  constructor(
    private readonly ports: ManagerPorts,
    opts: { clock?: () => number; limits?: Partial<AdmissionLimits> } = {},
  ) {
    this.myAddress = addressFromBundle(ports.identity.bundleBytes);
    this.admission = new AdmissionControl(opts.clock ?? Date.now, opts.limits);
    this.sessionPorts = {
      ...ports,
      onChange: (s) => this.onSessionChange(s),
      onEnded: (s) => this.onSessionEnded(s),
      mayRing: (s) => this.mayRing(s),
      onAdmission: (s, tokens) => {
        if (ports.admission) ports.admission.completed(s, tokens);
        else wipe(tokens.send, tokens.recv);
      },
    };
  }

  get inCall(): boolean {
    return !!this.current && isLive(this.current.state);
  }

  /** Dial an address. Throws ERR_BAD_ADDRESS (typo), ERR_SELF or ERR_IN_CALL. */
  dial(address: string): CallSession {
    if (this.inCall) throw new CallError('ERR_IN_CALL', 'You are already in a call. Hang up first.');
    if (canonicalAddress(address) === this.myAddress) throw new CallError('ERR_SELF', 'That is your own address.');
    const s = CallSession.dial(this.sessionPorts, address, this.ports.admission?.sendToken(canonicalAddress(address)));
    this.current = s;
    this.ports.onChange();
    return s;
  }

  /** An envelope from the relay. Malformed ones are dropped. */
  onDeliver(from: string, bytes: Uint8Array): void {
    let type: number;
    let callId: string;
    try {
      const env = parseEnvelope(bytes);
      type = env.type;
      callId = toHex(env.callId);
    } catch {
      return;
    }
    if (type === EnvelopeType.Hello) {
      if (this.find(callId)) return;
      this.onHello(callId, from, bytes);
      return;
    }
    this.find(callId)?.onEnvelope(from, bytes);
  }

  /** Resolves when every call's queued work so far has run (the visible call and the handshakes). */
  async settled(): Promise<void> {
    await Promise.all([...this.handshaking.values(), ...(this.current ? [this.current] : [])].map((s) => s.settled()));
  }

  onMediaEvent(callId: string, ev: MediaEvent): void {
    const s = this.current;
    if (s && s.callId === callId) s.onMediaEvent(ev);
  }

  accept(): void {
    this.requireCurrent().accept();
  }

  hangup(): void {
    this.requireCurrent().hangup();
  }

  setMuted(muted: boolean): void {
    this.requireCurrent().setMuted(muted);
  }

  private requireCurrent(): CallSession {
    if (!this.current) throw new CallError('ERR_NO_CALL', 'There is no call.');
    return this.current;
  }

  /**
   * Admission (docs/protocol.md §5.5), before any signature: one SHA-256 and one HMAC per
   * token of the contacts at `from`, then the pure policy. Refused: dropped, nothing else.
   */
  private onHello(callId: string, from: string, bytes: Uint8Array): void {
    const adm = this.ports.admission;
    const contactId = adm ? recogniseHello(bytes, adm.recvTokens(from)) : null;
    const d = this.admission.decide(
      { callId, from, contact: contactId === null ? null : { id: contactId, mailbox: from } },
      { blocked: adm?.blocked() ?? NOBODY, contactsOnly: adm?.contactsOnly() ?? false },
    );
    if (!d.admit) {
      this.ports.log?.(`HELLO not admitted: ${d.reason}`); // the reason only: no mailbox, no identity
      return;
    }
    for (const id of d.evict) {
      const old = this.handshaking.get(id);
      this.handshaking.delete(id);
      old?.evict();
    }
    // A contact's HELLO (its tag is a MAC only that contact could make): the media host starts
    // while the handshake runs, so the preparation at ring does not wait for it (issue 17). Only
    // the host: no connection, no TURN allocation, no microphone. A stranger's HELLO starts
    // nothing before CONFIRM proves who calls.
    if (contactId !== null && !this.inCall) {
      this.sessionPorts.media.prewarm?.({ ms: TIMEOUTS.handshakeMs + 1000, idle: () => !this.inCall });
    }
    this.handshaking.set(callId, CallSession.answerHello(this.sessionPorts, from, bytes));
  }

  /** Handshakes admitted and not yet ended, by kind (diagnostics, tests). */
  get admissionLoad(): { contacts: number; strangers: number } {
    return this.admission.load;
  }

  private find(callId: string): CallSession | undefined {
    if (this.current?.callId === callId) return this.current;
    return this.handshaking.get(callId);
  }

  /**
   * A callee handshake completed (CONFIRM proved who calls): it becomes the visible call and
   * rings, unless we are in another call (busy: it ends unseen, the caller hears "busy").
   */
  private mayRing(s: CallSession): boolean {
    if (this.handshaking.get(s.callId) !== s) return false;
    this.handshaking.delete(s.callId);
    this.admission.completed(s.callId); // CONFIRM checked out: a stranger's HELLO is refunded
    if (this.inCall) {
      this.ports.onEnded?.(s, true);
      return false;
    }
    this.current = s;
    this.ports.onIncoming?.(s);
    return true;
  }

  private onSessionChange(s: CallSession): void {
    if (s === this.current) this.ports.onChange();
  }

  private onSessionEnded(s: CallSession): void {
    if (this.handshaking.get(s.callId) === s) {
      this.handshaking.delete(s.callId);
      this.admission.release(s.callId);
      return;
    }
    if (s === this.current) this.ports.onEnded?.(s, false);
  }
}

/** The canonical form of an address the person typed; throws ERR_BAD_ADDRESS for a typo. */
function canonicalAddress(address: string): string {
  return parseAddress(address).address;
}
