/**
 * STUN message codec (RFC 8489 §5 header, §14 attribute TLVs). Decoding never
 * throws: the network feeds it arbitrary bytes, so every failure is a typed
 * `Result` and the shell drops (UDP) or closes (TCP) on it.
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |0 0|     STUN Message Type     |         Message Length        |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                         Magic Cookie                          |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                     Transaction ID (96 bits)                  |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |         Type                  |            Length             |  attributes,
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  each padded
 *    |                         Value (variable)                ....     to 4 bytes
 *
 * Message type bits: M11..M7 C1 M6..M4 C0 M3..M0 (method M, class C).
 * Caveat (RFC 8489 §14.5): attributes after MESSAGE-INTEGRITY other than
 * MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are ignored, so `get()` never
 * returns them; FINGERPRINT must be last.
 */
import { ATTR_HEADER_LEN, Attr, HEADER_LEN, MAGIC_COOKIE, type StunClass } from './constants';
import { err, ok, type Result } from '../errors';

export interface StunAttribute {
  type: number;
  /** Offset of the value in `raw`. */
  offset: number;
  length: number;
}

export interface StunMessage {
  method: number;
  cls: StunClass;
  transactionId: Uint8Array;
  /** The whole message, exactly as received (integrity is computed over it). */
  raw: Uint8Array;
  /** Attributes before MESSAGE-INTEGRITY (or all, if none), in wire order. */
  attributes: StunAttribute[];
  /** Offset of the MESSAGE-INTEGRITY attribute header, or -1. */
  integrityAt: number;
  /** Offset of the FINGERPRINT attribute header, or -1. */
  fingerprintAt: number;
}

/** True if `bytes` start like a STUN message: top two bits zero and the magic cookie present. */
export function looksLikeStun(bytes: Uint8Array): boolean {
  return (
    bytes.length >= HEADER_LEN &&
    (bytes[0]! & 0xc0) === 0 &&
    bytes[4] === 0x21 &&
    bytes[5] === 0x12 &&
    bytes[6] === 0xa4 &&
    bytes[7] === 0x42
  );
}

