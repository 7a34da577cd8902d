/**
 * The blind signalling router, sans-IO. It knows connections by a number
 * and mailboxes by id; it routes sealed envelopes it cannot read, queues
 * nothing and stores nothing once a connection goes. The shell gives it
 * frames and the time; it answers with actions (send, close, verify).
 *
 * Connection states:  challenged ──auth──▶ verifying ──ok──▶ ready
 *                          │                    ├──bad──▶ closed (4001)
 *                          │                    └──held under another key──▶ closed (4004)
 *                          └─ anything else ──▶ closed (4003)
 *
 * Protocol v2 (docs/relay-protocol.md §Version 2): a delivery names no
 * sender, and the sender hears `sent` whether or not anyone holds `to`.
 *
 * A mailbox may be held by MAX_HOLDERS connections (several devices or a
 * reconnect racing a dead socket); a newer one evicts the oldest (4002).
 *
 * Several nodes (`cluster: true`, docs/operators.md "More than one machine"):
 * the router says when this node starts and stops holding a mailbox (`hold`,
 * `release`: the shell subscribes to that mailbox's channel), and a send is
 * delivered to the local holders and `publish`ed for the other nodes' ones;
 * the shell reports how many other nodes took it (`published`) and the
 * sender is told `sent` if anyone did. Envelopes from other nodes come in
 * through `remote`. Nothing waits or is queued anywhere.
 *
 * Draining (shutdown): every connection, and every new one, is told
 * ERR_DRAINING and closed with 1012 (service restart) so its client goes to
 * another node at once.
 *
 * About 300 lines because the connection state machine and the routing it
 * guards read best as one file: every transition above is in it.
 */
import { RelayError } from '../errors';
import { TokenBucket } from '../token-bucket';
import { SIGNAL_PROTOCOL_VERSION, type ServerMessage, type TurnCredentials } from '../../../lib/signal/wire';
import { parseClientMessage, type CheckedClientMessage } from './messages';

export const MAX_HOLDERS = 4;
export const CLOSE = {
  authFailed: 4001,
  replaced: 4002,
  authRequired: 4003,
  /** The mailbox is held under another key (protocol v2). */
  mailboxTaken: 4004,
  /** The challenge went unanswered for AUTH_DEADLINE_MS. */
  authTimeout: 4008,
  /** A posting connection went idle (POST_IDLE_MS). */
  idle: 1000,
  policy: 1008,
  serviceRestart: 1012,
  tryAgainLater: 1013,
} as const;

export type SignalAction =
  | { kind: 'send'; conn: number; msg: ServerMessage }
  | { kind: 'close'; conn: number; code: number; reason: string }
  /** Answer a WebSocket ping (it was within the connection's message rate). */
  | { kind: 'pong'; conn: number; data: Uint8Array }
  /** Check a mailbox proof (lib/crypto/mailbox-auth.ts) against this relay's own URLs; answer with `verified`. */
  | { kind: 'verify'; conn: number; challenge: Uint8Array; mailbox: string; key: Uint8Array; sig: Uint8Array }
  /** Cluster: this node now holds `mailbox` (its first local connection): receive its envelopes from other nodes. */
  | { kind: 'hold'; conn: number; mailbox: string }
  /** Cluster: this node no longer holds `mailbox`. */
  | { kind: 'release'; conn: number; mailbox: string }
  /** Cluster: offer the envelope to the other nodes; answer with `published(conn, id, to, local, taken)`. */
  | { kind: 'publish'; conn: number; id: number; to: string; from: string; data: string; local: number };

/**
 * What a v2 router puts in the cluster message's `from` slot
 * (cluster-message.ts): nothing, since deliveries no longer name a sender.
 */
export const NO_SENDER = '0'.repeat(32);

export interface RouterOptions {
  /** The connection's TURN credentials (the shell knows hosts and ports); `mailbox` it signed in for (a reconnect gets the same back). */
  turnInfo: (conn: number, now: number, mailbox?: string) => TurnCredentials;
  randomBytes: (n: number) => Uint8Array;
  /** False when the connection's send buffer is full: the envelope is not delivered there. */
  writable: (conn: number) => boolean;
  ratePerSec?: number;
  burst?: number;
  /** Bad or rate-limited messages tolerated before the connection is closed. */
  maxStrikes?: number;
  /** Other relay nodes may hold mailboxes (the shell routes through Redis). */
  cluster?: boolean;
  /**
   * Deliveries from connections that never log in (callers whose home is
   * another relay, issue 15): accepted by default, at `postRatePerSec`; false
   * (`--deliveries members`) refuses them like any message before auth.
   */
  acceptNonMembers?: boolean;
  /** Message rate of a non-member (posting) connection (default 10/s, burst 20). */
  postRatePerSec?: number;
}

