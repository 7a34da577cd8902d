/**
 * How late the main thread's event loop runs, for /metrics: a stalled loop
 * (a long GC pause, a slow sweep, a process the kernel did not schedule)
 * holds every datagram queued behind it, which is what a p99 of added
 * latency measures (issue 16). perf_hooks' histogram samples the loop every
 * `resolutionMs` in C++ (no per-datagram cost); every `windowMs` the window's
 * p99 and maximum become the figures /metrics shows, and a new window starts.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface LoopDelay {
  /** 99th percentile of the delay in the last complete window, seconds (NaN before the first). */
  p99: number;
  /** Largest delay in that window, seconds. */
  max: number;
}

export class EventLoopDelay {
  private readonly h: ReturnType<typeof monitorEventLoopDelay>;
  private readonly timer: NodeJS.Timeout;
  last: LoopDelay = { p99: NaN, max: NaN };

  constructor(windowMs = 5000, resolutionMs = 10) {
    this.h = monitorEventLoopDelay({ resolution: resolutionMs });
    this.h.enable();
    this.timer = setInterval(() => {
      if (this.h.count > 0) this.last = { p99: this.h.percentile(99) / 1e9, max: this.h.max / 1e9 };
      this.h.reset();
    }, windowMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.h.disable();
  }
}
