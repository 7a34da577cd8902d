/**
 * The Redis shell of a multi-node relay (`--redis URL`, docs/operators.md
 * "More than one machine"). The routing decision is the router's (sans-IO,
 * signal/router.ts); this file only carries it out on Redis sharded pub/sub
 * (Redis ≥ 7: SSUBSCRIBE/SPUBLISH, which a Redis Cluster spreads over its
 * shards by channel):
 *
 *  - `hold(mailbox)`: the first client holding a mailbox connected here, so
 *    this node subscribes to the mailbox's channel; `release` unsubscribes
 *    when the last one leaves. The subscription *is* the presence: Redis
 *    stores no key, and a node that dies loses its subscriptions with its
 *    connection.
 *  - `publish(to, …)`: one SPUBLISH; Redis answers how many subscribers got
 *    it, this node's own subscription taken off, which is how many other
 *    nodes hold the mailbox. null when Redis is down or slow: the sender is
 *    told `unreachable` at once, local delivery goes on.
 *
 * Two connections, because a subscribed connection can issue nothing else:
 * the publisher fails fast while Redis is away (no offline queue). The
 * subscriber issues nothing while Redis is away; when it is back (the client
 * library has re-subscribed what it had) the held set is reconciled with the
 * subscriptions: mailboxes that arrived meanwhile are subscribed, those that
 * left are unsubscribed. Both reconnect with capped exponential backoff.
 * TURN allocations never touch Redis: any node checks any node's
 * credentials with the shared secret.
 *
 * Failing loud (issue 20): the first error of each kind is logged with what
 * to check (wrong password, closed port, TLS against a plain Redis), never
 * with the URL's password; while Redis has not been reached since start,
 * `problem` says so and /healthz fails. Each node also subscribes to a
 * channel of its own node id and asks Redis how many subscribe to it (at
 * start and every DUPLICATE_CHECK_MS): more than one means two nodes share
 * a node id, whose envelopes to each other are silently dropped (a node
 * skips messages carrying its own id), so that too is logged as an error
 * and fails /healthz. Still no key is written.
 */
import { createClient } from '@redis/client';
import { decodeClusterMessage, encodeClusterMessage, mailboxChannel } from '../signal/cluster-message';

const PUBLISH_TIMEOUT_MS = 1000;
const MAX_BACKOFF_MS = 5000;
/** How often a node asks Redis whether another node subscribes to its node-id channel. */
const DUPLICATE_CHECK_MS = 5000;

/** What an operator should check for a Redis error (the message carries no password: it is Redis's or the socket's). */
export function describeRedisError(e: unknown): string {
  const err = e as { code?: string; message?: string; name?: string };
  const msg = String(err?.message ?? '');
  if (/WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(msg)) return `authentication refused (${msg.split('\n')[0]!.slice(0, 120)}): check the user and password in --redis`;
  if (err?.code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED): is Redis running and listening on that host and port?';
  if (err?.code === 'ENOTFOUND' || err?.code === 'EAI_AGAIN') return `host name not resolved (${err.code}): check the host in --redis`;
  if (err?.code === 'ETIMEDOUT' || /timeout/i.test(msg)) return 'no answer (timeout): firewall, wrong host, or a Redis that does not speak this protocol';
  if (/SSL|TLS|certificate|EPROTO|wrong version number|packet length/i.test(msg + (err?.code ?? ''))) return `TLS failed (${err?.code ?? msg.slice(0, 80)}): rediss:// needs a Redis with TLS on that port; plain Redis takes redis://`;
  if (err?.code === 'ECONNRESET' || /Socket closed unexpectedly/i.test(msg)) return 'connection closed by the other end: a TLS Redis reached with redis://, or a Redis refusing this client';
  return err?.code ? `${err.code}` : (err?.name ?? 'error');
}

