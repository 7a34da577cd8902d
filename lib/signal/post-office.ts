/**
 * Deliveries to another relay (issue 15, "any two relays"): when the person
 * we call lives on a relay that is not ours, or a caller's HELLO came from
 * one, we deliver there without an account: a connection that never answers
 * the challenge, only sends (docs/relay-protocol.md §Version 2, posting
 * connections; relays may refuse them with `--deliveries members`).
 *
 * One connection per relay URL, opened on the first delivery and closed
 * after IDLE_MS without one (the relay closes a posting connection idle for
 * 60 s). The same wss rule as our own relay (relay-url.ts). Nothing is
 * proven here, so nothing here names us: the relay sees an IP and padded
 * deliveries for one of its mailboxes.
 */
import { toB64 } from './base64';
import { parseServerMessage } from './protocol';
import { SIGNAL_PROTOCOL_VERSION } from './wire';

type WsCtor = new (url: string) => WebSocket;

export const POST_IDLE_MS = 50_000;

interface Waiting {
  resolve: () => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

class PostConnection {
  private readonly ws: WebSocket;
  private readonly opened: Promise<void>;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private idle?: ReturnType<typeof setTimeout>;
  closed = false;

  constructor(
    readonly url: string,
    Ws: WsCtor,
    private readonly onGone: (c: PostConnection) => void,
    private readonly timeoutMs: number,
  ) {
    this.ws = new Ws(url);
    this.opened = new Promise((resolve, reject) => {
      this.ws.onopen = () => resolve();
      this.ws.onclose = () => {
        reject(new Error(`The relay ${url} could not be reached.`));
        this.gone(`The relay ${url} closed the connection.`);
      };
    });
    this.opened.catch(() => undefined);
    this.ws.onerror = () => undefined;
    this.ws.onmessage = (ev) => this.onMessage(ev.data);
    this.touch();
  }

  async send(mailbox: string, data: Uint8Array): Promise<void> {
    await this.opened;
    this.touch();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`The relay ${this.url} did not answer in time.`));
      }, this.timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ t: 'send', to: mailbox, id, data: toB64(data) }));
    });
  }

  close(): void {
    try {
      this.ws.close();
    } catch {
      /* already closed */
    }
    this.gone('closed');
  }

  private onMessage(raw: unknown): void {
    const m = parseServerMessage(raw);
    if (!m) return;
    if (m.t === 'challenge' && m.v !== SIGNAL_PROTOCOL_VERSION) {
      this.close();
      return;
    }
    if (m.t === 'sent' || (m.t === 'error' && m.id !== undefined)) {
      const w = this.waiting.get(m.id!);
      if (!w) return;
      this.waiting.delete(m.id!);
      clearTimeout(w.timer);
      if (m.t === 'sent') w.resolve();
      else w.reject(new Error(m.message || m.code));
    }
  }

  private touch(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.close(), POST_IDLE_MS);
  }

  private gone(why: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idle);
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      w.reject(new Error(why));
      this.waiting.delete(id);
    }
    this.onGone(this);
  }
}

export class PostOffice {
  private readonly conns = new Map<string, PostConnection>();

  constructor(private readonly opts: { WebSocketImpl?: WsCtor; timeoutMs?: number } = {}) {}

  /** Deliver `data` (a padded delivery) to `mailbox` on the relay at `url` (canonical, already checked). */
  async send(url: string, mailbox: string, data: Uint8Array): Promise<void> {
    let c = this.conns.get(url);
    if (!c || c.closed) {
      c = new PostConnection(url, this.opts.WebSocketImpl ?? WebSocket, (gone) => this.conns.get(url) === gone && this.conns.delete(url), this.opts.timeoutMs ?? 10_000);
      this.conns.set(url, c);
    }
    await c.send(mailbox, data);
  }

  closeAll(): void {
    for (const c of [...this.conns.values()]) c.close();
    this.conns.clear();
  }
}
