/**
 * Make before break: which of a call's two connections carries our audio now.
 *
 * While a call runs P2P, call-media.ts keeps a second, relay-only
 * RTCPeerConnection connected beside it (standby.ts): ICE checked, DTLS up,
 * transforms attached, no track on its sender. A dead direct path is then
 * replaced by moving the microphone track from one sender to the other
 * (RTCRtpSender.replaceTrack), not by building a path.
 *
 * This file is the decision only: pure, clocked by its caller, unit-tested
 * with scripted inputs (path-switch.test.ts). Each side decides for what it
 * SENDS from what it RECEIVES, so neither waits for a message from the other:
 *
 *   on 'main'     no packet from the peer on the main connection for DEAD_MS
 *                 (a voice call sends one every 20 ms), or for twice the
 *                 longest recent gap between two packets if that is longer
 *                 (a jittery path or a starved machine; at most MAX_DEAD_MS),
 *                 while the standby is connected              → 'standby'
 *   on 'standby'  the main connection's ICE is connected on a direct pair,
 *                 and either BACK_FRAMES frames from the peer arrived on it
 *                 since we left it (the peer is back there) or at least
 *                 BACK_RESPONSES consent responses (RFC 7675) did → 'main'
 *                 the standby fails                           → 'main'
 *
 * Frames on the main connection alone are not enough: they prove only the
 * peer's direction. Following them while our side's ICE was not up on a
 * direct pair sent our audio into nothing (seen in the lab: seconds of
 * silence on the restore, then a ping-pong). Consent alone is slow (Chromium
 * checks a stable pair every ~2.5 s, and the callee's count lagged past 10 s
 * in the lab).
 *
 * The receiving side plays both connections' audio all the time and hears
 * the one that brings the peer's audio (play-leg.ts), so a switch at the
 * sender is all it takes; on the way back the sender overlaps the two for a
 * moment and the receiver moves when the main connection's audio plays.
 *
 * Caveat: "no packet for DEAD_MS" assumes the peer sends continuously. With
 * Opus DTX the peer sends one packet every 400 ms in silence; a switch it
 * triggers is harmless (the next DTX packet on the main connection brings
 * the sender back), but it is a switch nobody needed.
 */

export type Leg = 'main' | 'standby';

/** No packet from the peer on the main connection for this long: its path is dead. */
export const DEAD_MS = 150;
/** However jittery the path, this much silence is a dead path. */
export const MAX_DEAD_MS = 600;
/** Consent responses on a direct pair, after we left it, that prove it alive again. */
export const BACK_RESPONSES = 2;
/** Frames on the main connection, after we left it, that show the peer sends there again (one could be a straggler). */
export const BACK_FRAMES = 3;


export interface SwitchInput {
  now: number;
  /** When a packet from the peer last arrived on the main connection (0: never). */
  mainPacketAt: number;
  /** Packets from the peer on the main connection so far. */
  mainPackets?: number;

  /**
   * The silence on main as the clock that saw the frames measured it (the frame worker's RecvTick
   * `mainSilentMs`, taken when the tick was made). Preferred over `now − mainPacketAt` when given:
   * the page that calls `next` is a hidden document whose timers and message handling run late
   * under load (up to 655 ms seen in the lab). When it handles a tick late, `now` has moved on
   * while the worker saw frames arrive on time: measured with the page's clock, a stall of the
   * page reads as a silent path, a false switch.
   */
  mainSilentMs?: number;

  /** The longest recent gap between two packets on the main connection (ms; 0 or absent: unknown). */
  mainJitterMs?: number;
  /** The standby connection is connected (ICE and DTLS). */
  standbyReady: boolean;
  /** The main connection's ICE: connected, on a direct (non-relayed) pair. */
  mainDirectConnected: boolean;
  /** Consent responses received on the main connection's selected pair so far (undefined: unknown). */
  mainResponses?: number;
}

export interface SwitchDecision {
  leg: Leg;
  /** Why it changed (for the log and the stats); absent when it did not. */
  reason?: 'main-silent' | 'main-packets' | 'main-consent' | 'standby-lost';
}

export class PathSwitch {
  private current: Leg = 'main';
  /** Packets seen on main when we left it. */
  private leftAtPackets = 0;
  /** Consent responses on main when we left it (read on the first input after the switch). */
  private leftAtResponses?: number;

  get leg(): Leg {
    return this.current;
  }

  /** The path was rebuilt (a fresh main connection): back to main, forget the old evidence. */
  reset(): void {
    this.current = 'main';
    this.leftAtResponses = undefined;
  }

  next(i: SwitchInput): SwitchDecision {
    if (this.current === 'main') {
      const deadAfter = Math.min(MAX_DEAD_MS, Math.max(DEAD_MS, 2 * (i.mainJitterMs ?? 0)));
      const silentFor = i.mainSilentMs ?? i.now - i.mainPacketAt;
      const silent = i.mainPacketAt > 0 && silentFor >= deadAfter;
      if (silent && i.standbyReady) {
        this.current = 'standby';
        this.leftAtPackets = i.mainPackets ?? 0;
        this.leftAtResponses = undefined;
        return { leg: 'standby', reason: 'main-silent' };
      }
      return { leg: 'main' };
    }
    if (!i.standbyReady) return this.back('standby-lost');
    if (i.mainDirectConnected && i.mainPackets !== undefined && i.mainPackets - this.leftAtPackets >= BACK_FRAMES) return this.back('main-packets');
    if (i.mainResponses !== undefined) {
      if (this.leftAtResponses === undefined || i.mainResponses < this.leftAtResponses) this.leftAtResponses = i.mainResponses;
      else if (i.mainDirectConnected && i.mainResponses - this.leftAtResponses >= BACK_RESPONSES) return this.back('main-consent');
    }
    return { leg: 'standby' };
  }

  private back(reason: SwitchDecision['reason']): SwitchDecision {
    this.current = 'main';
    return { leg: 'main', reason };
  }
}
