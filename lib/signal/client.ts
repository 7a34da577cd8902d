/**
 * Over 300 lines because the connection's whole life (login, keep-alive, backoff over the relay
 * list, draining moves, network changes) is one state machine that reads best in one place.
 *
 * The extension's signalling connection to a relay-server (docs/relay-protocol.md).
 *
 * Logs in to our mailbox on this relay (protocol v2, docs/relay-protocol.md
 * §Version 2: a per-relay key signs the relay's challenge and the URL we
 * dialled, once per connection; a second challenge drops the connection),
 * then sends and receives envelopes wrapped as padded deliveries
 * (delivery.ts): the relay learns neither our address nor who sends to whom.
 * `wss://` only, but for loopback (relay-url.ts). Reconnects with
 * exponential backoff (1 s to 30 s), trying the configured relays in turn.
 * Sends an application-level ping every 20 s: Chrome keeps an MV3 service
 * worker alive while WebSocket messages flow, which is what lets an incoming
 * call ring with the popup closed.
 *
 * A network change (network-watch.ts, wired in with `networkChanged`) does not
 * wait for a ping to go unanswered: going offline drops the socket at once,
 * and coming back (or onto another network) reconnects at once, with onMoved
 * once online so a live call restarts ICE on the new network.
 *
 * TURN credentials (the relay's REST username, valid `ttl` seconds) come with
 * `ready` and are renewed at four fifths of their life (a `turn` request on a
 * timer of their own: with the shortest TTL a relay allows, 60 s, a check at
 * each 20 s ping would ask only when they had already expired). Each new set
 * is told to `onTurn`, so a call in progress builds its next allocation (a
 * standby path, an ICE restart) with credentials that are still valid.
 */
import { mailboxIdOfBundle } from '../crypto/address';
import { toHex } from '../crypto/bytes';
import { EnvelopeType, parseEnvelope } from '../crypto/envelope-format';
import type { Identity } from '../crypto/identity';
import { proveMailbox, relayMailboxId } from '../crypto/mailbox-auth';
import { testInsecureRelayHost } from '../testing/hooks';
import { fromB64, toB64 } from './base64';
import { CallRoutes } from './call-routes';
import { PostOffice } from './post-office';
import { openRoute, unwrapDelivery, wrapDelivery } from './delivery';
import { parseServerMessage } from './protocol';
import { canonicalRelayUrl, RelayUrlError } from './relay-url';
import { SIGNAL_PROTOCOL_VERSION, type ClientMessage, type TurnCredentials } from './wire';

export type SignalState = 'offline' | 'connecting' | 'online';

export interface SignalStatus {
  state: SignalState;
  url?: string;
  mailbox?: string;
  /** Why we are offline, as a sentence. */
  error?: string;
}

export class SignalError extends Error {
  override readonly name = 'SignalError';
  constructor(
    readonly code: 'ERR_OFFLINE' | 'ERR_TIMEOUT' | 'ERR_REFUSED' | 'ERR_PEER_RELAYS',
    message: string,
  ) {
    super(message);
  }
}

type WsCtor = new (url: string) => WebSocket;

export interface SignalClientOptions {
  urls: string[];
  identity: Identity;
  /**
   * An envelope for us. `from` is the sender's address tag (mailboxIdOf its
   * address): from a HELLO's sealed route, or the peer of that call id.
   */
  onDeliver: (from: string, data: Uint8Array) => void;
  onStatus?: (s: SignalStatus) => void;
  WebSocketImpl?: WsCtor;
  keepaliveMs?: number;
  sendTimeoutMs?: number;
  /** How long a send waits for a reconnect before failing (default 8 s). */
  offlineGraceMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * Online again after the relay asked us to move (close 1012: that node is shutting down,
   * docs/relay-protocol.md), or after the device's network came back or changed
   * (networkChanged). A call in progress should move its media too (ICE restart).
   */
  onMoved?: () => void;
  /**
   * New TURN credentials (at login, and each renewal). A call in progress hands them to its media
   * host: a relay refuses an expired username for a new allocation (docs/relay.md).
   */
  onTurn?: (creds: TurnCredentials) => void;
}

/** Renew TURN credentials when this fraction of their life has passed (the relay renews them once less than half is left). */
const TURN_RENEW_AT = 0.8;
/** Never ask again sooner than this after a set arrived (a relay answering with a TTL of 0 must not make a loop). */
const TURN_RENEW_MIN_MS = 1000;
/** The latest a renewal is scheduled (setTimeout's limit is ~24.8 days; a relay's TTL of years must not overflow it). */
const TURN_RENEW_MAX_MS = 24 * 3600_000;
/** A renewal with no answer is asked again this often. */
const TURN_RETRY_MS = 10_000;

