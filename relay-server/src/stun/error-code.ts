/**
 * ERROR-CODE (RFC 8489 §14.8):
 *
 *    |           Reserved, should be 0         |Class|     Number    |
 *    |      Reason Phrase (variable, UTF-8, < 128 characters)  ..
 *
 * Class is the hundreds digit (3-6), Number the rest (0-99).
 */
import { REASON } from './constants';

export function encodeErrorCode(code: number, reason: string = REASON[code] ?? 'Error'): Uint8Array {
  const text = new TextEncoder().encode(reason.slice(0, 127));
  const out = new Uint8Array(4 + text.length);
  out[2] = Math.floor(code / 100) & 0x07;
  out[3] = code % 100;
  out.set(text, 4);
  return out;
}

export function decodeErrorCode(value: Uint8Array): { code: number; reason: string } | undefined {
  if (value.length < 4) return undefined;
  const cls = value[2]! & 0x07;
  const num = value[3]!;
  if (cls < 3 || cls > 6 || num > 99) return undefined;
  return { code: cls * 100 + num, reason: new TextDecoder().decode(value.subarray(4)) };
}
