/**
 * The ICE policy: P2P first, relay within 800 ms (docs/ice.md).
 *
 * Gathering is the browser's: host, server-reflexive (the relay's STUN, on
 * two ports) and relayed (its TURN) candidates, all at once, trickled through
 * the sealed signalling as they come. This policy watches the candidates and
 * the selected path and decides the two things the browser does not:
 *
 *   1. Symmetric NAT (nat-type.ts): a direct path cannot work, so go to the
 *      relay at once instead of waiting out the window.
 *   2. The P2P window: from the moment both sides have each other's
 *      candidates (T0), a direct pair has `windowMs` (800) to connect. If the
 *      call is not connected by then, go to the relay. If ICE already
 *      connected through a relay pair, the relay is engaged: nothing to do.
 *
 * "Go to the relay": on a symmetric NAT, stop sending direct candidates (the
 * relay pairs ICE checks from the start carry the call: in the lab they
 * connect ~130 ms after the exchange, docs/lab.md); when the window expired
 * with nothing connected, an ICE restart with relay-only gathering (the
 * caller re-offers; a callee asks the caller to). Keys never change: the frame
 * encryption sits above ICE. When the call ends up relayed although a direct
 * path worked before (a path cut mid-call) or the window forced the relay,
 * and no symmetric NAT was seen, a direct path is tried again every
 * `retryDirectMs` (the call moves back to P2P when a direct path appears).
 *
 *   states:  gathering ──T0──▶ window ──p2p connected──▶ direct
 *                                 │ ──relay connected──▶ relayed
 *                                 └──timeout / symmetric──▶ forcing-relay ──connected──▶ relayed
 *            direct|relayed ──restart()──▶ gathering
 *
 * Pure: the clock and timers are injected; unit-tested with fake timers and
 * scripted candidate events (policy.test.ts).
 */
import type { PathKind } from '../media/types';
import { parseCandidate, type Candidate } from './candidate';
import { classifyNat, type NatType } from './nat-type';
import { retryDirectMsOf } from '../testing/hooks';

export const P2P_WINDOW_MS = 800;
/** If the peer never says "end of candidates", T0 falls this long after its first candidate. */
export const EXCHANGE_FALLBACK_MS = 1500;
/** While relayed by force (not symmetric NAT), try a direct path again this often. */
export const RETRY_DIRECT_MS = 30_000;

export type GoRelayReason = 'symmetric-nat' | 'window-expired';

export type IceAction =
  /** Send this local candidate to the peer (null: end of candidates). */
  | { type: 'send'; candidate: IceCandidateInit | null }
  /** Restart ICE relay-only (caller), or ask the caller to (callee). */
  | { type: 'go-relay'; reason: GoRelayReason }
  /** Restart ICE with every candidate type: a direct path may work again. */
  | { type: 'try-direct' };

export interface IceCandidateInit {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

export type IcePhase = 'gathering' | 'window' | 'forcing-relay' | 'direct' | 'relayed';

/** What the lab and the UI read: timings in ms since `startedAt`. */
export interface IceReport {
  phase: IcePhase;
  nat: NatType;
  path: PathKind;
  relayOnly: boolean;
  /** When both sides had each other's candidates (T0). */
  exchangedAt?: number;
  /** When the call first connected, and through what. */
  connectedAt?: number;
  firstPath?: PathKind;
  /** When a relay pair carried the call (first time in this ICE generation). */
  relayEngagedAt?: number;
  forcedRelay?: GoRelayReason;
  /** Remote candidate types received (for the privacy check: relay-only peers send relay only). */
  remoteTypes: Partial<Record<Candidate['type'], number>>;
  /** The addresses in the candidates the peer sent (this device's own diagnostics; never logged). */
  remoteAddresses: string[];
}

export interface IcePolicyOptions {
  /** Privacy mode or a forced relay generation: nothing to decide, relay only. */
  relayOnly: boolean;
  windowMs?: number;
  retryDirectMs?: number;
  now?: () => number;
  setTimer?: (ms: number, fn: () => void) => () => void;
}

const defaultTimer = (ms: number, fn: () => void) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

export class IcePolicy {
  private phase: IcePhase = 'gathering';
  private relayOnly: boolean;
  private readonly srflx: Candidate[] = [];
  private nat: NatType = 'unknown';
  private localDone = false;
  private remoteDone = false;
  private firstRemoteAt?: number;
  private exchangedAt?: number;
  private connectedAt?: number;
  private firstPath?: PathKind;
  private relayEngagedAt?: number;
  private forced?: GoRelayReason;
  private path: PathKind = 'unknown';
  private connected = false;
  private readonly remoteTypes: IceReport['remoteTypes'] = {};
  private readonly remoteAddresses = new Set<string>();
  /** A direct pair carried the call at some point (so a later relay may be temporary). */
  private hadDirect = false;
  private cancelWindow?: () => void;
  private cancelFallback?: () => void;
  private cancelRetry?: () => void;
  private readonly now: () => number;
  private readonly setTimer: (ms: number, fn: () => void) => () => void;
  readonly startedAt: number;

  constructor(
    private readonly opts: IcePolicyOptions,
    private readonly emit: (a: IceAction) => void,
  ) {
    this.now = opts.now ?? (() => Date.now());
    this.setTimer = opts.setTimer ?? defaultTimer;
    this.relayOnly = opts.relayOnly;
    this.startedAt = this.now();
  }