export interface ClusterOptions {
  url: string;
  nodeId: string;
  realm: string;
  /** An envelope another node published for a mailbox held here. */
  onEnvelope: (to: string, from: string, data: string) => void;
  /** Redis became reachable (true) or was lost (false). */
  onStatus?: (up: boolean) => void;
  /** A fact for the operator's log (never a mailbox or an address of a client). */
  notice?: (line: string) => void;
  /** Something that stops this node doing its cluster job (same rules as notice). */
  error?: (line: string) => void;
}

/** Aggregate counts only. */
export interface ClusterCounters {
  published: number;
  received: number;
  /** Sends answered unreachable because Redis was down or slow. */
  publishFailed: number;
  reconnects: number;
}

type Client = ReturnType<typeof createClient>;

export class Cluster {
  readonly counters: ClusterCounters = { published: 0, received: 0, publishFailed: 0, reconnects: 0 };
  private readonly held = new Set<string>();
  private readonly prefix: string;
  private pub: Client | undefined;
  private sub: Client | undefined;
  private wasUp = false;
  private closed = false;
  private versionChecked = false;
  private everUp = false;
  private lastError = '';
  private duplicate = false;
  private dupTimer: NodeJS.Timeout | undefined;
  private readonly nodeChannel: string;
  private readonly listener = (message: string, channel: string): void => this.onMessage(message, channel);

  constructor(private readonly o: ClusterOptions) {
    this.prefix = mailboxChannel(o.realm, '');
    this.nodeChannel = `hush:${o.realm}:node:${o.nodeId}`;
  }

  /** Why this node cannot do its cluster job, or null: Redis never reached since start, or a duplicate node id. */
  get problem(): string | null {
    if (this.duplicate) return 'duplicate node id';
    if (!this.everUp) return 'redis not reached';
    return null;
  }

  /** Log each new kind of error once (they repeat on every reconnect attempt). */
  private onError(e: unknown): void {
    if (this.closed) return;
    const text = describeRedisError(e);
    if (text === this.lastError) return;
    this.lastError = text;
    this.o.error?.(`cluster: redis: ${text}${this.everUp ? '' : '; this node has not reached redis since start: /healthz answers 503'}`);
  }

  /** Two nodes with one node id drop each other's envelopes: ask Redis who else listens on ours. */
  private async checkDuplicate(): Promise<void> {
    const pub = this.pub;
    if (!pub?.isReady || !this.sub?.isReady || this.closed) return;
    try {
      const r = (await pub.sendCommand(['PUBSUB', 'SHARDNUMSUB', this.nodeChannel])) as unknown[];
      const n = Number(r?.[1] ?? 0);
      const dup = n > 1;
      if (dup && !this.duplicate) this.o.error?.(`cluster: ${n} nodes use node id "${this.o.nodeId}": envelopes between them are dropped; give every node its own nodeId (a copied relay.json?); /healthz answers 503 until it is fixed`);
      else if (!dup && this.duplicate) this.o.notice?.(`cluster: node id "${this.o.nodeId}" is unique again`);
      this.duplicate = dup;
    } catch {
      // Redis went away mid-check; the status line says so.
    }
  }

  /** Connect in the background; the relay works (one node) until Redis answers. */
  start(): void {
    const reconnectStrategy = (retries: number): number => Math.min(100 * 2 ** Math.min(retries, 10), MAX_BACKOFF_MS) + Math.floor(Math.random() * 100);
    this.pub = createClient({ url: this.o.url, disableOfflineQueue: true, socket: { reconnectStrategy, connectTimeout: 3000 } });
    this.sub = createClient({ url: this.o.url, socket: { reconnectStrategy, connectTimeout: 3000 } });
    for (const c of [this.pub, this.sub]) {
      // Errors repeat while reconnecting: each new kind is logged once, with what to check.
      c.on('error', (e: unknown) => this.onError(e));
      c.on('ready', () => {
        this.lastError = '';
        this.status();
        if (c === this.pub) void this.checkVersion();
        else {
          this.reconcile();
          this.sub?.sSubscribe(this.nodeChannel, () => undefined).then(() => this.checkDuplicate(), () => undefined);
        }
      });
      c.on('end', () => this.status());
      c.on('reconnecting', () => {
        this.counters.reconnects++;
        this.status();
      });
      c.connect().catch((e: unknown) => {
        this.onError(e);
        this.status();
      });
    }
    this.dupTimer = setInterval(() => void this.checkDuplicate(), DUPLICATE_CHECK_MS);
    this.dupTimer.unref();
  }

