/**
 * Who is on the other end of each call, for the signalling client (protocol
 * v2, docs/relay-protocol.md §Deliveries). `deliver` no longer names the
 * sender, so the client remembers, per call id, the peer it dialled (its
 * address tag) or the route a HELLO carried, and hands the call layer that
 * tag as the envelope's sender, as `deliver.from` did in v1. An envelope for
 * a call id it never saw has no known sender and is dropped.
 *
 * Bounded: the oldest call ids go first beyond MAX_CALL_ROUTES (a call lasts
 * minutes and a device holds one visible call plus a few handshakes).
 */
import type { Route } from './delivery';

export const MAX_CALL_ROUTES = 256;

export class CallRoutes {
  private readonly byCall = new Map<string, Route>();

  /** Remember the peer of call `callId` (hex); re-noting moves it to the newest. */
  note(callId: string, route: Route): void {
    this.byCall.delete(callId);
    this.byCall.set(callId, route);
    while (this.byCall.size > MAX_CALL_ROUTES) {
      const oldest = this.byCall.keys().next().value as string;
      this.byCall.delete(oldest);
    }
  }

  get(callId: string): Route | undefined {
    return this.byCall.get(callId);
  }

  get size(): number {
    return this.byCall.size;
  }
}
