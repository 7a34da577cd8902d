/**
 * Token buckets: one for a single connection, and a map of them keyed by
 * source with a hard size bound (oldest entry evicted first), so a flood of
 * spoofed sources costs bounded memory. Time is passed in (ms): no clock here.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Whether `n` tokens are there now, without taking them. */
  has(now: number, n = 1): boolean {
    const elapsed = now - this.last;
    return Math.min(this.burst, this.tokens + (elapsed > 0 ? (elapsed * this.ratePerSec) / 1000 : 0)) >= n;
  }

  take(now: number, n = 1): boolean {
    const elapsed = now - this.last;
    if (elapsed > 0) {
      this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSec) / 1000);
      this.last = now;
    }
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }
}

export class BucketMap {
  private readonly buckets = new Map<string, TokenBucket>();
  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly maxEntries: number,
  ) {}

  take(key: string, now: number): boolean {
    let b = this.buckets.get(key);
    if (b) {
      // Refresh recency so the busiest sources are the last evicted.
      this.buckets.delete(key);
    } else {
      if (this.buckets.size >= this.maxEntries) {
        const oldest = this.buckets.keys().next().value as string;
        this.buckets.delete(oldest);
      }
      b = new TokenBucket(this.ratePerSec, this.burst, now);
    }
    this.buckets.set(key, b);
    return b.take(now);
  }

  /** Whether `key` may take a token now (a source never seen may), without taking it. */
  has(key: string, now: number): boolean {
    const b = this.buckets.get(key);
    return b === undefined || b.has(now);
  }

  get size(): number {
    return this.buckets.size;
  }
}
