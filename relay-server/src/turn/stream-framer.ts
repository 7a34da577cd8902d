/**
 * Splits a TCP/TLS byte stream into STUN messages and ChannelData messages
 * (RFC 8656 §10.1, §12.5): they follow each other back to back; the first
 * two bits say which (0b00 STUN: 20 + length bytes; 0b01 ChannelData:
 * 4 + length bytes, padded to a multiple of 4 on streams). Anything else is
 * garbage and the caller closes the connection. Buffered bytes are bounded
 * by the largest message allowed, so a slow or hostile sender cannot grow
 * memory. Pure: bytes in, frames out.
 */
import { CHANNEL_DATA_HEADER_LEN, HEADER_LEN } from '../stun/constants';

export type FrameSink = (frame: Uint8Array, isChannelData: boolean) => void;

export class StreamFramer {
  private pending: Uint8Array | undefined;

  constructor(private readonly maxMessage: number) {}

  /** Feed bytes; emits whole frames in order. Returns false on garbage (close the stream). */
  push(chunk: Uint8Array, sink: FrameSink): boolean {
    let buf = chunk;
    if (this.pending) {
      const joined = new Uint8Array(this.pending.length + chunk.length);
      joined.set(this.pending);
      joined.set(chunk, this.pending.length);
      buf = joined;
      this.pending = undefined;
    }
    let at = 0;
    while (buf.length - at >= 4) {
      const b0 = buf[at]!;
      const declared = (buf[at + 2]! << 8) | buf[at + 3]!;
      let total: number;
      let channel: boolean;
      if ((b0 & 0xc0) === 0x40) {
        channel = true;
        total = (CHANNEL_DATA_HEADER_LEN + declared + 3) & ~3;
        if (CHANNEL_DATA_HEADER_LEN + declared > this.maxMessage) return false;
      } else if ((b0 & 0xc0) === 0) {
        channel = false;
        total = HEADER_LEN + declared;
        if (total > this.maxMessage || declared % 4 !== 0) return false;
      } else {
        return false;
      }
      if (buf.length - at < total) break;
      sink(channel ? buf.subarray(at, at + CHANNEL_DATA_HEADER_LEN + declared) : buf.subarray(at, at + total), channel);
      at += total;
    }
    if (at < buf.length) this.pending = buf.slice(at);
    return true;
  }

  get buffered(): number {
    return this.pending?.length ?? 0;
  }
}