function sameTurn(a: TurnCredentials | undefined, b: TurnCredentials): boolean {
  return !!a && a.username === b.username && a.credential === b.credential && a.urls.length === b.urls.length && a.urls.every((u, i) => u === b.urls[i]);
}

interface Pending {
  resolve: (r: 'sent' | 'unreachable') => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class SignalClient {
  private ws?: WebSocket;
  private urlIndex = 0;
  private backoff: number;
  private stopped = true;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private keepalive?: ReturnType<typeof setInterval>;
  private reconnectTimer?: ReturnType<typeof setTimeout>;
  private turnTimer?: ReturnType<typeof setTimeout>;
  private readyWaiters: (() => void)[] = [];
  private turnCreds?: TurnCredentials;
  status: SignalStatus = { state: 'offline' };
  private lastHeardAt = 0;
  /** The relay we were online with closed with 1012 (draining): tell onMoved once we are back. */
  private moved = false;
  /** The canonical URL of the relay this socket dialled (what our proof signs). */
  private relayUrl = '';
  /** This socket already answered a challenge: a second one is refused (a forwarded login). */
  private answered = false;
  /** Our address tag: seals HELLO routes and opens those sent to us. Never sent to a relay. */
  private readonly myTag: string;
  private readonly routes = new CallRoutes();
  /** Where to find people whose card named relays (address tag → canonical relay URLs, in the card's order). */
  private readonly hints = new Map<string, string[]>();
  /** Deliveries to relays that are not ours (their members' mailboxes). */
  private readonly post: PostOffice;
  /** Deliveries are handled one at a time, in order (opening a HELLO's route is async). */
  private deliveries: Promise<void> = Promise.resolve();

  constructor(private readonly opts: SignalClientOptions) {
    this.backoff = opts.minBackoffMs ?? 1000;
    this.myTag = mailboxIdOfBundle(opts.identity.bundleBytes);
    this.post = new PostOffice({ WebSocketImpl: opts.WebSocketImpl, timeoutMs: opts.sendTimeoutMs });
  }

  /**
   * The relays a contact card (or the contact's saved list) named for the
   * person with address tag `tag` (lib/contacts/card.ts): a call's HELLO goes
   * to her mailbox on the first that takes it, in order (issue 15: a relay
   * that refuses the connection, closes it or answers with an error is
   * skipped); the rest of the call stays on that one. No hint: her mailbox on
   * our own relay. Throws RelayUrlError for a URL the wss rule refuses.
   */
  hint(tag: string, relays: readonly string[]): void {
    if (relays.length === 0) {
      this.hints.delete(tag);
      return;
    }
    const urls = relays.map((r) => canonicalRelayUrl(r, { insecureAllowed: testInsecureRelayHost }));
    this.hints.set(tag, [...new Set(urls)]);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.post.closeAll();
    clearTimeout(this.reconnectTimer);
    this.teardown('stopped');
    this.setStatus({ state: 'offline' });
  }

  /** Reconnect now (settings changed, or the user pressed retry). */
  restart(): void {
    this.stop();
    this.backoff = this.opts.minBackoffMs ?? 1000;
    this.start();
  }

  /**
   * The device's network changed (network-watch.ts). Offline: drop the socket now (its
   * sends fail fast) and wait for the network, with a slow retry in case the event lied.
   * Online or a new network: reconnect to the same relay now, backoff reset, and say
   * onMoved once there. Ignored while stopped.
   */
  networkChanged(online: boolean): void {
    if (this.stopped) return;
    clearTimeout(this.reconnectTimer);
    this.teardown(online ? 'was left for a new network' : 'was lost with the network');
    this.backoff = this.opts.minBackoffMs ?? 1000;
    if (!online) {
      this.setStatus({ state: 'offline', url: this.status.url, error: 'This device is offline.' });
      this.reconnectTimer = setTimeout(() => this.connect(), this.opts.maxBackoffMs ?? 30_000);
      return;
    }
    this.moved = true;
    this.connect();
  }

  get online(): boolean {
    return this.status.state === 'online';
  }

  /** Resolve once online, or reject after `timeoutMs`. */
  whenReady(timeoutMs = 5000): Promise<void> {
    if (this.online) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== done);
        reject(new SignalError('ERR_OFFLINE', this.status.error ?? 'The relay could not be reached.'));
      }, timeoutMs);
      const done = () => {
        clearTimeout(t);
        resolve();
      };
      this.readyWaiters.push(done);
    });
  }

  /** Current TURN credentials (fresh ones are requested before these expire). */
  get turn(): TurnCredentials | undefined {
    return this.turnCreds;
  }

  /**
   * Send an envelope to the person whose address tag is `to` (mailboxIdOf
   * her address), at her mailbox on our relay: 'sent' once the relay took it.
   * Protocol v2 relays never say 'unreachable' (no presence oracle): an
   * offline callee is the handshake timer's to find. While reconnecting (a
   * relay restart mid-call) the send waits up to `offlineGraceMs`.
   */
  async send(to: string, data: Uint8Array): Promise<'sent' | 'unreachable'> {
    if (!this.online) {
      if (this.stopped) throw new SignalError('ERR_OFFLINE', 'Not connected to the relay.');
      await this.whenReady(this.opts.offlineGraceMs ?? 8000);
    }
    const home = this.relayUrl;
    const env = parseEnvelope(data);
    const callId = toHex(env.callId);
    const hello = env.type === EnvelopeType.Hello;
    // Her relay: the one this call already uses (a HELLO's route, or where we sent it), her card's
    // (the first that takes the HELLO), else ours.
    const known = this.routes.get(callId);
    const theirs = known?.tag === to ? undefined : this.hints.get(to);
    const urls = known?.tag === to ? [known.url] : (theirs ?? [home]);
    const wrapped = await wrapDelivery(data, hello ? { route: { tag: this.myTag, url: home }, recipientTag: to } : {});
    const failed: string[] = [];
    for (const url of urls) {
      // Noted before sending: her answer may arrive before the relay's `sent`.
      this.routes.note(callId, { tag: to, url });
      try {
        if (url === home) return await this.sendNow(relayMailboxId(to, url), wrapped);
        await this.post.send(url, relayMailboxId(to, url), wrapped);
        return 'sent';
      } catch (e) {
        // Only a card's relays (a HELLO to a hinted person) have a next one to try, and are hers to blame.
        if (!theirs) throw e instanceof SignalError ? e : new SignalError('ERR_OFFLINE', e instanceof Error ? e.message : String(e));
        failed.push(`${url} (${e instanceof Error ? e.message : String(e)})`);
      }
    }
    throw new SignalError('ERR_PEER_RELAYS', `None of this person's relays could be reached: ${failed.join('; ')}.`);
  }

  private sendNow(to: string, data: Uint8Array): Promise<'sent' | 'unreachable'> {
    const ws = this.ws;
    if (!ws || !this.online) return Promise.reject(new SignalError('ERR_OFFLINE', 'Not connected to the relay.'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SignalError('ERR_TIMEOUT', 'The relay did not answer in time.'));
      }, this.opts.sendTimeoutMs ?? 10_000);
      this.pending.set(id, { resolve, reject, timer });
      this.write({ t: 'send', to, id, data: toB64(data) });
    });
  }

  private connect(): void {
    if (this.stopped) return;
    const urls = this.opts.urls;
    if (urls.length === 0) {
      this.setStatus({ state: 'offline', error: 'No relay is configured.' });
      return;
    }
    const url = urls[this.urlIndex % urls.length]!;
    this.setStatus({ state: 'connecting', url });
    let canonical: string;
    try {
      canonical = canonicalRelayUrl(url, { insecureAllowed: testInsecureRelayHost });
    } catch (e) {
      this.scheduleReconnect(e instanceof RelayUrlError ? e.message : `The relay address ${url} is not valid.`);
      return;
    }
    const Ws = this.opts.WebSocketImpl ?? WebSocket;
    let ws: WebSocket;
    try {
      ws = new Ws(url);
    } catch {
      this.scheduleReconnect(`The relay address ${url} is not valid.`);
      return;
    }
    this.ws = ws;
    this.relayUrl = canonical;
    this.answered = false;
    ws.onmessage = (ev) => this.onMessage(ws, ev.data);
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      // 1012: the node is draining; go to the next relay at once (no backoff) if we were settled on it.
      const draining = ev?.code === 1012 && this.online;
      this.teardown('closed');
      if (draining) this.moved = true;
      this.scheduleReconnect('The relay could not be reached.', draining ? 0 : undefined);
    };
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  private onMessage(ws: WebSocket, raw: unknown): void {
    if (ws !== this.ws) return;
    this.lastHeardAt = Date.now();
    const m = parseServerMessage(raw);
    if (!m) return; // the relay speaks a protocol we do not know: ignore the frame
    switch (m.t) {
      case 'challenge': {
        // Once per connection: a relay that sends a second challenge (even after `ready`) may be
        // forwarding another relay's, to log in there as us. Refuse it and leave.
        if (this.answered) {
          this.teardown('asked us to log in twice');
          this.scheduleReconnect('The relay asked us to log in a second time on one connection: refused.');
          return;
        }
        if (m.v !== SIGNAL_PROTOCOL_VERSION) {
          this.teardown('speaks another protocol');
          this.scheduleReconnect(`The relay speaks signalling protocol ${m.v}; this version of Hush speaks ${SIGNAL_PROTOCOL_VERSION}.`);
          return;
        }
        const challenge = fromB64(m.challenge);
        if (!challenge || challenge.length !== 32) return;
        this.answered = true;
        const proof = proveMailbox(this.opts.identity, challenge, this.relayUrl);
        this.write({ t: 'auth', mailbox: proof.mailbox, key: toB64(proof.key), sig: toB64(proof.signature) });
        return;
      }
      case 'ready':
        this.backoff = this.opts.minBackoffMs ?? 1000;
        this.setTurn(m.turn);
        this.setStatus({ state: 'online', url: this.status.url, mailbox: m.mailbox });
        this.startKeepalive();
        for (const w of this.readyWaiters.splice(0)) w();
        if (this.moved) {
          this.moved = false;
          this.opts.onMoved?.();
        }
        return;
      case 'deliver': {
        const data = fromB64(m.data);
        if (data) this.deliveries = this.deliveries.then(() => this.onDelivery(data));
        return;
      }
      case 'sent': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        clearTimeout(p.timer);
        p.resolve(m.t);
        return;
      }
      case 'turn':
        this.setTurn(m.turn);
        return;
      case 'pong':
        return;
      case 'error': {
        if (m.id !== undefined) {
          const p = this.pending.get(m.id);
          if (p) {
            this.pending.delete(m.id);
            clearTimeout(p.timer);
            p.reject(new SignalError('ERR_REFUSED', m.message || m.code));
          }
        }
        if (m.code === 'ERR_AUTH') this.status = { ...this.status, error: 'The relay refused our identity.' };
        return;
      }
      default: {
        const never: never = m;
        void never;
      }
    }
  }

  /** Unwrap one delivery and hand its envelope on with its sender's tag; anything else is dropped. */
  private async onDelivery(bytes: Uint8Array): Promise<void> {
    try {
      const d = unwrapDelivery(bytes);
      const callId = toHex(parseEnvelope(d.envelope).callId);
      let from: string | undefined;
      if (d.routeBox) {
        const route = await openRoute(this.myTag, d.envelope, d.routeBox);
        // Answers go to the caller's relay: only a relay URL the wss rule allows, in canonical form.
        if (canonicalRelayUrl(route.url, { insecureAllowed: testInsecureRelayHost }) !== route.url) return;
        this.routes.note(callId, route);
        from = route.tag;
      } else {
        from = this.routes.get(callId)?.tag;
      }
      if (from !== undefined) this.opts.onDeliver(from, d.envelope);
    } catch {
      /* not a delivery for us (malformed, or a route sealed to someone else): dropped */
    }
  }

  private setTurn(creds: TurnCredentials): void {
    const same = sameTurn(this.turnCreds, creds);
    this.turnCreds = creds;
    clearTimeout(this.turnTimer);
    // Renew at 4/5 of the TTL (at least TURN_RENEW_MIN_MS, at most a day away); a renewal that gets no
    // answer (an error, a lost reply) is asked again every TURN_RETRY_MS until new credentials arrive.
    const renewIn = Math.min(TURN_RENEW_MAX_MS, Math.max(TURN_RENEW_MIN_MS, creds.ttl * 1000 * TURN_RENEW_AT));
    const renew = (): void => {
      this.write({ t: 'turn' });
      this.turnTimer = setTimeout(renew, TURN_RETRY_MS);
    };
    this.turnTimer = setTimeout(renew, renewIn);
    // The same credentials again (an unasked `turn`, a relay answering twice) change nothing downstream.
    if (!same) this.opts.onTurn?.(creds);
  }

  private startKeepalive(): void {
    clearInterval(this.keepalive);
    let pingedAt = 0;
    this.keepalive = setInterval(() => {
      // Nothing heard since the last ping (a NAT that forgot us, a relay that died silently): reconnect.
      if (pingedAt && this.lastHeardAt < pingedAt) {
        this.teardown('went silent');
        this.scheduleReconnect('The relay stopped answering.');
        return;
      }
      pingedAt = Date.now();
      this.write({ t: 'ping' });
    }, this.opts.keepaliveMs ?? 20_000);
  }

  private write(m: ClientMessage): void {
    if (this.ws?.readyState === 1) this.ws.send(JSON.stringify(m));
  }

  private teardown(why: string): void {
    clearInterval(this.keepalive);
    clearTimeout(this.turnTimer);
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close();
      } catch {
        /* already closed */
      }
    }
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new SignalError('ERR_OFFLINE', `Connection to the relay ${why}.`));
      this.pending.delete(id);
    }
  }

  private scheduleReconnect(error: string, now?: 0): void {
    if (this.stopped) return;
    this.setStatus({ state: 'offline', url: this.status.url, error });
    this.urlIndex++;
    const delay = now ?? this.backoff;
    if (now === undefined) this.backoff = Math.min(this.backoff * 2, this.opts.maxBackoffMs ?? 30_000);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private setStatus(s: SignalStatus): void {
    this.status = s;
    this.opts.onStatus?.(s);
  }
}
