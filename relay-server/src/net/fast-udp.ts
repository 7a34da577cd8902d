/**
 * Hot-path UDP I/O for Node 20, measured in bench/relay.bench.ts.
 *
 * `dgram.Socket#send` costs, per datagram: argument normalisation, a lookup
 * indirection, an async-id scope, a closure, a fresh one-element array and a
 * fresh SendWrap object; `'message'` goes through EventEmitter. At tens of
 * thousands of datagrams per second that is a large share of the relay's
 * user time. This module talks to the socket's UDP handle the way dgram.js
 * itself does (handle.send(req, list, count, port, ip, hasCallback) and
 * handle.onmessage), but reuses one request object and one list:
 *
 *  - handle.send returns length+1 when the kernel took the datagram at once
 *    (uv_udp_try_send), 0 when libuv queued it, < 0 on error. Only in the
 *    queued case does the request object (and the buffers) stay referenced,
 *    so only then is it handed over and a new one made: reuse is safe. The
 *    request, the buffer lists and the ChannelData header scratch are shared
 *    by every socket of the thread (a send is synchronous up to that
 *    return), not kept per socket: a relay has one socket per allocation,
 *    and per-socket copies cost ~0.8 KB of heap each (a heap-snapshot diff:
 *    5.0 → 4.2 KB per allocation, issue 16).
 *  - a client's ChannelData goes to its peer without its 4-byte header, and
 *    a fresh view of the payload (`msg.subarray`) costs a typed-array
 *    object per datagram (Buffer's species lookup too: ~100 B of garbage and
 *    ~0.1 µs). sendSlice copies the message into a thread-wide scratch
 *    buffer instead and sends a view of it made once per payload length
 *    (up to 1 500 bytes), replaced with the scratch whenever
 *    libuv queues a send (it then owns those bytes).
 *  - errors (unroutable peer, EACCES) are counted and ignored: a failed send
 *    never touches the allocation.
 *  - receiving: one handle.onmessage function for every socket of the
 *    thread, which finds its FastUdp on the handle, and a receiver that may
 *    be shared too (onMessage's `owner` says for whom): a closure per
 *    socket, with the scopes it kept alive, cost ~0.5 KB per allocation
 *    (issue 16).
 *
 * These are Node internals. Everything is feature-checked at startup; if any
 * piece is missing (another Node version), the public dgram API is used and
 * only speed changes. HUSH_RELAY_PUBLIC_DGRAM=1 forces the public API.
 */
import dgram from 'node:dgram';
import { writeChannelDataHeader } from '../turn/channel-data';

interface UdpHandle {
  send(req: object, list: Uint8Array[], count: number, port: number, ip: string, hasCallback: boolean): number;
  /** On a connected socket: no address (libuv refuses one with EISCONN). */
  send(req: object, list: Uint8Array[], count: number, hasCallback: boolean): number;
  onmessage: (this: UdpHandle, nread: number, handle: unknown, buf: Buffer, rinfo: dgram.RemoteInfo) => void;
  [OWN]?: FastUdp<unknown>;
}

/** The FastUdp a UDP handle delivers to (set by onMessage). */
const OWN = Symbol('hush fast-udp');

/** What a FastUdp hands each datagram to, with the `owner` given to onMessage. */
export type Receiver<T> = (msg: Buffer, rinfo: dgram.RemoteInfo, owner: T) => void;

/** Every fast socket's handle.onmessage (dgram.js's own onMessage takes its socket from `this` the same way). */
function deliver(this: UdpHandle, nread: number, _handle: unknown, buf: Buffer, rinfo: dgram.RemoteInfo): void {
  const f = this[OWN];
  if (f === undefined) return;
  if (nread < 0) {
    f.errors++;
    f.sock.emit('error', new Error('recvmsg failed'));
    return;
  }
  f.receiver!(buf, rinfo, f.owner);
}

/**
 * Who reads sockets instead of libuv while the native forwarder runs
 * (native/forwarder.ts): set for the thread by the datapath, asked by each
 * relay socket as it is bound (relay-sockets.ts).
 */
export interface ReadTap {
  attach(f: FastUdp<unknown>, kind: 'listener' | 'relay', port: number): boolean;
}
let readTap: ReadTap | undefined;
export function setReadTap(t: ReadTap | undefined): void {
  readTap = t;
}

