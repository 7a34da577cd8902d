/**
 * EVEN-PORT reservations (RFC 8656 §7.2 step 6, §14.9-14.10), as the core
 * counts them: an Allocate with EVEN-PORT R=1 gets an even relay port and the
 * next one is held under a RESERVATION-TOKEN for a later Allocate. A held
 * port is an open socket, so each reservation counts against the same quotas
 * as an allocation (per credential, per source and in total): issue 22 raised the relay's
 * open files from 33 to 8,112 with allocate/delete cycles and no live
 * allocation. A reservation ends when it is used, after RESERVATION_MS, or at
 * once when the allocation that made it is released (nobody else holds the
 * token). The shell (net/relay-sockets.ts) closes the socket on the same
 * three events. Pure; time is passed in.
 */

/** How long a reserved port waits for the Allocate that uses it (RFC 8656 §14.9: about 30 s). */
export const RESERVATION_MS = 30_000;

import { bump } from './allocation-table';
import { credentialKey } from './credentials';

interface Reservation {
  /** The username that made it, and its credentialKey. */
  username: string;
  user: string;
  /** Client address (told to onChange). */
  address: string;
  /** Client source key (../source-key.ts). */
  source: string;
  /** Id of the allocation whose Allocate made it. */
  owner: number;
  expiresAt: number;
}

export class Reservations {
  private readonly byToken = new Map<string, Reservation>();
  private readonly perUser = new Map<string, number>();
  private readonly perSource = new Map<string, number>();
  /**
   * Told when a reservation is made (+1) or ends (-1): a TURN thread tells the
   * main thread, which counts it against the quotas (net/turn-threads.ts).
   */
  onChange: ((username: string, address: string, d: 1 | -1) => void) | undefined;

  get size(): number {
    return this.byToken.size;
  }

  userCount(username: string): number {
    return this.perUser.get(credentialKey(username)) ?? 0;
  }

  sourceCount(source: string): number {
    return this.perSource.get(source) ?? 0;
  }

  add(token: string, username: string, address: string, source: string, owner: number, now: number): void {
    const user = credentialKey(username);
    this.byToken.set(token, { username, user, address, source, owner, expiresAt: now + RESERVATION_MS });
    bump(this.perUser, user, 1);
    bump(this.perSource, source, 1);
    this.onChange?.(username, address, 1);
  }

  /** The reservation is used (or its token turned out unknown): no longer counted. */
  take(token: string): void {
    const r = this.byToken.get(token);
    if (!r) return;
    this.byToken.delete(token);
    bump(this.perUser, r.user, -1);
    bump(this.perSource, r.source, -1);
    this.onChange?.(r.username, r.address, -1);
  }

  /** The allocation `owner` is gone: its unused reservations go with it. */
  releaseOwner(owner: number): void {
    for (const [t, r] of this.byToken) if (r.owner === owner) this.take(t);
  }

  expire(now: number): void {
    for (const [t, r] of this.byToken) if (r.expiresAt <= now) this.take(t);
  }
}
