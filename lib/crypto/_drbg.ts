/**
 * Deterministic byte stream for known-answer vectors and tests only:
 * SHA-256(label ‖ u32 counter) blocks. Never used for real keys.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, u32be, utf8 } from './bytes';
import type { Rng } from './kem';

export function drbg(label: string): Rng {
  let counter = 0;
  const seed = utf8(label);
  return (n: number) => {
    const out = new Uint8Array(n);
    for (let o = 0; o < n; o += 32) {
      out.set(sha256(concat(seed, u32be(counter++))).subarray(0, Math.min(32, n - o)), o);
    }
    return out;
  };
}
