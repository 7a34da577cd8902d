/**
 * Timers that belong to a state (style.md §13; issue 21, point 1).
 *
 * A timer's job does not run in the setTimeout callback: it joins the
 * session's queue, behind whatever is already there (a `startMedia()` that
 * waits for a permission prompt, a slow relay). By the time it runs the call
 * may have moved on, and clearTimeout can no longer take it back. So each
 * timer is tagged with the state generation that armed it (the session counts
 * every transition) and with its own token; its job runs only if, when it
 * reaches the front of the queue, the generation is the same and the timer
 * was neither disarmed nor replaced. Otherwise it is dropped and logged.
 */

/** The timers a session arms. `phase`: the deadline of the current state (handshake, ring,
 *  connect, reconnect); `restart`: restart ICE when a disconnected path does not come back. */
export type TimerSlot = 'phase' | 'restart';

export interface TimerHost {
  /** The state generation now: a number the session bumps on every transition. */
  generation(): number;
  /** Run a job on the session's queue, after the jobs already there. */
  enqueue(job: () => Promise<void>): void;
  log(msg: string): void;
}

interface Armed {
  handle: ReturnType<typeof setTimeout>;
  token: object;
}

export class StateTimers {
  private readonly armed: Partial<Record<TimerSlot, Armed>> = {};

  constructor(private readonly host: TimerHost) {}

  /** Arm `slot` (replacing what it held): after `ms`, `job` joins the queue, tagged with the state now. */
  arm(slot: TimerSlot, ms: number, label: string, job: () => Promise<void> | void): void {
    this.disarm(slot);
    const generation = this.host.generation();
    const token = {};
    const fire = () =>
      this.host.enqueue(async () => {
        if (this.armed[slot]?.token !== token || this.host.generation() !== generation) {
          this.host.log(`${label} timer of an earlier state ignored`);
          return;
        }
        delete this.armed[slot];
        await job();
      });
    const handle = setTimeout(fire, ms);
    this.armed[slot] = { handle, token };
  }

  /** Take the timer back: its job, even one already queued, will not run. */
  disarm(slot: TimerSlot): void {
    const a = this.armed[slot];
    if (!a) return;
    clearTimeout(a.handle);
    delete this.armed[slot];
  }

  disarmAll(): void {
    this.disarm('phase');
    this.disarm('restart');
  }
}
