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
 */
import { createClient } from '@redis/client';
import { decodeClusterMessage, encodeClusterMessage, mailboxChannel } from '../signal/cluster-message';

const PUBLISH_TIMEOUT_MS = 1000;
const MAX_BACKOFF_MS = 5000;

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
  private readonly listener = (message: string, channel: string): void => this.onMessage(message, channel);

  constructor(private readonly o: ClusterOptions) {
    this.prefix = mailboxChannel(o.realm, '');
  }

  /** Connect in the background; the relay works (one node) until Redis answers. */
  start(): void {
    const reconnectStrategy = (retries: number): number => Math.min(100 * 2 ** Math.min(retries, 10), MAX_BACKOFF_MS) + Math.floor(Math.random() * 100);
    this.pub = createClient({ url: this.o.url, disableOfflineQueue: true, socket: { reconnectStrategy, connectTimeout: 3000 } });
    this.sub = createClient({ url: this.o.url, socket: { reconnectStrategy, connectTimeout: 3000 } });
    for (const c of [this.pub, this.sub]) {
      // Errors are reconnects in progress; the status line says the rest.
      c.on('error', () => undefined);
      c.on('ready', () => {
        this.status();
        if (c === this.pub) void this.checkVersion();
        else this.reconcile();
      });
      c.on('end', () => this.status());
      c.on('reconnecting', () => {
        this.counters.reconnects++;
        this.status();
      });
      c.connect().catch(() => this.status());
    }
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
    const drop = [...known].filter((ch) => ch.startsWith(this.prefix) && !this.held.has(ch.slice(this.prefix.length)));
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
    if (up === this.wasUp) return;
    this.wasUp = up;
    this.o.onStatus?.(up);
  }

  async close(): Promise<void> {
    this.closed = true;
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
