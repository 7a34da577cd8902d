/**
 * A small TURN client over UDP for tests and the bench, built on the
 * relay's own STUN codec. It is not the outside truth (coturn's uclient and
 * Chromium are); it exists to drive the cases those clients never send:
 * unauthenticated requests, denied peers, quotas, malformed packets.
 */
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { Attr, Class, Method } from '../../relay-server/src/stun/constants';
import { decodeErrorCode } from '../../relay-server/src/stun/error-code';
import { fingerprintOf } from '../../relay-server/src/stun/fingerprint';
import { integrityWith, longTermKey } from '../../relay-server/src/stun/integrity';
import { StunWriter, attrValue, decodeStun, getAttr, type StunMessage } from '../../relay-server/src/stun/message';
import { utf8 } from '../../relay-server/src/stun/text-attrs';
import { decodeXorAddress, encodeXorAddress, type TransportAddress } from '../../relay-server/src/stun/xor-address';
import { turnPassword } from '../../relay-server/src/turn/credentials';
import { encodeChannelData, isChannelData } from '../../relay-server/src/turn/channel-data';

export interface Answer {
  msg: StunMessage;
  cls: number;
  code?: number;
}

export class TurnTestClient {
  readonly socket = dgram.createSocket('udp4');
  private waiters = new Map<string, (a: Answer) => void>();
  private nonce: string | undefined;
  private realm: string | undefined;
  private key: Uint8Array | undefined;
  readonly received: Array<{ channel?: number; data: Buffer; peer?: TransportAddress }> = [];
  onData: ((data: Buffer) => void) | undefined;

  constructor(
    readonly server: { host: string; port: number },
    readonly username: string,
    readonly password: string,
  ) {
    this.socket.on('message', (m) => this.onMessage(m));
  }

  static withSecret(server: { host: string; port: number }, secret: string, id = randomBytes(6).toString('hex'), ttlSec = 3600): TurnTestClient {
    const username = `${Math.floor(Date.now() / 1000) + ttlSec}:${id}`;
    return new TurnTestClient(server, username, turnPassword(secret, username));
  }