interface Conn {
  id: number;
  /** `posting`: never logged in, only delivers to this relay's mailboxes (a member of another relay). */
  state: 'challenged' | 'verifying' | 'ready' | 'posting';
  /** Last send of a posting connection (it is closed after POST_IDLE_MS without one). */
  lastPostAt: number;
  openedAt: number;
  challenge: Uint8Array;
  mailbox: string | undefined;
  /** The per-relay key this connection logs in with (hex), from auth until closed. */
  key: string | undefined;
  bucket: TokenBucket;
  strikes: number;
}

/**
 * A connection must answer its challenge within this long, or it is closed:
 * otherwise idle sockets from many addresses could hold every connection slot.
 * (A proof being verified is not counted against it.)
 */
export const AUTH_DEADLINE_MS = 10_000;
/** A posting connection (deliveries only, no login) is closed after this long without a send. */
export const POST_IDLE_MS = 60_000;

export class SignalRouter {
  private readonly conns = new Map<number, Conn>();
  /** Mailbox -> connection ids holding it, oldest first. */
  private readonly mailboxes = new Map<string, number[]>();
  /** Mailbox -> the key (hex) its holders proved: a held mailbox is bound to the first key that logged in to it. */
  private readonly mailboxKeys = new Map<string, string>();
  readonly counters = { delivered: 0, unreachable: 0, authOk: 0, authFailed: 0, fromOtherNodes: 0 };
  private draining = false;

  constructor(private readonly o: RouterOptions) {}

  /** Close connections that left their challenge unanswered past the deadline (the shell calls this every few seconds). */
  expire(now: number): SignalAction[] {
    const out: SignalAction[] = [];
    for (const c of this.conns.values()) {
      if (c.state === 'challenged' && now - c.openedAt >= AUTH_DEADLINE_MS) {
        out.push(
          { kind: 'send', conn: c.id, msg: errorMsg('ERR_AUTH_TIMEOUT', 'the challenge was not answered in time', undefined) },
          { kind: 'close', conn: c.id, code: CLOSE.authTimeout, reason: 'authentication timeout' },
        );
      } else if (c.state === 'posting' && now - c.lastPostAt >= POST_IDLE_MS) {
        out.push({ kind: 'close', conn: c.id, code: CLOSE.idle, reason: 'idle' });
      }
    }
    return out;
  }

  open(conn: number, now: number): SignalAction[] {
    if (this.draining) return goAway(conn);
    const challenge = this.o.randomBytes(32);
    this.conns.set(conn, {
      id: conn,
      state: 'challenged',
      openedAt: now,
      lastPostAt: now,
      challenge,
      mailbox: undefined,
      key: undefined,
      bucket: new TokenBucket(this.o.ratePerSec ?? 50, this.o.burst ?? 100, now),
      strikes: 0,
    });
    return [{ kind: 'send', conn, msg: { t: 'challenge', v: SIGNAL_PROTOCOL_VERSION, challenge: b64(challenge) } }];
  }

  /**
   * A WebSocket ping. It costs a pong, so it takes a token of the same
   * message bucket (issue 22: 45,810 pongs/s on one connection): within the
   * rate it is answered; past it, it is not, counts a strike silently (an
   * error per ping would double the flood), and past maxStrikes closes 1008.
   */
  ping(conn: number, data: Uint8Array, now: number): SignalAction[] {
    const c = this.conns.get(conn);
    if (!c) return [];
    if (c.bucket.take(now)) return [{ kind: 'pong', conn, data }];
    c.strikes++;
    if (c.strikes <= (this.o.maxStrikes ?? 50)) return [];
    return [
      { kind: 'send', conn, msg: errorMsg('ERR_RATE_LIMIT', 'too many messages (pings count): at most 50 per second', undefined) },
      { kind: 'close', conn, code: CLOSE.policy, reason: 'too many bad messages' },
    ];
  }

