/**
 * TURN clients over TCP and TLS (RFC 8656 §3.1, §12.5): one StreamFramer
 * per connection splits the byte stream into STUN messages and ChannelData;
 * ChannelData is relayed to the peer at once (hot path: one lookup, one
 * send), everything else goes to the core. A connection that closes takes
 * its allocation with it. Media to a client whose socket has more than
 * STREAM_HIGH_WATER queued is dropped, never buffered without bound.
 *
 * Slow connections (issue 22: 8,192 streams each trickling a byte every
 * 50 s held every stream slot): only a *complete* message counts as
 * progress. A connection must finish its first message within
 * FIRST_MESSAGE_MS, every message it starts within MESSAGE_MS, and send a
 * complete message at least every STREAM_IDLE_MS; bytes alone renew none of
 * these (`sweep`, called every second by the shell). Every accepted socket,
 * TLS ones before their handshake too (`admit`), counts against MAX_STREAMS
 * and MAX_STREAMS_PER_SOURCE (source-key.ts: IPv6 by prefix) and is closed
 * at once over either.
 */
import type net from 'node:net';
import { CHANNEL_DATA_HEADER_LEN } from '../stun/constants';
import type { TurnAction } from '../turn/actions';
import type { ClientTuple } from '../turn/allocation';
import type { TurnCore } from '../turn/core';
import { StreamFramer } from '../turn/stream-framer';
import { sourceKey } from '../source-key';
import type { RelayIO } from './relay-sockets';
import type { QueuedReader } from './send-budget';

/** Per-stream bytes queued before media to that client is dropped (not buffered). */
const STREAM_HIGH_WATER = 256 * 1024;
/** No complete message for this long: closed (only complete messages renew it). */
export const STREAM_IDLE_MS = 120_000;
/** A new connection must deliver its first complete message within this. */
export const FIRST_MESSAGE_MS = 10_000;
/** A message once started (a partial frame buffered) must be complete within this. */
export const MESSAGE_MS = 10_000;
/** TCP/TLS client connections at once, over all listeners (TLS handshakes included). */
export const MAX_STREAMS = 8192;
/** TCP/TLS client connections at once from one source (an IPv4 address, an IPv6 /64). */
export const MAX_STREAMS_PER_SOURCE = 256;

/** Progress of one connection: times in ms. */
interface Progress {
  socket: net.Socket;
  framer: StreamFramer;
  opened: number;
  /** Last complete message, or undefined before the first. */
  lastMessage: number | undefined;
  /** When the partial message now buffered started arriving. */
  partialSince: number | undefined;
}

/** What the stream clients need of their shell (turn-shell.ts). */
export interface StreamHost {
  readonly core: TurnCore<RelayIO>;
  run(actions: TurnAction<RelayIO>[]): void;
  guard(fn: () => void): void;
}

export class StreamClients {
  relayedDatagrams = 0;
  relayedBytes = 0;
  dropped = 0;
  /** Connections closed by the deadlines of `sweep`, or refused by the limits of `admit`. */
  timedOut = 0;
  refused = 0;
  private readonly streams = new Map<number, Progress>();
  private readonly perSource = new Map<string, number>();
  private open = 0;
  private nextConn = 1;

  constructor(
    private readonly host: StreamHost,
    private readonly maxMessage: number,
    private readonly prefix6?: number,
  ) {}

  get size(): number {
    return this.streams.size;
  }

  /**
   * A socket just accepted by a TCP or TLS server (before any handshake):
   * counted until it closes; destroyed at once, and false, over the total or
   * per-source limit.
   */
  admit(raw: net.Socket): boolean {
    const address = raw.remoteAddress;
    if (!address) {
      raw.destroy();
      return false;
    }
    const key = sourceKey(address, this.prefix6);
    const n = this.perSource.get(key) ?? 0;
    if (this.open >= MAX_STREAMS || n >= MAX_STREAMS_PER_SOURCE) {
      this.refused++;
      raw.destroy();
      return false;
    }
    this.open++;
    this.perSource.set(key, n + 1);
    raw.once('close', () => {
      this.open--;
      const m = (this.perSource.get(key) ?? 1) - 1;
      if (m > 0) this.perSource.set(key, m);
      else this.perSource.delete(key);
    });
    return true;
  }

