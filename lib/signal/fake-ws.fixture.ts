/**
 * A WebSocket stand-in for SignalClient's unit tests (client-*.test.ts): it
 * greets with the relay's challenge, records what the client sends, and lets
 * the test play the relay (`ready`, `deliver`) or the network (`drop`).
 * Pass the class itself as `WebSocketImpl`; `FakeWs.all` lists every socket
 * made, newest last (reset it in `beforeEach`).
 */
export class FakeWs {
  static all: FakeWs[] = [];
  /** Answer each `ping` with a `pong`, as a live relay does. */
  static answerPings = false;
  readyState = 1;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  /** What the client sent, as sent and parsed. */
  raw: string[] = [];
  sent: Array<{ t: string }> = [];

  constructor(readonly url: string) {
    FakeWs.all.push(this);
    queueMicrotask(() => this.deliver({ t: 'challenge', v: 2, challenge: Buffer.alloc(32, 1).toString('base64') }));
  }

  send(s: string): void {
    this.raw.push(s);
    const m = JSON.parse(s) as { t: string };
    this.sent.push(m);
    if (FakeWs.answerPings && m.t === 'ping') queueMicrotask(() => this.deliver({ t: 'pong' }));
  }

  close(): void {
    this.readyState = 3;
    this.closed = true;
  }

  /** The relay's message `m` arrives. */
  deliver(m: object): void {
    this.onmessage?.({ data: JSON.stringify(m) });
  }

  /** The relay accepted the challenge's answer: a mailbox and TURN credentials. */
  ready(): void {
    this.deliver({ t: 'ready', mailbox: 'a'.repeat(32), turn: { username: '1:x', credential: 'c', ttl: 3600, urls: [] } });
  }

  /** The connection ends with close code `code` (1006: the network; 1012: the relay drains). */
  drop(code: number): void {
    this.readyState = 3;
    this.onclose?.({ code });
  }

  /** TURN credentials the client asked for on this socket. */
  asked(): number {
    return this.sent.filter((m) => m.t === 'turn').length;
  }

  static reset(): void {
    FakeWs.all = [];
    FakeWs.answerPings = false;
  }
}