  message(conn: number, text: string, now: number): SignalAction[] {
    const c = this.conns.get(conn);
    if (!c) return [];
    if (!c.bucket.take(now)) return this.strike(c, 'ERR_RATE_LIMIT', 'too many messages: at most 50 per second', undefined);
    const p = parseClientMessage(text);
    if ((c.state === 'challenged' || c.state === 'posting') && this.o.acceptNonMembers !== false && p.ok && (p.value.t === 'send' || p.value.t === 'ping')) {
      // A member of another relay delivering here (issue 15): no login, deliveries only, at the posting rate.
      if (c.state === 'challenged') {
        c.state = 'posting';
        const rate = this.o.postRatePerSec ?? 10;
        c.bucket = new TokenBucket(rate, rate * 2, now);
        if (!c.bucket.take(now)) return this.strike(c, 'ERR_RATE_LIMIT', 'too many deliveries', p.id);
      }
      c.lastPostAt = now;
      return p.value.t === 'ping' ? [{ kind: 'send', conn: c.id, msg: { t: 'pong' } }] : this.ready(c, p.value, now);
    }
    if (c.state === 'posting') {
      return this.strike(c, 'ERR_BAD_MESSAGE', 'a connection that delivers without logging in may only send and ping', p.id);
    }
    if (c.state !== 'ready') {
      if (p.ok && p.value.t === 'auth' && c.state === 'challenged') {
        c.state = 'verifying';
        c.key = Buffer.from(p.value.key).toString('hex');
        return [{ kind: 'verify', conn, challenge: c.challenge, mailbox: p.value.mailbox, key: p.value.key, sig: p.value.sig }];
      }
      return [
        { kind: 'send', conn, msg: errorMsg('ERR_AUTH_REQUIRED', 'authenticate first: answer the challenge with {"t":"auth"}', p.id) },
        { kind: 'close', conn, code: CLOSE.authRequired, reason: 'authentication required' },
      ];
    }
    if (!p.ok) return this.strike(c, p.code, p.message, p.id);
    return this.ready(c, p.value, now);
  }

  private ready(c: Conn, m: CheckedClientMessage, now: number): SignalAction[] {
    switch (m.t) {
      case 'auth':
        return this.strike(c, 'ERR_BAD_MESSAGE', 'already authenticated', undefined);
      case 'ping':
        return [{ kind: 'send', conn: c.id, msg: { t: 'pong' } }];
      case 'turn':
        return [{ kind: 'send', conn: c.id, msg: m.id === undefined ? { t: 'turn', turn: this.o.turnInfo(c.id, now) } : { t: 'turn', turn: this.o.turnInfo(c.id, now), id: m.id } }];
      case 'send': {
        const holders = this.mailboxes.get(m.to);
        const out: SignalAction[] = [];
        let delivered = 0;
        if (holders) {
          for (const h of holders) {
            if (!this.o.writable(h)) continue;
            out.push({ kind: 'send', conn: h, msg: { t: 'deliver', data: m.data } });
            delivered++;
          }
        }
        if (this.o.cluster) {
          // The answer waits for the other nodes' count (published()).
          out.push({ kind: 'publish', conn: c.id, id: m.id, to: m.to, from: NO_SENDER, data: m.data, local: delivered });
          return out;
        }
        out.push(this.answer(c.id, m.id, m.to, delivered));
        return out;
      }
      default: {
        const never: never = m;
        return never;
      }
    }
  }

  /**
   * The sender hears `sent` whether or not anyone held `to` (protocol v2):
   * `unreachable` answered any client about any mailbox, a presence oracle.
   * Presence is the callee's to reveal, by answering the handshake under its
   * own admission rules (docs/protocol.md §5.5); an offline callee and one
   * that refuses a stranger look the same to the caller (its handshake timer).
   * The counters stay: they are aggregate metrics, never per mailbox.
   */
  private answer(conn: number, id: number, _to: string, taken: number): SignalAction {
    if (taken > 0) this.counters.delivered++;
    else this.counters.unreachable++;
    return { kind: 'send', conn, msg: { t: 'sent', id } };
  }

  /**
   * Cluster: how a `publish` went. `local` is what the publish action said
   * (holders on this node that got it), `others` how many other nodes took
   * it (null: Redis is unreachable, so none). The sender is told `sent` if
   * anyone got it.
   */
  published(conn: number, id: number, to: string, local: number, others: number | null): SignalAction[] {
    if (!this.conns.has(conn)) return [];
    return [this.answer(conn, id, to, local + Math.max(0, others ?? 0))];
  }

  /** Cluster: an envelope another node published for `to`; delivered to this node's holders. */
  remote(to: string, _from: string, data: string): SignalAction[] {
    const holders = this.mailboxes.get(to);
    if (!holders) return [];
    const out: SignalAction[] = [];
    for (const h of holders) {
      if (this.o.writable(h)) out.push({ kind: 'send', conn: h, msg: { t: 'deliver', data } });
    }
    if (out.length > 0) this.counters.fromOtherNodes++;
    return out;
  }