  /** A candidate our browser gathered (null: gathering complete). */
  localCandidate(c: IceCandidateInit | null): void {
    if (c === null) {
      this.localDone = true;
      this.emit({ type: 'send', candidate: null });
      this.maybeExchanged();
      return;
    }
    const parsed = parseCandidate(c.candidate);
    if (parsed?.type === 'srflx') {
      this.srflx.push(parsed);
      const nat = classifyNat(this.srflx);
      if (nat !== this.nat) {
        this.nat = nat;
        if (nat === 'symmetric') this.goRelay('symmetric-nat');
      }
    }
    // Once relay-only, our direct candidates are of no use to the peer: keep them to ourselves.
    if (this.relayOnly && parsed && parsed.type !== 'relay') return;
    this.emit({ type: 'send', candidate: c });
  }

  /**
   * A candidate the peer sent before this policy existed (the callee's starts at Accept; what the
   * caller trickled while it rang was buffered): into the report only, no timer starts (the
   * window is timed from the candidates that arrive once the policy runs, as before).
   */
  noteRemote(c: IceCandidateInit | null): void {
    const parsed = c ? parseCandidate(c.candidate) : undefined;
    if (!parsed) return;
    this.remoteTypes[parsed.type] = (this.remoteTypes[parsed.type] ?? 0) + 1;
    this.remoteAddresses.add(parsed.address);
    if (parsed.raddr) this.remoteAddresses.add(parsed.raddr);
  }

  /** A candidate from the peer (null: the peer's end of candidates). */
  remoteCandidate(c: IceCandidateInit | null): void {
    if (c === null) {
      this.remoteDone = true;
      this.maybeExchanged();
      return;
    }
    this.noteRemote(c);
    if (this.firstRemoteAt === undefined) {
      this.firstRemoteAt = this.now();
      this.cancelFallback = this.setTimer(EXCHANGE_FALLBACK_MS, () => this.markExchanged());
    }
  }

  /** The connection state or selected path changed. */
  pathChanged(connection: RTCPeerConnectionState, path: PathKind): void {
    this.path = path;
    this.connected = connection === 'connected';
    if (!this.connected) return;
    if (this.connectedAt === undefined) {
      this.connectedAt = this.now();
      this.firstPath = path;
    }
    if (path === 'relay') {
      this.relayEngagedAt ??= this.now();
      this.settle('relayed');
    } else if (path === 'p2p') {
      this.settle('direct');
    }
  }

  /** The session restarted ICE (relay-only or not): a new generation of candidates. */
  restarted(relayOnly: boolean): void {
    this.clearTimers();
    this.relayOnly = relayOnly;
    this.phase = relayOnly ? 'forcing-relay' : 'gathering';
    this.localDone = this.remoteDone = false;
    this.firstRemoteAt = this.exchangedAt = this.relayEngagedAt = undefined;
    this.srflx.length = 0;
    if (!relayOnly) {
      this.nat = 'unknown';
      this.forced = undefined;
    }
  }

  report(): IceReport {
    const rel = (t?: number) => (t === undefined ? undefined : t - this.startedAt);
    return {
      phase: this.phase,
      nat: this.nat,
      path: this.path,
      relayOnly: this.relayOnly,
      exchangedAt: rel(this.exchangedAt),
      connectedAt: rel(this.connectedAt),
      firstPath: this.firstPath,
      relayEngagedAt: rel(this.relayEngagedAt),
      forcedRelay: this.forced,
      remoteTypes: { ...this.remoteTypes },
      remoteAddresses: [...this.remoteAddresses],
    };
  }

  dispose(): void {
    this.clearTimers();
  }

  // ─── internals ─────────────────────────────────────────────────────────────

  private maybeExchanged(): void {
    if (this.localDone && this.remoteDone) this.markExchanged();
  }

  private markExchanged(): void {
    if (this.exchangedAt !== undefined) return;
    this.cancelFallback?.();
    this.exchangedAt = this.now();
    if (this.phase !== 'gathering') return; // already settled or forcing
    if (this.relayOnly) return;
    this.phase = 'window';
    this.cancelWindow = this.setTimer(this.opts.windowMs ?? P2P_WINDOW_MS, () => this.windowExpired());
  }

  private windowExpired(): void {
    if (this.phase !== 'window') return;
    if (this.connected && this.path === 'relay') return this.settle('relayed');
    if (this.connected && this.path === 'p2p') return this.settle('direct');
    this.goRelay('window-expired');
  }

  private goRelay(reason: GoRelayReason): void {
    if (this.relayOnly || this.phase === 'forcing-relay' || this.phase === 'relayed') return;
    this.forced = reason;
    this.clearTimers();
    this.phase = 'forcing-relay';
    this.relayOnly = true;
    this.emit({ type: 'go-relay', reason });
  }

  private settle(phase: 'direct' | 'relayed'): void {
    if (phase === 'direct') this.hadDirect = true;
    if (this.phase === phase) return;
    this.cancelWindow?.();
    this.cancelRetry?.();
    this.phase = phase;
    const directMayWork = !this.opts.relayOnly && this.nat !== 'symmetric' && this.forced !== 'symmetric-nat';
    if (phase === 'relayed' && directMayWork && (this.hadDirect || this.forced === 'window-expired')) {
      this.cancelRetry = this.setTimer(retryDirectMsOf(this.opts) ?? RETRY_DIRECT_MS, () => {
        if (this.phase === 'relayed') this.emit({ type: 'try-direct' });
      });
    }
  }

  private clearTimers(): void {
    this.cancelWindow?.();
    this.cancelFallback?.();
    this.cancelRetry?.();
    this.cancelWindow = this.cancelFallback = this.cancelRetry = undefined;
  }
}
