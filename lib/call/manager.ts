/**
 * Holds the calls of this device: at most one visible call, plus callee
 * handshakes in progress (invisible until their CONFIRM proves who calls).
 * Routes each envelope from the relay to its call by call id, declines a
 * second call with "busy", and bounds the handshakes a flood of HELLOs can
 * start.
 */
import { addressFromBundle } from '../crypto/address';
import { toHex } from '../crypto/bytes';
import { EnvelopeType, parseEnvelope } from '../crypto/envelope-format';
import type { MediaEvent } from '../media/types';
import { CallSession, type SessionPorts } from './session';
import { isLive } from './state';

/** Callee handshakes allowed at once: enough for real life, small enough to bound a HELLO flood. */
export const MAX_HANDSHAKES = 4;

export class CallError extends Error {
  override readonly name = 'CallError';
  constructor(
    readonly code: 'ERR_IN_CALL' | 'ERR_SELF' | 'ERR_NO_CALL',
    message: string,
  ) {
    super(message);
  }
}

export interface ManagerPorts extends Omit<SessionPorts, 'onChange' | 'onEnded' | 'mayRing'> {
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

  constructor(private readonly ports: ManagerPorts) {
    this.myAddress = addressFromBundle(ports.identity.bundleBytes);
    this.sessionPorts = {
      ...ports,
      onChange: (s) => this.onSessionChange(s),
      onEnded: (s) => this.onSessionEnded(s),
      mayRing: (s) => this.mayRing(s),
    };
  }

  get inCall(): boolean {
    return !!this.current && isLive(this.current.state);
  }

  /** Dial an address. Throws ERR_BAD_ADDRESS (typo), ERR_SELF or ERR_IN_CALL. */
  dial(address: string): CallSession {
    if (this.inCall) throw new CallError('ERR_IN_CALL', 'You are already in a call. Hang up first.');
    const s = CallSession.dial(this.sessionPorts, address);
    if (s.peerAddress === this.myAddress) throw new CallError('ERR_SELF', 'That is your own address.');
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
      if (this.handshaking.size >= MAX_HANDSHAKES || this.find(callId)) return;
      const s = CallSession.answerHello(this.sessionPorts, from, bytes);
      this.handshaking.set(callId, s);
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
      return;
    }
    if (s === this.current) this.ports.onEnded?.(s, false);
  }
}
