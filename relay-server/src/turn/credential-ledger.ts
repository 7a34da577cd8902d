/**
 * TURN credentials tied to signalling connections (issue 15: "TURN is for the
 * relay's own calls"). Before, every `turn` request got a fresh random
 * username, so the per-username quota limited nothing and a credential
 * outlived the connection that asked for it by its whole TTL.
 *
 *  - One credential per signalling connection for its whole life: asking
 *    again returns the same username, or, once less than half its TTL is
 *    left, the same id with a later expiry (a refresh: quotas count by id,
 *    credentials.ts credentialKey, so it shares the old one's quota).
 *  - A connection that signs in for a mailbox whose credential is still
 *    live (another connection holds it: a reconnect racing the dead socket
 *    the relay has not noticed yet) or ended less than the grace ago shares
 *    that credential: a call keeps its allocations across a signalling
 *    reconnect with nothing to redo. The relay already sees both connections
 *    hold the mailbox, so this links nothing new.
 *  - When the last connection holding it ends, the credential stays usable for `graceMs`,
 *    then the TURN core refuses it for everything but deleting an
 *    allocation (core.ts): no new Allocate, Refresh, CreatePermission or
 *    ChannelBind. A credential this ledger does not know (another process's,
 *    one from before a restart, or one whose grace is over and was swept)
 *    is refused the same way.
 *
 * Why a grace: a call in progress keeps the allocations it made with the
 * credential of the connection it started on. The extension notices a dead
 * connection within about 40 s (a ping every 20 s; nothing heard since the
 * last one: reconnect, lib/signal/client.ts) and reconnects after 1 s of
 * backoff, doubling up to 30 s while the relay is unreachable; the relay
 * notices within 30-60 s (a WebSocket ping every 30 s). The grace (default
 * 120 s, `--credential-grace`) covers the reconnect: the new connection gets
 * the same credential back (above) and the call's allocations go on being
 * refreshed. A client that does not come back within it loses the
 * credential: its allocations are not refreshed again and end at their
 * lifetime (at most `maxLifetimeSec` after the last refresh).
 *
 * Memory: one entry per open connection that asked for TURN, plus the ones
 * closed within the grace. Pure; time is passed in.
 */
import { randomBytes } from 'node:crypto';
import { credentialKey, SIGNAL_ID_MARK, turnPassword, type TurnCredential } from './credentials';

/** What the TURN core asks about a credential handed out over signalling (isSignalCredential). */
export interface CredentialLiveness {
  /** Whether requests made with credential id `key` may be served at `now` (ms). */
  usable(key: string, now: number): boolean;
}

interface Entry {
  key: string;
  username: string;
  /** The mailbox of the connection that got it (a reconnect for it gets it back), if known. */
  holder: string | undefined;
  /** Open connections holding it. */
  conns: Set<number>;
  /** When the last connection holding it ended (ms), or undefined while one is open. */
  endedAt: number | undefined;
}

export interface CredentialLedgerOptions {
  /** Lifetime of the username's expiry (seconds), as before: `--credential-ttl`. */
  ttlSec: number;
  /** How long a credential stays usable after its connection ended (ms). */
  graceMs: number;
  /**
   * Told when a credential's last connection ends (`at` in ms), and when a reconnect takes an
   * ended one back (`at` null): the TURN threads keep their own view (EndedCredentials).
   */
  onEnded?: (key: string, at: number | null) => void;
  /** Random bytes for ids (tests pass a fixed source). */
  random?: (n: number) => Uint8Array;
}

export class CredentialLedger implements CredentialLiveness {
  private readonly byConn = new Map<number, Entry>();
  private readonly byKey = new Map<string, Entry>();
  /** The latest credential of each mailbox, while it is live or in its grace. */
  private readonly byHolder = new Map<string, Entry>();

  constructor(private readonly o: CredentialLedgerOptions) {}

  /** Credentials known (open connections plus those in their grace). */
  get size(): number {
    return this.byKey.size;
  }

  /**
   * The credential of connection `conn`, signed in for mailbox `holder`: on its
   * first request the mailbox's credential if that is still live or in its
   * grace, else a new one; the same afterwards, with a later expiry once less
   * than half the TTL is left. Signed with `secret` (the current one: a
   * rotated secret signs the next answer).
   */
  credential(conn: number, secret: string, now: number, holder?: string): TurnCredential {
    const ttl = this.o.ttlSec;
    const nowSec = Math.floor(now / 1000);
    let e = this.byConn.get(conn);
    if (!e && holder !== undefined) {
      const prev = this.byHolder.get(holder);
      if (prev && this.usable(prev.key, now)) {
        e = prev;
        e.conns.add(conn);
        this.byConn.set(conn, e);
        if (e.endedAt !== undefined) {
          e.endedAt = undefined;
          this.o.onEnded?.(e.key, null);
        }
      }
    }
    if (!e) {
      const id = SIGNAL_ID_MARK + Buffer.from((this.o.random ?? randomBytes)(12)).toString('base64url');
      e = { key: id, username: `${nowSec + ttl}:${id}`, holder, conns: new Set([conn]), endedAt: undefined };
      this.byConn.set(conn, e);
      this.byKey.set(id, e);
      if (holder !== undefined) this.byHolder.set(holder, e);
    }
    if (expiryOf(e.username) - nowSec < ttl / 2) {
      e.username = `${nowSec + ttl}:${e.key}`;
    }
    const left = Math.max(0, expiryOf(e.username) - nowSec);
    return { username: e.username, credential: turnPassword(secret, e.username), ttl: left };
  }

  /** Connection `conn` ended: if no other holds its credential, that has `graceMs` left. */
  closed(conn: number, now: number): void {
    const e = this.byConn.get(conn);
    if (!e) return;
    this.byConn.delete(conn);
    e.conns.delete(conn);
    if (e.conns.size > 0) return;
    e.endedAt = now;
    this.o.onEnded?.(e.key, now);
  }

  usable(key: string, now: number): boolean {
    const e = this.byKey.get(key);
    return e !== undefined && (e.endedAt === undefined || now - e.endedAt < this.o.graceMs);
  }

  /** Forget credentials whose grace is over (they are refused either way). */
  sweep(now: number): void {
    for (const [k, e] of this.byKey) {
      if (e.endedAt === undefined || now - e.endedAt < this.o.graceMs) continue;
      this.byKey.delete(k);
      if (e.holder !== undefined && this.byHolder.get(e.holder) === e) this.byHolder.delete(e.holder);
    }
  }
}

/**
 * A TURN thread's view (net/turn-threads.ts): it only serves allocations the
 * main thread admitted with a usable credential, so a credential is usable
 * there unless the main thread said its connection ended more than the grace
 * ago. Entries are kept `keepMs` (grace plus the longest allocation lifetime):
 * after that no allocation made with them is left.
 */
export class EndedCredentials implements CredentialLiveness {
  private readonly ended = new Map<string, number>();

  constructor(
    private readonly graceMs: number,
    private readonly keepMs: number,
  ) {}

  /** The credential's connections ended at `at`, or (null) a reconnect took it back. */
  end(key: string, at: number | null): void {
    if (at === null) this.ended.delete(key);
    else this.ended.set(key, at);
  }

  usable(key: string, now: number): boolean {
    const at = this.ended.get(key);
    return at === undefined || now - at < this.graceMs;
  }

  sweep(now: number): void {
    for (const [k, at] of this.ended) if (now - at >= this.keepMs) this.ended.delete(k);
  }
}

function expiryOf(username: string): number {
  return Number(username.slice(0, username.length - credentialKey(username).length - 1));
}