  get up(): boolean {
    return !!this.pub?.isReady && !!this.sub?.isReady;
  }

  /** Local mailboxes whose channel this node listens on. */
  get heldCount(): number {
    return this.held.size;
  }

  hold(mailbox: string): void {
    if (this.held.has(mailbox)) return;
    this.held.add(mailbox);
    if (this.sub?.isReady) this.sub.sSubscribe(this.prefix + mailbox, this.listener).catch(() => undefined);
  }

  release(mailbox: string): void {
    if (!this.held.delete(mailbox)) return;
    if (this.sub?.isReady) this.sub.sUnsubscribe(this.prefix + mailbox, this.listener).catch(() => undefined);
  }

  /** After a (re)connect: subscribe what is held and not subscribed, unsubscribe what is no longer held. */
  private reconcile(): void {
    const sub = this.sub;
    if (!sub?.isReady) return;
    const known = new Set(sub.getPubSubListeners('SHARDED').keys());
    const add = [...this.held].map((m) => this.prefix + m).filter((ch) => !known.has(ch));
    const drop = [...known].filter((ch) => ch.startsWith(this.prefix) && ch !== this.nodeChannel && !this.held.has(ch.slice(this.prefix.length)));
    for (let i = 0; i < add.length; i += 500) sub.sSubscribe(add.slice(i, i + 500), this.listener).catch(() => undefined);
    for (let i = 0; i < drop.length; i += 500) sub.sUnsubscribe(drop.slice(i, i + 500), this.listener).catch(() => undefined);
  }

  /** How many other nodes took the envelope; null if Redis could not be asked. */
  async publish(to: string, from: string, data: string): Promise<number | null> {
    const pub = this.pub;
    if (!pub?.isReady) {
      this.counters.publishFailed++;
      return null;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const n = await Promise.race([
        pub.sPublish(this.prefix + to, encodeClusterMessage(this.o.nodeId, from, data)),
        new Promise<null>((r) => (timer = setTimeout(() => r(null), PUBLISH_TIMEOUT_MS))),
      ]);
      if (n === null) {
        this.counters.publishFailed++;
        return null;
      }
      this.counters.published++;
      return Math.max(0, Number(n) - (this.held.has(to) ? 1 : 0));
    } catch {
      this.counters.publishFailed++;
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sharded pub/sub needs Redis 7: say so once, plainly, rather than fail quietly. */
  private async checkVersion(): Promise<void> {
    if (this.versionChecked || !this.pub) return;
    this.versionChecked = true;
    try {
      const v = /redis_version:(\d+)\.(\d+)/.exec(await this.pub.info('server'));
      if (v && Number(v[1]) < 7) this.o.notice?.(`cluster: redis ${v[1]}.${v[2]} has no sharded pub/sub (SSUBSCRIBE, Redis 7): envelopes to other nodes will be unreachable; upgrade Redis`);
    } catch {
      this.versionChecked = false;
    }
  }

  private onMessage(message: string, channel: string): void {
    if (!channel.startsWith(this.prefix)) return;
    const m = decodeClusterMessage(message);
    if (!m || m.node === this.o.nodeId) return;
    this.counters.received++;
    this.o.onEnvelope(channel.slice(this.prefix.length), m.from, m.data);
  }

  private status(): void {
    if (this.closed) return;
    const up = this.up;
    if (up) this.everUp = true;
    if (up === this.wasUp) return;
    this.wasUp = up;
    this.o.onStatus?.(up);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.dupTimer);
    // No goodbye needed: the subscriptions (this node's presence) end with the connections.
    for (const c of [this.pub, this.sub]) {
      try {
        c?.destroy();
      } catch {
        // not connected
      }
    }
  }
}
