/**
 * Answers to deleting Refreshes (LIFETIME 0), kept a short while so a
 * retransmission of the same request gets the same success again.
 *
 * RFC 8656 §7.3 allows the "stateless stack approach": a retransmitted
 * Refresh with lifetime 0 that arrives after the allocation is gone gets 437
 * (Allocation Mismatch), and the client is to treat that as success. Clients
 * differ in how well they do; coturn and pion instead remember recent
 * responses by transaction id (RFC 8489 §6.3: a server may cache a response
 * and resend it for a retransmitted request, for 40 s: Ti). This does that
 * for the one non-idempotent case: the request that deleted an allocation.
 * A retransmission is byte-identical to the request, so it is matched on the
 * client's transport address, the transaction id and the whole request
 * (no new authentication needed: the bytes already passed it). A different
 * transaction id after the deletion still gets 437, as the RFC says.
 * Bounded: at most `max` entries, oldest dropped first. Pure; time passed in.
 */
import { hex } from './bytes';

/** How long an answer is kept: RFC 8489's Ti (39.5 s), rounded up. */
export const RECENT_ANSWER_MS = 40_000;

interface Entry {
  request: Uint8Array;
  response: Uint8Array;
  expiresAt: number;
}

export class RecentAnswers {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly max = 4096) {}

  get size(): number {
    return this.entries.size;
  }

  /** Remember `response` to `request` (a STUN request's raw bytes) from `address`:`port`. */
  remember(address: string, port: number, request: Uint8Array, response: Uint8Array, now: number): void {
    if (request.length < 20) return;
    const k = keyOf(address, port, request);
    this.entries.delete(k);
    this.entries.set(k, { request: request.slice(), response: response.slice(), expiresAt: now + RECENT_ANSWER_MS });
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  /** The answer to resend if `request` from `address`:`port` is a retransmission of a remembered one. */
  find(address: string, port: number, request: Uint8Array, now: number): Uint8Array | undefined {
    if (this.entries.size === 0 || request.length < 20) return undefined;
    const e = this.entries.get(keyOf(address, port, request));
    if (!e || e.expiresAt <= now || !sameBytes(e.request, request)) return undefined;
    return e.response;
  }

  sweep(now: number): void {
    for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
  }
}

function keyOf(address: string, port: number, request: Uint8Array): string {
  return `${address}|${port}|${hex(request.subarray(8, 20))}`;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
