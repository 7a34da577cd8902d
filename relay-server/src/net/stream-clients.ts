/**
 * TURN clients over TCP and TLS (RFC 8656 §3.1, §12.5): one StreamFramer
 * per connection splits the byte stream into STUN messages and ChannelData;
 * ChannelData is relayed to the peer at once (hot path: one lookup, one
 * send), everything else goes to the core. A connection that closes takes
 * its allocation with it. Media to a client whose socket has more than
 * STREAM_HIGH_WATER queued is dropped, never buffered without bound.
 */
import type net from 'node:net';
import { CHANNEL_DATA_HEADER_LEN } from '../stun/constants';
import type { TurnAction } from '../turn/actions';
import type { ClientTuple } from '../turn/allocation';
import type { TurnCore } from '../turn/core';
import { StreamFramer } from '../turn/stream-framer';
import type { RelayIO } from './relay-sockets';

/** Per-stream bytes queued before media to that client is dropped (not buffered). */
const STREAM_HIGH_WATER = 256 * 1024;
const STREAM_IDLE_MS = 120_000;
/** TCP/TLS client connections at once, over all listeners. */
export const MAX_STREAMS = 8192;

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
  private readonly streams = new Map<number, net.Socket>();
  private nextConn = 1;

  constructor(
    private readonly host: StreamHost,
    private readonly maxMessage: number,
  ) {}

  get size(): number {
    return this.streams.size;
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
    this.streams.set(conn, s);
    const tuple: ClientTuple = { transport, listener, conn, family: s.remoteFamily === 'IPv6' ? 6 : 4, address, port };
    const framer = new StreamFramer(this.maxMessage);
    const host = this.host;
    const core = host.core;
    const sink = (frame: Uint8Array, isChannel: boolean): void => {
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
    s.setTimeout(STREAM_IDLE_MS, () => s.destroy());
    s.on('data', (chunk: Buffer) => {
      if (!framer.push(chunk, sink)) {
        this.dropped++;
        s.destroy();
      }
    });
    s.on('close', () => {
      this.streams.delete(conn);
      host.guard(() => host.run(core.connectionClosed(conn)));
    });
  }

  /** Bytes to the client on connection `conn`, unless it is gone or too far behind. */
  send(conn: number, bytes: Uint8Array): void {
    const s = this.streams.get(conn);
    if (!s || s.destroyed) return;
    if (s.writableLength > STREAM_HIGH_WATER) {
      this.dropped++;
      return;
    }
    s.write(bytes);
  }

  destroyAll(): void {
    for (const s of this.streams.values()) s.destroy();
  }
}
