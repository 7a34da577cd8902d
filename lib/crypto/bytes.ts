/**
 * Byte helpers shared by the crypto core: checked lengths at boundaries,
 * concatenation, constant-time comparison, big-endian integers, wiping.
 */
import { fail } from './errors';

/** Assert `v` is a Uint8Array (of `len` bytes, if given). */
export function abytes(v: unknown, len: number | undefined, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) fail('ERR_BAD_INPUT', `${what}: expected Uint8Array, got ${typeof v}`);
  if (len !== undefined && v.length !== len) {
    fail('ERR_BAD_INPUT', `${what}: expected ${len} bytes, got ${v.length}`);
  }
  return v;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Constant-time equality for equal-length inputs (length itself is not secret). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export function u16be(n: number): Uint8Array {
  return new Uint8Array([(n >>> 8) & 0xff, n & 0xff]);
}

export function u32be(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0);
  return b;
}

/** Length-prefixed (u32) framing, so concatenated fields can never be re-split differently. */
export function lp(...fields: Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of fields) parts.push(u32be(f.length), f);
  return concat(...parts);
}

/** Overwrite secret bytes. Call in `finally` once a secret has been used. */
export function wipe(...bufs: (Uint8Array | undefined)[]): void {
  for (const b of bufs) b?.fill(0);
}

export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(h: string): Uint8Array {
  if (h.length % 2 || /[^0-9a-f]/i.test(h)) fail('ERR_BAD_INPUT', 'not a hex string');
  const b = new Uint8Array(h.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return b;
}

/** A plain ArrayBuffer-backed copy, as WebCrypto's BufferSource typing wants. */
export function buf(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return b.buffer instanceof ArrayBuffer && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength
    ? (b as Uint8Array<ArrayBuffer>)
    : new Uint8Array(b);
}
