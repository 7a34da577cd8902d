/**
 * Sliding replay window over frame counters (RFC 4303 §3.4.3 / libsrtp style),
 * 128 frames wide. `check` is a pure look (before decrypting); `accept` is
 * called only after a frame authenticated, so forged frames cannot move the
 * window. Frames up to 127 behind the newest are accepted once each
 * (reordering is normal on the network); older ones are stale.
 */
import { REPLAY_WINDOW } from './constants';

export type ReplayVerdict = 'fresh' | 'replayed' | 'stale';

const WORDS = REPLAY_WINDOW / 32;

export class ReplayWindow {
  /** Highest counter accepted so far (−1: none yet). */
  private top = -1;
  /** Bit i set ⇔ counter (top − i) was seen. Word 0 bit 0 is `top` itself. */
  private readonly bits = new Uint32Array(WORDS);

  check(counter: number): ReplayVerdict {
    if (counter > this.top) return 'fresh';
    const age = this.top - counter;
    if (age >= REPLAY_WINDOW) return 'stale';
    return this.bits[age >>> 5]! & (1 << (age & 31)) ? 'replayed' : 'fresh';
  }

  /** Record an authenticated counter. Call only after `check` said fresh. */
  accept(counter: number): void {
    if (counter > this.top) {
      this.shift(this.top < 0 ? REPLAY_WINDOW : counter - this.top);
      this.top = counter;
      this.bits[0]! |= 1;
    } else {
      const age = this.top - counter;
      if (age < REPLAY_WINDOW) this.bits[age >>> 5]! |= 1 << (age & 31);
    }
  }

  get highest(): number {
    return this.top;
  }

  /** Shift the bitmap toward older ages by n positions. */
  private shift(n: number): void {
    const b = this.bits;
    if (n >= REPLAY_WINDOW) {
      b.fill(0);
      return;
    }
    const w = n >>> 5;
    const s = n & 31;
    for (let i = WORDS - 1; i >= 0; i--) {
      const src = i - w;
      let v = src >= 0 ? b[src]! << s : 0;
      if (s && src - 1 >= 0) v |= b[src - 1]! >>> (32 - s);
      b[i] = v >>> 0;
    }
  }
}