type SendWrapCtor = new () => { list?: Uint8Array[] };

const SendWrap: SendWrapCtor | undefined = (() => {
  if (process.env.HUSH_RELAY_PUBLIC_DGRAM === '1') return undefined;
  try {
    const b = (process as unknown as { binding(name: string): { SendWrap?: SendWrapCtor } }).binding('udp_wrap');
    return typeof b.SendWrap === 'function' ? b.SendWrap : undefined;
  } catch {
    return undefined;
  }
})();

/** Resolve IP literals synchronously: skips dns.lookup's nextTick on every send. */
export function literalLookup(address: string, family: unknown, cb: (err: Error | null, address: string, family: number) => void): void {
  cb(null, address, address.includes(':') ? 6 : 4);
}

/** What dgram.js's lookup4/lookup6, bound per handle, do with literalLookup: one function per family for every socket. */
function literal4(address: string, cb: (err: Error | null, address: string, family: number) => void): void {
  literalLookup(address || '127.0.0.1', 4, cb);
}
function literal6(address: string, cb: (err: Error | null, address: string, family: number) => void): void {
  literalLookup(address || '::1', 6, cb);
}

/**
 * A dgram socket for IP literals only (literalLookup). dgram gives each
 * socket's handle its own bound copy of the lookup (~72 bytes, issue 16);
 * here every socket of a family shares one, unless HUSH_RELAY_PUBLIC_DGRAM=1
 * or the handle is not where these internals put it.
 */
export function createLiteralSocket(options: Omit<dgram.SocketOptions, 'lookup'>): dgram.Socket {
  const sock = dgram.createSocket({ ...options, lookup: literalLookup as never });
  const h = process.env.HUSH_RELAY_PUBLIC_DGRAM === '1' ? undefined : (stateHandle(sock) as { lookup?: unknown } | undefined);
  if (h && typeof h.lookup === 'function') h.lookup = options.type === 'udp6' ? literal6 : literal4;
  return sock;
}

/** The socket's UDP handle, where dgram.js keeps it (its state symbol); not checked. */
function stateHandle(sock: dgram.Socket): object | undefined {
  const sym = Object.getOwnPropertySymbols(sock).find((s) => s.description === 'state symbol');
  const state = sym ? (sock as unknown as Record<symbol, { handle?: object }>)[sym] : undefined;
  return state?.handle;
}

/** The handle of a bound socket, if it has what FastUdp uses. */
function handleOf(sock: dgram.Socket): UdpHandle | undefined {
  const h = stateHandle(sock) as UdpHandle | undefined;
  return h && typeof h.send === 'function' && typeof h.onmessage === 'function' ? h : undefined;
}

/** The thread's send request; replaced whenever libuv queues a send (it then owns this one). */
let req: { list?: Uint8Array[] } | undefined = SendWrap ? new SendWrap() : undefined;
const one: Uint8Array[] = [new Uint8Array(0)];
const two: Uint8Array[] = [new Uint8Array(0), new Uint8Array(0)];
/** 4-byte scratch for ChannelData headers; replaced whenever a send is queued. */
let header = Buffer.allocUnsafe(4);
/** Scratch a message is copied into by sendSlice, and its views by [start][length]; replaced whenever a send is queued. */
let slice = new Uint8Array(2048);
/** Views are kept for payloads up to a path MTU's (≤ 1 500 views, ~150 KB per thread at worst); longer ones get a fresh view. */
const SLICE_VIEW_MAX = 1500;
let sliceViews: Array<Array<Uint8Array | undefined> | undefined> = [];

function renewSlice(size: number): void {
  slice = new Uint8Array(Math.max(size, 2048));
  sliceViews = [];
}

export class FastUdp<T = undefined> {
  private readonly handle: UdpHandle | undefined;
  errors = 0;
  /** Sends libuv had to queue (socket buffer full): each cost a fresh request object. */
  queued = 0;
  /** Set by onMessage. */
  receiver: Receiver<T> | undefined = undefined;
  owner!: T;

  /**
   * `sock` must already be bound. A `connected` socket sends only to its
   * peer: the address arguments of send() are then ignored.
   */
  constructor(
    readonly sock: dgram.Socket,
    private readonly connected = false,
  ) {
    this.handle = SendWrap ? handleOf(sock) : undefined;
  }

