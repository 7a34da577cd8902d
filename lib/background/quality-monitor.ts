/**
 * The one poller of a connected call's receive quality (issue 17): every
 * EVERY_MS it asks the media host for the call's stats, classifies the last
 * WINDOW_MS (lib/ui/call-quality.ts, the E-model reduction) and, when the
 * class changes, tells the background to push the view: the popup, the
 * Firefox call window and the page bar all show `CallView.quality` from here.
 *
 * Follows one call at a time; a tick is tagged with the call it was armed for
 * and ignored once the background follows another call or none (style §13).
 * A stats request that fails or answers null (media host gone, call ending)
 * is skipped: the reading stays until the next good sample or the end.
 *
 * Caveat: the first reading comes one window after the call connected.
 */
import { qualityBetween, type QualityReading, type QualitySample } from '../ui/call-quality';

/** Sampling period, ms. */
export const EVERY_MS = 1000;
/** The window a reading covers: long enough for 200 packets of 20 ms (3 % loss ±1.2 % at one sigma). */
export const WINDOW_MS = 4000;

export interface QualityMonitorHost {
  stats(callId: string): Promise<QualitySample | null>;
  /** The class of the reading changed (or a first reading exists): push the view. */
  changed(): void;
  now?: () => number;
}

export class QualityMonitor {
  private callId: string | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private samples: Array<{ at: number; s: QualitySample }> = [];
  private latest: QualityReading | undefined;

  constructor(
    private readonly host: QualityMonitorHost,
    private readonly everyMs = EVERY_MS,
    private readonly windowMs = WINDOW_MS,
  ) {}

  /** Follow this connected call (same id again: nothing changes), or none. */
  follow(callId: string | undefined): void {
    if (callId === this.callId) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.callId = callId;
    this.samples = [];
    this.latest = undefined;
    if (callId) this.arm(callId, 0);
  }

  /** The latest reading of this call, if any. */
  reading(callId: string | undefined): QualityReading | undefined {
    return callId && callId === this.callId ? this.latest : undefined;
  }

  private arm(callId: string, delay: number): void {
    this.timer = setTimeout(() => void this.tick(callId), delay);
  }

  private async tick(callId: string): Promise<void> {
    const s = await this.host.stats(callId).catch(() => null);
    if (callId !== this.callId) return; // armed for a call we no longer follow
    const now = (this.host.now ?? Date.now)();
    if (s?.frames) {
      this.samples.push({ at: now, s });
      // Keep the newest sample at least windowMs old, and everything after it.
      while (this.samples.length > 2 && now - this.samples[1]!.at >= this.windowMs) this.samples.shift();
      const oldest = this.samples[0]!;
      if (now - oldest.at >= this.windowMs) {
        const before = this.latest?.quality;
        this.latest = qualityBetween(oldest.s, s);
        if (this.latest.quality !== before) this.host.changed();
      }
    }
    this.arm(callId, this.everyMs);
  }
}
