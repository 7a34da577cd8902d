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
 *
 * These are Node internals. Everything is feature-checked at startup; if any
 * piece is missing (another Node version), the public dgram API is used and
 * only speed changes. HUSH_RELAY_PUBLIC_DGRAM=1 forces the public API.
 */
import type dgram from 'node:dgram';
import { writeChannelDataHeader } from '../turn/channel-data';

interface UdpHandle {
  send(req: object, list: Uint8Array[], count: number, port: number, ip: string, hasCallback: boolean): number;
  /** On a connected socket: no address (libuv refuses one with EISCONN). */
  send(req: object, list: Uint8Array[], count: number, hasCallback: boolean): number;
  onmessage: (nread: number, handle: unknown, buf: Buffer, rinfo: dgram.RemoteInfo) => void;
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

function handleOf(sock: dgram.Socket): UdpHandle | undefined {
  const sym = Object.getOwnPropertySymbols(sock).find((s) => s.description === 'state symbol');
  const state = sym ? (sock as unknown as Record<symbol, { handle?: UdpHandle }>)[sym] : undefined;
  const h = state?.handle;
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

export class FastUdp {
  private readonly handle: UdpHandle | undefined;
  errors = 0;
  /** Sends libuv had to queue (socket buffer full): each cost a fresh request object. */
  queued = 0;

  /**
   * `sock` must already be bound. A `connected` socket sends only to its
   * peer: the address arguments of send() are then ignored.
   */
  constructor(
    private readonly sock: dgram.Socket,
    private readonly connected = false,
  ) {
    this.handle = SendWrap ? handleOf(sock) : undefined;
  }

  get fast(): boolean {
    return this.handle !== undefined;
  }

  /** Receive without EventEmitter; falls back to the 'message' event. */
  onMessage(fn: (msg: Buffer, rinfo: dgram.RemoteInfo) => void): void {
    const h = this.handle;
    if (!h) {
      this.sock.on('message', fn);
      return;
    }
    const sock = this.sock;
    h.onmessage = (nread, _handle, buf, rinfo) => {
      if (nread < 0) {
        this.errors++;
        sock.emit('error', new Error('recvmsg failed'));
        return;
      }
      fn(buf, rinfo);
    };
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