  /** Shutdown: tell every connection to go to another node (1012), and every new one from now on. */
  drain(): SignalAction[] {
    this.draining = true;
    return [...this.conns.keys()].flatMap((conn) => goAway(conn));
  }

  private strike(c: Conn, code: string, message: string, id: number | undefined): SignalAction[] {
    c.strikes++;
    const out: SignalAction[] = [{ kind: 'send', conn: c.id, msg: errorMsg(code, message, id) }];
    if (c.strikes > (this.o.maxStrikes ?? 50)) out.push({ kind: 'close', conn: c.id, code: CLOSE.policy, reason: 'too many bad messages' });
    return out;
  }

  /** The shell's verdict on a proof (`mailbox` on success). */
  verified(conn: number, result: { ok: true; mailbox: string } | { ok: false; code: string }, now: number): SignalAction[] {
    const c = this.conns.get(conn);
    if (!c || c.state !== 'verifying') return [];
    if (!result.ok) {
      this.counters.authFailed++;
      const busy = result.code === 'ERR_BUSY';
      return [
        {
          kind: 'send',
          conn,
          msg: errorMsg(
            busy ? 'ERR_BUSY' : 'ERR_AUTH',
            busy ? 'the server is busy verifying other proofs: reconnect in a few seconds' : 'the mailbox proof does not verify for this challenge and this relay\'s URL',
          ),
        },
        busy
          ? { kind: 'close', conn, code: CLOSE.tryAgainLater, reason: 'busy' }
          : { kind: 'close', conn, code: CLOSE.authFailed, reason: 'authentication failed' },
      ];
    }
    const bound = this.mailboxKeys.get(result.mailbox);
    if (bound !== undefined && bound !== c.key) {
      // Held, under another key: only that key's holders may share it (mailbox-auth.ts, caveat).
      this.counters.authFailed++;
      return [
        { kind: 'send', conn, msg: errorMsg('ERR_MAILBOX_TAKEN', 'this mailbox is held under another key right now') },
        { kind: 'close', conn, code: CLOSE.mailboxTaken, reason: 'mailbox taken' },
      ];
    }
    this.counters.authOk++;
    c.state = 'ready';
    c.mailbox = result.mailbox;
    this.mailboxKeys.set(result.mailbox, c.key!);
    const out: SignalAction[] = [];
    const holders = this.mailboxes.get(result.mailbox) ?? [];
    while (holders.length >= MAX_HOLDERS) {
      const old = holders.shift()!;
      const oc = this.conns.get(old);
      if (oc) oc.mailbox = undefined;
      out.push({ kind: 'send', conn: old, msg: errorMsg('ERR_REPLACED', 'a newer connection for this mailbox took this one\'s place') });
      out.push({ kind: 'close', conn: old, code: CLOSE.replaced, reason: 'replaced' });
    }
    holders.push(conn);
    if (this.o.cluster && !this.mailboxes.has(result.mailbox)) out.push({ kind: 'hold', conn, mailbox: result.mailbox });
    this.mailboxes.set(result.mailbox, holders);
    out.push({ kind: 'send', conn, msg: { t: 'ready', mailbox: result.mailbox, turn: this.o.turnInfo(conn, now, result.mailbox) } });
    return out;
  }

  /** The connection is gone; in a cluster, `release` if it was this node's last holder of its mailbox. */
  closed(conn: number): SignalAction[] {
    const c = this.conns.get(conn);
    if (!c) return [];
    this.conns.delete(conn);
    if (c.mailbox) {
      const holders = this.mailboxes.get(c.mailbox);
      if (holders) {
        const i = holders.indexOf(conn);
        if (i >= 0) holders.splice(i, 1);
        if (holders.length === 0) {
          this.mailboxes.delete(c.mailbox);
          this.mailboxKeys.delete(c.mailbox);
          if (this.o.cluster) return [{ kind: 'release', conn, mailbox: c.mailbox }];
        }
      }
    }
    return [];
  }

  get connections(): number {
    return this.conns.size;
  }
  get liveMailboxes(): number {
    return this.mailboxes.size;
  }
}

function goAway(conn: number): SignalAction[] {
  return [
    { kind: 'send', conn, msg: errorMsg('ERR_DRAINING', 'this relay node is shutting down: connect to another one') },
    { kind: 'close', conn, code: CLOSE.serviceRestart, reason: 'shutting down' },
  ];
}

function errorMsg(code: string, message: string, id?: number): ServerMessage {
  return id === undefined ? { t: 'error', code, message } : { t: 'error', code, message, id };
}

function b64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64');
}

export { RelayError };