  /** Close every connection past a deadline (called every second). */
  sweep(now: number): void {
    for (const p of this.streams.values()) {
      const late =
        (p.lastMessage === undefined && now - p.opened > FIRST_MESSAGE_MS) ||
        (p.partialSince !== undefined && now - p.partialSince > MESSAGE_MS) ||
        now - (p.lastMessage ?? p.opened) > STREAM_IDLE_MS;
      if (late) {
        this.timedOut++;
        p.socket.destroy();
      }
    }
  }

  /** A new client connection on `listener`; `stunOnly` (the alternate port) answers Binding only. */
  accept(s: net.Socket, transport: 'tcp' | 'tls', listener: number, stunOnly: boolean): void {
    s.on('error', () => this.dropped++);
    const address = s.remoteAddress;
    const port = s.remotePort;
    if (!address || port === undefined || this.streams.size >= MAX_STREAMS) {
      s.destroy();
      return;
    }
    const conn = this.nextConn++;
    const framer = new StreamFramer(this.maxMessage);
    const progress: Progress = { socket: s, framer, opened: Date.now(), lastMessage: undefined, partialSince: undefined };
    this.streams.set(conn, progress);
    const tuple: ClientTuple = { transport, listener, conn, family: s.remoteFamily === 'IPv6' ? 6 : 4, address, port };
    const host = this.host;
    const core = host.core;
    let complete = 0;
    const sink = (frame: Uint8Array, isChannel: boolean): void => {
      complete++;
      if (isChannel) {
        if (stunOnly) return;
        const ch = core.channelFromStreamClient(conn, (frame[0]! << 8) | frame[1]!, Date.now());
        const out = ch?.allocation.io?.out;
        if (ch === undefined || out === undefined) {
          this.dropped++;
          return;
        }
        out.send(frame.subarray(CHANNEL_DATA_HEADER_LEN), ch.peerPort, ch.peerAddress);
        this.relayedDatagrams++;
        this.relayedBytes += frame.length - CHANNEL_DATA_HEADER_LEN;
        return;
      }
      host.guard(() => host.run(core.handleMessage(tuple, frame, Date.now(), stunOnly)));
    };
    s.setNoDelay(true);
    s.on('data', (chunk: Buffer) => {
      complete = 0;
      if (!framer.push(chunk, sink)) {
        this.dropped++;
        s.destroy();
        return;
      }
      // Only complete messages are progress; a partial one has MESSAGE_MS from its first byte.
      const now = Date.now();
      if (complete > 0) progress.lastMessage = now;
      if (framer.buffered === 0) progress.partialSince = undefined;
      else if (complete > 0 || progress.partialSince === undefined) progress.partialSince = now;
    });
    s.on('close', () => {
      this.streams.delete(conn);
      host.guard(() => host.run(core.connectionClosed(conn)));
    });
  }

  /** Bytes queued to each connection, for the global send budget (send-budget.ts). */
  *readers(): IterableIterator<QueuedReader> {
    for (const p of this.streams.values()) {
      const s = p.socket;
      yield { buffered: s.writableLength, close: () => s.destroy() };
    }
  }

  /** Bytes to the client on connection `conn`, unless it is gone or too far behind. */
  send(conn: number, bytes: Uint8Array): void {
    const s = this.streams.get(conn)?.socket;
    if (!s || s.destroyed) return;
    if (s.writableLength > STREAM_HIGH_WATER) {
      this.dropped++;
      return;
    }
    s.write(bytes);
  }

  destroyAll(): void {
    for (const p of this.streams.values()) p.socket.destroy();
  }
}
