/**
 * Byte helpers of the TURN core: the big-endian u32 that LIFETIME carries
 * (RFC 8656 §18.2) and hex text for byte strings used as map keys
 * (transaction ids, reservation tokens). Imports nothing: every file of
 * turn/ and net/ may use it without making an import circle.
 */

/** `v` as 4 big-endian bytes (a fresh array: control path only). */
export function u32(v: number): Uint8Array {
  return new Uint8Array([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
}

/** Lower-case hex of `b`, for comparing and keying byte strings. */
export function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}