  /** Bind the client's socket; `address` another loopback address (127.0.0.2) makes another source; `port` 0 is any free one. */
  async open(address = '127.0.0.1', port = 0): Promise<number> {
    await new Promise<void>((r, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(port, address, () => {
        this.socket.off('error', reject);
        r();
      });
    });
    return this.socket.address().port;
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // closed
    }
  }

  private onMessage(m: Buffer): void {
    if (isChannelData(m)) {
      const len = m.readUInt16BE(2);
      const data = m.subarray(4, 4 + len);
      this.received.push({ channel: m.readUInt16BE(0), data });
      this.onData?.(data);
      return;
    }
    const d = decodeStun(m);
    if (!d.ok) return;
    const msg = d.value;
    if (msg.cls === Class.Indication && msg.method === Method.Data) {
      const pa = getAttr(msg, Attr.XorPeerAddress);
      const da = getAttr(msg, Attr.Data);
      if (pa && da) {
        const peer = decodeXorAddress(attrValue(msg, pa), msg.transactionId);
        const data = Buffer.from(attrValue(msg, da));
        this.received.push({ data, peer: peer.ok ? peer.value : undefined });
        this.onData?.(data);
      }
      return;
    }
    const tid = Buffer.from(msg.transactionId).toString('hex');
    const w = this.waiters.get(tid);
    if (!w) return;
    this.waiters.delete(tid);
    const ec = getAttr(msg, Attr.ErrorCode);
    w({ msg, cls: msg.cls, code: ec ? decodeErrorCode(attrValue(msg, ec))?.code : undefined });
  }

  /** Send raw bytes to the server. */
  raw(bytes: Uint8Array): void {
    this.socket.send(bytes, this.server.port, this.server.host);
  }

  /** One request; `auth` adds USERNAME/REALM/NONCE/MESSAGE-INTEGRITY once a challenge was seen. */
  async request(method: number, attrs: Array<[number, Uint8Array]>, auth = true, timeoutMs = 4000): Promise<Answer | undefined> {
    const tid = randomBytes(12);
    const w = new StunWriter(method, Class.Request, tid);
    for (const [t, v] of attrs) w.add(t, v);
    if (auth && this.nonce && this.realm) {
      w.add(Attr.Username, utf8(this.username));
      w.add(Attr.Realm, utf8(this.realm));
      w.add(Attr.Nonce, utf8(this.nonce));
    }
    const bytes = w.finish({ integrity: auth && this.key ? integrityWith(this.key) : undefined, fingerprint: fingerprintOf });
    const p = this.answerTo(tid, timeoutMs);
    this.retransmit(bytes, p);
    return p;
  }

  /** The answer to transaction `tid`, or undefined after `timeoutMs`. */
  private answerTo(tid: Buffer, timeoutMs: number): Promise<Answer | undefined> {
    return new Promise<Answer | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(tid.toString('hex'));
        resolve(undefined);
      }, timeoutMs);
      this.waiters.set(tid.toString('hex'), (a) => {
        clearTimeout(timer);
        resolve(a);
      });
    });
  }

  /** Send now and again every 500 ms until answered (RFC 8489 §6.2.1, simplified). */
  private retransmit(bytes: Uint8Array, answered: Promise<unknown>, port = this.server.port): void {
    let done = false;
    void answered.then(() => (done = true));
    const send = () => this.socket.send(bytes, port, this.server.host);
    send();
    const timer = setInterval(() => (done ? clearInterval(timer) : send()), 500);
    timer.unref();
  }

  /** Request with the long-term credential dance: on 401/438 take REALM/NONCE and retry once. */
  async authed(method: number, attrs: Array<[number, Uint8Array]>): Promise<Answer | undefined> {
    let a = await this.request(method, attrs, true);
    if (a && (a.code === 401 || a.code === 438)) {
      const r = getAttr(a.msg, Attr.Realm);
      const n = getAttr(a.msg, Attr.Nonce);
      if (!r || !n) return a;
      this.realm = Buffer.from(attrValue(a.msg, r)).toString();
      this.nonce = Buffer.from(attrValue(a.msg, n)).toString();
      this.key = longTermKey(this.username, this.realm, this.password);
      a = await this.request(method, attrs, true);
    }
    return a;
  }

  async allocate(): Promise<TransportAddress> {
    const a = await this.authed(Method.Allocate, [[Attr.RequestedTransport, new Uint8Array([17, 0, 0, 0])]]);
    if (!a || a.cls !== Class.Success) throw new Error(`allocate failed: ${a?.code ?? 'timeout'}`);
    const x = getAttr(a.msg, Attr.XorRelayedAddress)!;
    const r = decodeXorAddress(attrValue(a.msg, x), a.msg.transactionId);
    if (!r.ok) throw new Error('bad relayed address');
    return r.value;
  }

  async createPermission(peer: TransportAddress): Promise<Answer | undefined> {
    return this.withPeer(Method.CreatePermission, peer, []);
  }

  async channelBind(peer: TransportAddress, channel: number): Promise<Answer | undefined> {
    return this.withPeer(Method.ChannelBind, peer, [[Attr.ChannelNumber, new Uint8Array([channel >> 8, channel & 0xff, 0, 0])]]);
  }

  /** Requests whose XOR-PEER-ADDRESS must be XORed with their own transaction id. */
  private async withPeer(method: number, peer: TransportAddress, extra: Array<[number, Uint8Array]>): Promise<Answer | undefined> {
    const build = () => {
      const tid = randomBytes(12);
      return { tid, attrs: [[Attr.XorPeerAddress, encodeXorAddress(peer, tid)] as [number, Uint8Array], ...extra] };
    };
    for (let i = 0; i < 2; i++) {
      const { tid, attrs } = build();
      const a = await this.requestWithTid(method, attrs, tid);
      if (a && (a.code === 401 || a.code === 438) && i === 0) {
        const r = getAttr(a.msg, Attr.Realm);
        const n = getAttr(a.msg, Attr.Nonce);
        if (r && n) {
          this.realm = Buffer.from(attrValue(a.msg, r)).toString();
          this.nonce = Buffer.from(attrValue(a.msg, n)).toString();
          this.key = longTermKey(this.username, this.realm, this.password);
          continue;
        }
      }
      return a;
    }
    return undefined;
  }

  private async requestWithTid(method: number, attrs: Array<[number, Uint8Array]>, tid: Buffer, timeoutMs = 4000): Promise<Answer | undefined> {
    const w = new StunWriter(method, Class.Request, tid);
    for (const [t, v] of attrs) w.add(t, v);
    if (this.nonce && this.realm) {
      w.add(Attr.Username, utf8(this.username));
      w.add(Attr.Realm, utf8(this.realm));
      w.add(Attr.Nonce, utf8(this.nonce));
    }
    const bytes = w.finish({ integrity: this.key ? integrityWith(this.key) : undefined, fingerprint: fingerprintOf });
    const p = this.answerTo(tid, timeoutMs);
    this.retransmit(bytes, p);
    return p;
  }

  /** An authenticated request (after a challenge was seen), then the very same bytes again once answered: a retransmission (each sent every 500 ms until answered). */
  async requestTwice(method: number, attrs: Array<[number, Uint8Array]>): Promise<[Answer | undefined, Answer | undefined]> {
    const tid = randomBytes(12);
    const w = new StunWriter(method, Class.Request, tid);
    for (const [t, v] of attrs) w.add(t, v);
    w.add(Attr.Username, utf8(this.username));
    w.add(Attr.Realm, utf8(this.realm ?? ''));
    w.add(Attr.Nonce, utf8(this.nonce ?? ''));
    const bytes = w.finish({ integrity: this.key ? integrityWith(this.key) : undefined, fingerprint: fingerprintOf });
    const first = this.answerTo(tid, 4000);
    this.retransmit(bytes, first);
    const a = await first;
    // Sent again as a client does until answered: one copy can be lost as any datagram can (seen:
    // one that reached a TURN thread's connected socket as the delete closed it; the next one went
    // to the main thread and was answered).
    const second = this.answerTo(tid, 4000);
    this.retransmit(bytes, second);
    return [a, await second];
  }

  sendChannel(channel: number, data: Uint8Array): void {
    this.raw(encodeChannelData(channel, data));
  }

  sendIndication(peer: TransportAddress, data: Uint8Array): void {
    const tid = randomBytes(12);
    const w = new StunWriter(Method.Send, Class.Indication, tid);
    w.add(Attr.XorPeerAddress, encodeXorAddress(peer, tid));
    w.add(Attr.Data, data);
    this.raw(w.finish({ fingerprint: fingerprintOf }));
  }

  async refresh(lifetime: number): Promise<Answer | undefined> {
    return this.authed(Method.Refresh, [[Attr.Lifetime, new Uint8Array([lifetime >>> 24, (lifetime >>> 16) & 255, (lifetime >>> 8) & 255, lifetime & 255])]]);
  }

  async binding(port = this.server.port): Promise<TransportAddress | undefined> {
    const tid = randomBytes(12);
    const bytes = new StunWriter(Method.Binding, Class.Request, tid).finish({ fingerprint: fingerprintOf });
    const p = new Promise<Answer | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 2000);
      this.waiters.set(tid.toString('hex'), (a) => {
        clearTimeout(timer);
        resolve(a);
      });
    });
    this.retransmit(bytes, p, port);
    const a = await p;
    if (!a) return undefined;
    const x = getAttr(a.msg, Attr.XorMappedAddress);
    if (!x) return undefined;
    const r = decodeXorAddress(attrValue(a.msg, x), a.msg.transactionId);
    return r.ok ? r.value : undefined;
  }
}
