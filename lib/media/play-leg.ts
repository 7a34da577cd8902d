/**
 * Make before break at the receiver: which of the call's two connections is heard.
 *
 * path-switch.ts decides which connection carries what we SEND; this file
 * decides which one we PLAY. Both remote tracks play all the time
 * (remote-playback.ts), but only the chosen one is audible.
 *
 * Why the receiver chooses: on the way back from the standby to a restored
 * direct path, the peer sends on both connections for a while
 * (call-media.ts BACK_OVERLAP_MS). The main connection's jitter buffer starts
 * from empty after seconds without packets, and its first audio plays some
 * 100-250 ms after its first frame arrived (seen in the lab); the standby's
 * audio goes on meanwhile. Playing both would double the voice (the same
 * words twice, a few ms apart); stopping the standby earlier left a gap (the
 * lab measured 110 ms). So the standby stays audible until the main
 * connection's audio really plays, then the main connection takes over:
 *
 *   hearing 'main'     no frame on main for RUN_GAP_MS while the standby's
 *                      frames arrive (the peer moved there)      → 'standby'
 *   hearing 'standby'  frames arrive on main, and main's playout is as
 *                      loud as the standby's (or both are quiet: a
 *                      pause in the speech), after HOLD_MS of them, or
 *                      at once when the standby's frames stopped
 *                                                                → 'main'
 *                      frames have arrived on main for MAX_HOLD_MS, or
 *                      the standby has been silent for DRAINED_MS (its
 *                      jitter buffer played out)                 → 'main'
 *
 * A standby that stops (a hole of relay jitter, or a hostile relay's) does
 * not move the person to a main connection whose playout has not started:
 * the standby's jitter buffer still plays its last words meanwhile.
 *
 * Pure: clocked by its caller with the frame worker's receive clock
 * (worker-protocol.ts RecvTick) and the two playout levels, unit-tested with
 * scripted inputs (play-leg.test.ts).
 */
import { RUN_GAP_MS } from './worker-protocol';
import type { Leg } from './path-switch';

/** Frames on main this long before its playout can be trusted to have started. */
export const HOLD_MS = 100;
/** However its level reads, main is heard after this long of frames (the peer's overlap is longer: BACK_OVERLAP_MS). */
export const MAX_HOLD_MS = 400;
/** The standby silent this long: whatever its jitter buffer held has played. */
export const DRAINED_MS = 250;
/** A playout level above this is sound, not silence or comfort noise (dBFS). */
export const SOUND_DB = -50;
/** Main's playout this much quieter than the standby's, while the standby's is sound: main has not started. */
export const STARTED_WITHIN_DB = 20;

export interface PlayInput {
  /** Frames from the peer on each connection so far, silence since the last one, and the current run (RecvTick). */
  mainFrames: number;
  mainSilentMs: number;
  mainRunMs: number;
  standbyFrames: number;
  standbySilentMs: number;
  /** The level each connection's playout has now (dBFS; -Infinity: silence; undefined: unknown). */
  mainDb?: number;
  standbyDb?: number;
}

export class PlayLeg {
  private current: Leg = 'main';

  get leg(): Leg {
    return this.current;
  }

  /** The main connection was rebuilt or the standby dropped: its audio is what there is. */
  reset(): void {
    this.current = 'main';
  }

  next(i: PlayInput): Leg {
    const mainArriving = i.mainFrames > 0 && i.mainSilentMs <= RUN_GAP_MS;
    const standbyArriving = i.standbyFrames > 0 && i.standbySilentMs <= RUN_GAP_MS;
    if (this.current === 'main') {
      if (!mainArriving && standbyArriving) this.current = 'standby';
      return this.current;
    }
    if (!mainArriving) return this.current;
    const started = mainStarted(i.mainDb, i.standbyDb);
    if (i.mainRunMs >= MAX_HOLD_MS || i.standbySilentMs >= DRAINED_MS) this.current = 'main';
    else if (started && (!standbyArriving || i.mainRunMs >= HOLD_MS)) this.current = 'main';
    return this.current;
  }
}

/** Main's playout has started: the standby's is not sound, or main's is about as loud. Unknown levels: trust HOLD_MS. */
function mainStarted(mainDb: number | undefined, standbyDb: number | undefined): boolean {
  if (mainDb === undefined || standbyDb === undefined) return true;
  if (!(standbyDb > SOUND_DB)) return true;
  return mainDb > standbyDb - STARTED_WITHIN_DB;
}
