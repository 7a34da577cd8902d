/**
 * ChannelData message (RFC 8656 §12.4): the 4-byte framing that carries
 * media between a client and its allocation once a channel is bound.
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |         Channel Number        |            Length             |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                       Application Data                        |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The first two bits are 0b01 (channel numbers 0x4000-0x7FFF, constants.ts), which is how
 * it is told apart from STUN (0b00) on the same port. Over UDP the datagram
 * may carry trailing padding; over TCP/TLS the message is padded to a
 * multiple of 4 bytes (§12.5) and the padding is not counted in Length.
 */
import { CHANNEL_DATA_HEADER_LEN, CHANNEL_MAX, CHANNEL_MIN } from '../stun/constants';

export function isChannelData(b: Uint8Array): boolean {
  return b.length >= CHANNEL_DATA_HEADER_LEN && (b[0]! & 0xc0) === 0x40;
}

export function isValidChannel(n: number): boolean {
  return n >= CHANNEL_MIN && n <= CHANNEL_MAX;
}

/** Bytes a ChannelData message of `payloadLen` occupies on a stream (padded). */
export function channelDataStreamLen(payloadLen: number): number {
  return (CHANNEL_DATA_HEADER_LEN + payloadLen + 3) & ~3;
}

/**
 * Write the 4-byte header into `out` at 0. The one writer of the header:
 * the hot path (net/fast-udp.ts, net/turn-shell.ts) passes a reused scratch
 * buffer, so it allocates nothing.
 */
export function writeChannelDataHeader(out: Uint8Array, channel: number, payloadLen: number): void {
  out[0] = channel >> 8;
  out[1] = channel & 0xff;
  out[2] = payloadLen >> 8;
  out[3] = payloadLen & 0xff;
}

/** A whole ChannelData message (for tests; the hot path writes headers only). */
export function encodeChannelData(channel: number, payload: Uint8Array, padTo4 = false): Uint8Array {
  const len = padTo4 ? channelDataStreamLen(payload.length) : CHANNEL_DATA_HEADER_LEN + payload.length;
  const out = new Uint8Array(len);
  writeChannelDataHeader(out, channel, payload.length);
  out.set(payload, CHANNEL_DATA_HEADER_LEN);
  return out;
}
