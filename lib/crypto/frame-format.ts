/**
 * The encrypted frame's bytes on the wire (docs/protocol.md §Frame format).
 * This file only encodes and parses; frame-cipher.ts does the AES-GCM.
 *
 *    0 1 2 3 4 5 6 7
 *   +-+-+-+-+-+-+-+-+-------------------------+------------------------+---------+
 *   |0 0|LEN|  KID  | counter (LEN+1 bytes BE) | ciphertext (= plain len)| tag (16)|
 *   +-+-+-+-+-+-+-+-+-------------------------+------------------------+---------+
 *    ^   ^    ^
 *    |   |    key epoch mod 16 (4 bits)
 *    |   counter length − 1 (0..3): counters use as few bytes as they need
 *    reserved, must be 0 (a set bit is refused: room for a future format)
 *
 * Header = AAD. Overhead = 1 + (1..4) + 16 = 18..21 bytes: 18 for the first
 * 256 frames, 19 up to 2^16 (21 minutes of 20 ms audio), 20 up to 2^24 (93
 * hours, where the sender rotates keys and the counter restarts at 0).
 */
import { FRAME_COUNTER_MAX, FRAME_HEADER_MAX, FRAME_KID_MOD, FRAME_MAX_LEN, FRAME_TAG_LEN } from './constants';
import { fail } from './errors';

export interface FrameHeader {
  kid: number;
  counter: number;
  /** Header length in bytes (2..5). */
  length: number;
}

/** Bytes needed for a counter (1..4). */
export function counterBytes(counter: number): number {
  return counter < 0x100 ? 1 : counter < 0x10000 ? 2 : counter < 0x1000000 ? 3 : 4;
}

/** Write the header for (kid, counter) into `out` at 0; returns its length. */
export function writeHeader(out: Uint8Array, kid: number, counter: number): number {
  if (kid < 0 || kid >= FRAME_KID_MOD || !Number.isInteger(kid)) fail('ERR_BAD_INPUT', 'key id out of range');
  if (counter < 0 || counter > FRAME_COUNTER_MAX || !Number.isInteger(counter)) {
    fail('ERR_KEY_EXHAUSTED', 'frame counter out of range');
  }
  const n = counterBytes(counter);
  out[0] = ((n - 1) << 4) | kid;
  for (let i = n; i >= 1; i--) {
    out[i] = counter & 0xff;
    counter = Math.floor(counter / 256);
  }
  return 1 + n;
}

export function encodeHeader(kid: number, counter: number): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_MAX);
  return out.subarray(0, writeHeader(out, kid, counter));
}

/**
 * Parse and validate the header of an encrypted frame; typed errors for
 * truncation, oversize and reserved bits. Does not authenticate anything.
 */
export function parseHeader(frame: Uint8Array): FrameHeader {
  if (frame.length > FRAME_MAX_LEN) fail('ERR_FRAME_TOO_LARGE', `frame larger than ${FRAME_MAX_LEN} bytes`);
  if (frame.length < 2 + FRAME_TAG_LEN) fail('ERR_FRAME_TRUNCATED', 'frame shorter than header and tag');
  const b0 = frame[0]!;
  if (b0 & 0xc0) fail('ERR_FRAME_HEADER', 'reserved header bits set');
  const n = ((b0 >> 4) & 0x03) + 1;
  const length = 1 + n;
  if (frame.length < length + FRAME_TAG_LEN) fail('ERR_FRAME_TRUNCATED', 'frame shorter than header and tag');
  let counter = 0;
  for (let i = 1; i <= n; i++) counter = counter * 256 + frame[i]!;
  // A counter written with more bytes than needed is a second encoding of the same frame: refuse it.
  if (n > 1 && counterBytes(counter) !== n) fail('ERR_FRAME_HEADER', 'counter not minimally encoded');
  return { kid: b0 & 0x0f, counter, length };
}