export function methodOf(type: number): number {
  return (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
}
export function classOf(type: number): StunClass {
  return (type & 0x0110) as StunClass;
}
export function messageType(method: number, cls: StunClass): number {
  return (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | cls;
}

export function readU16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}
export function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** Decode one STUN message occupying all of `bytes`. Never throws. */
export function decodeStun(bytes: Uint8Array): Result<StunMessage> {
  if (bytes.length < HEADER_LEN) return err('ERR_TRUNCATED', 'shorter than a STUN header');
  if ((bytes[0]! & 0xc0) !== 0) return err('ERR_MALFORMED', 'top two bits of a STUN message must be zero');
  if (readU32(bytes, 4) !== MAGIC_COOKIE) return err('ERR_MALFORMED', 'no STUN magic cookie');
  const length = readU16(bytes, 2);
  if (length % 4 !== 0) return err('ERR_MALFORMED', 'STUN length is not a multiple of 4');
  if (HEADER_LEN + length !== bytes.length) return err('ERR_TRUNCATED', 'STUN length does not match the datagram');
  const type = readU16(bytes, 0);
  const attributes: StunAttribute[] = [];
  let integrityAt = -1;
  let fingerprintAt = -1;
  let at = HEADER_LEN;
  while (at < bytes.length) {
    if (fingerprintAt >= 0) return err('ERR_MALFORMED', 'attribute after FINGERPRINT');
    if (at + ATTR_HEADER_LEN > bytes.length) return err('ERR_TRUNCATED', 'truncated attribute header');
    const t = readU16(bytes, at);
    const len = readU16(bytes, at + 2);
    const valueAt = at + ATTR_HEADER_LEN;
    if (valueAt + len > bytes.length) return err('ERR_TRUNCATED', 'attribute value runs past the message');
    if (t === Attr.Fingerprint) {
      if (len !== 4) return err('ERR_MALFORMED', 'FINGERPRINT must be 4 bytes');
      fingerprintAt = at;
    } else if (t === Attr.MessageIntegrity) {
      if (integrityAt < 0) {
        if (len !== 20) return err('ERR_MALFORMED', 'MESSAGE-INTEGRITY must be 20 bytes');
        integrityAt = at;
      }
    } else if (integrityAt < 0) {
      attributes.push({ type: t, offset: valueAt, length: len });
    }
    at = valueAt + ((len + 3) & ~3);
  }
  if (at !== bytes.length) return err('ERR_MALFORMED', 'attribute padding runs past the message');
  return ok({
    method: methodOf(type),
    cls: classOf(type),
    transactionId: bytes.subarray(8, HEADER_LEN),
    raw: bytes,
    attributes,
    integrityAt,
    fingerprintAt,
  });
}

/** First attribute of `type` (before MESSAGE-INTEGRITY), or undefined. */
export function getAttr(msg: StunMessage, type: number): StunAttribute | undefined {
  for (const a of msg.attributes) if (a.type === type) return a;
  return undefined;
}

export function attrValue(msg: StunMessage, a: StunAttribute): Uint8Array {
  return msg.raw.subarray(a.offset, a.offset + a.length);
}

/**
 * Builds one STUN message. Attributes are appended in call order; `finish`
 * adds MESSAGE-INTEGRITY and FINGERPRINT last, as RFC 8489 §14.5/§14.7 require.
 */
export class StunWriter {
  private buf: Uint8Array;
  private len = HEADER_LEN;

  constructor(method: number, cls: StunClass, transactionId: Uint8Array) {
    this.buf = new Uint8Array(256);
    const type = messageType(method, cls);
    this.buf[0] = type >> 8;
    this.buf[1] = type & 0xff;
    this.buf[4] = 0x21;
    this.buf[5] = 0x12;
    this.buf[6] = 0xa4;
    this.buf[7] = 0x42;
    this.buf.set(transactionId.subarray(0, 12), 8);
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private setLength(bodyLen: number): void {
    this.buf[2] = bodyLen >> 8;
    this.buf[3] = bodyLen & 0xff;
  }

  /** Append a TLV; the value is padded with zeros to a multiple of 4. */
  add(type: number, value: Uint8Array): this {
    const padded = (value.length + 3) & ~3;
    this.ensure(ATTR_HEADER_LEN + padded);
    const b = this.buf;
    const at = this.len;
    b[at] = type >> 8;
    b[at + 1] = type & 0xff;
    b[at + 2] = value.length >> 8;
    b[at + 3] = value.length & 0xff;
    b.set(value, at + ATTR_HEADER_LEN);
    b.fill(0, at + ATTR_HEADER_LEN + value.length, at + ATTR_HEADER_LEN + padded);
    this.len += ATTR_HEADER_LEN + padded;
    this.setLength(this.len - HEADER_LEN);
    return this;
  }

  addU32(type: number, v: number): this {
    return this.add(type, new Uint8Array([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]));
  }

  /** Bytes written so far, with the length field covering them. */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  /**
   * Finish: optionally MESSAGE-INTEGRITY (with `integrity(prefix)` computing
   * HMAC over the message whose length field already counts MI), optionally FINGERPRINT.
   */
  finish(opts: { integrity?: (prefix: Uint8Array) => Uint8Array; fingerprint?: (prefix: Uint8Array) => number } = {}): Uint8Array {
    if (opts.integrity) {
      this.setLength(this.len - HEADER_LEN + ATTR_HEADER_LEN + 20);
      const mac = opts.integrity(this.buf.subarray(0, this.len));
      this.add(Attr.MessageIntegrity, mac);
    }
    if (opts.fingerprint) {
      this.setLength(this.len - HEADER_LEN + ATTR_HEADER_LEN + 4);
      const crc = opts.fingerprint(this.buf.subarray(0, this.len));
      this.addU32(Attr.Fingerprint, crc);
    }
    return this.bytes();
  }
}