  get fast(): boolean {
    return this.handle !== undefined;
  }

  /**
   * Receive without EventEmitter (falls back to the 'message' event):
   * `fn(msg, rinfo, owner)`. Give every socket the same `fn` and tell them
   * apart by `owner`: nothing is then kept per socket but the owner.
   */
  onMessage(fn: Receiver<T>, owner?: T): void {
    this.receiver = fn;
    this.owner = owner as T;
    const h = this.handle;
    if (!h) {
      this.sock.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => fn(msg, rinfo, this.owner));
      return;
    }
    h[OWN] = this as FastUdp<unknown>;
    h.onmessage = deliver;
  }

  /** The socket's file descriptor, where the handle shows it (fast path only). */
  get fd(): number | undefined {
    const fd = (this.handle as { fd?: unknown } | undefined)?.fd;
    return typeof fd === 'number' && fd >= 0 ? fd : undefined;
  }

  /** libuv stops reading the socket (sends still work): someone else reads it (native/forwarder.ts). */
  stopReading(): boolean {
    const h = this.handle as { recvStop?: () => number } | undefined;
    return typeof h?.recvStop === 'function' && h.recvStop() === 0;
  }

  /** libuv reads the socket again (the native forwarder stopped). */
  resumeReading(): boolean {
    const h = this.handle as { recvStart?: () => number } | undefined;
    return typeof h?.recvStart === 'function' && h.recvStart() === 0;
  }

  /** Hands this socket's reads to the thread's ReadTap, if one is set; true if it took them. */
  tapReads(kind: 'listener' | 'relay', port: number): boolean {
    return readTap !== undefined && this.handle !== undefined && readTap.attach(this as FastUdp<unknown>, kind, port);
  }

  send(buf: Uint8Array, port: number, address: string): void {
    const h = this.handle;
    if (h === undefined) {
      if (this.connected) this.sock.send(buf);
      else this.sock.send(buf, port, address);
      return;
    }
    const list = one;
    list[0] = buf;
    const r = this.connected ? h.send(req!, list, 1, false) : h.send(req!, list, 1, port, address, false);
    if (r <= 0) this.settle(r, [buf]);
  }

  /**
   * Send `msg[start, start + length)` without making a view of `msg` (see
   * above): for the payload of a client's ChannelData. `msg` is not kept.
   */
  sendSlice(msg: Uint8Array, start: number, length: number, port: number, address: string): void {
    const h = this.handle;
    if (h === undefined) {
      this.send(msg.subarray(start, start + length), port, address);
      return;
    }
    if (msg.length > slice.length) renewSlice(msg.length);
    slice.set(msg);
    const byStart = (sliceViews[start] ??= []);
    const view = length <= SLICE_VIEW_MAX ? (byStart[length] ??= new Uint8Array(slice.buffer, start, length)) : new Uint8Array(slice.buffer, start, length);
    const list = one;
    list[0] = view;
    const r = this.connected ? h.send(req!, list, 1, false) : h.send(req!, list, 1, port, address, false);
    if (r <= 0) {
      this.settle(r, [view]);
      if (r === 0) renewSlice(slice.length);
    }
  }

  /** ChannelData: 4-byte header (channel, length) then `payload`, gathered in one datagram. */
  sendChannelData(channel: number, payload: Uint8Array, port: number, address: string): void {
    const hdr = header;
    writeChannelDataHeader(hdr, channel, payload.length);
    const h = this.handle;
    if (h === undefined) {
      if (this.connected) this.sock.send([Buffer.from(hdr), payload]);
      else this.sock.send([Buffer.from(hdr), payload], port, address);
      return;
    }
    const list = two;
    list[0] = hdr;
    list[1] = payload;
    const r = this.connected ? h.send(req!, list, 2, false) : h.send(req!, list, 2, port, address, false);
    if (r <= 0) {
      this.settle(r, [hdr, payload]);
      if (r === 0) header = Buffer.allocUnsafe(4);
    }
  }

  private settle(r: number, bufs: Uint8Array[]): void {
    if (r === 0) {
      // Queued by libuv: this request and these buffers now belong to it.
      this.queued++;
      req!.list = bufs;
      req = new SendWrap!();
    } else {
      this.errors++;
    }
  }
}
