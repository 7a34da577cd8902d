/**
 * A test client for the relay's signalling WebSocket (docs/relay-protocol.md):
 * connects, answers the challenge with a real mailbox proof
 * (lib/crypto/mailbox-auth), and lets a test await messages and the close.
 */
import WebSocket from 'ws';
import { proveMailbox } from '../../lib/crypto/mailbox-auth';
import { canonicalForm } from '../../lib/signal/relay-url';
import type { Identity } from '../../lib/crypto/identity';

/** The v2 auth frame of a proof (lib/crypto/mailbox-auth.ts). */
export function authFrame(p: { mailbox: string; key: Uint8Array; signature: Uint8Array }): { t: 'auth'; mailbox: string; key: string; sig: string } {
  return { t: 'auth', mailbox: p.mailbox, key: Buffer.from(p.key).toString('base64'), sig: Buffer.from(p.signature).toString('base64') };
}

export type Frame = Record<string, unknown> & { t: string };

export class SignalTestClient {
  readonly frames: Frame[] = [];
  private waiters: Array<{ pred: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  challenge!: Frame;

  /** The canonical URL this client dialled (what its proofs sign). */
  url = '';

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const f = JSON.parse(d.toString()) as Frame;
      this.frames.push(f);
      for (const w of [...this.waiters]) {
        if (w.pred(f)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(f);
        }
      }
    });
    this.closed = new Promise((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
  }

  /** `options` go to the ws client (e.g. `{ ca }` to trust a test certificate for wss). */
  static async connect(url: string, options?: WebSocket.ClientOptions): Promise<SignalTestClient> {
    const ws = new WebSocket(url, options);
    ws.on('error', () => undefined);
    const c = new SignalTestClient(ws);
    c.url = canonicalForm(url);
    const first = c.next((f) => f.t === 'challenge');
    await new Promise<void>((ok, fail) => {
      ws.once('open', () => ok());
      ws.once('error', fail);
    });
    c.challenge = await first;
    return c;
  }

  /** The next frame matching `pred` (already received ones count). */
  next(pred: (f: Frame) => boolean = () => true, timeoutMs = 10_000): Promise<Frame> {
    const seen = this.frames.find(pred);
    if (seen) {
      this.frames.splice(this.frames.indexOf(seen), 1);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (f) => {
          clearTimeout(t);
          this.frames.splice(this.frames.indexOf(f), 1);
          resolve(f);
        },
      });
    });
  }

  send(obj: unknown): void {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  /** Log in with `id`'s key for `url` (default: the URL dialled; another one makes a proof this relay must refuse). */
  async auth(id: Identity, url = this.url): Promise<Frame> {
    const challenge = Buffer.from(this.challenge.challenge as string, 'base64');
    this.send(authFrame(proveMailbox(id, challenge, url)));
    return this.next((f) => f.t === 'ready' || f.t === 'error');
  }

  close(): void {
    this.ws.close();
  }
}
