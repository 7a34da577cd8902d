/**
 * JSON text generator for the fuzz targets whose input is a JSON frame
 * (signalling both ways, call control): objects built from the protocol's
 * own keys and values, the keys JavaScript treats specially (__proto__,
 * toString, valueOf, constructor), duplicate keys, every JSON type in every
 * field, deep nesting and lone surrogates. Written by hand (not
 * JSON.stringify) so duplicate keys and odd number spellings get through.
 */
import { enc, type Rng } from '../engine';

export const SPECIAL_KEYS = ['__proto__', 'toString', 'valueOf', 'constructor', 'hasOwnProperty', 'toJSON', ''];

const B64 = ['AAAA', 'AAECAwQFBgc=', 'q1C7sXq4p2y2m3Jk6cXy3h6bM7c0dJZk2m1rM8x9QnE=', 'AB==', 'A===', '====', 'AAA', 'A-_z', ''];
const MAILBOXES = ['3f2a9c0d41b7e8a65c1d0f9e2b4a7c63', '9b1e47c2d0a35f68e2c4b7a901d3f5e2', '3F2A9C0D41B7E8A65C1D0F9E2B4A7C63', '3f2a9c0d41b7e8a65c1d0f9e2b4a7c6', 'zz'];
const NUMBERS = ['0', '1', '17', '-1', '1.5', '-0', '1e3', '1e308', '1e999', '-1e999', '9007199254740991', '9007199254740993', '4294967296', '0.1e1'];

function str(s: string): string {
  return JSON.stringify(s);
}

export interface JsonShape {
  /** Keys the protocol uses. */
  keys: string[];
  /** Values of the discriminator key. */
  tags: string[];
  /** The discriminator key ("t" or "k"). */
  tag: string;
  /** The fields each tag's message reads: generated objects mostly carry those. */
  fields?: Record<string, readonly string[]>;
}

function value(rng: Rng, shape: JsonShape, depth: number): string {
  switch (rng.int(depth > 2 ? 7 : 10)) {
    case 0:
      return str(rng.pick(B64));
    case 1:
      return str(rng.pick(MAILBOXES));
    case 2:
      return rng.pick(NUMBERS);
    case 3:
      return rng.pick(['true', 'false', 'null']);
    case 4:
      return str(rng.pick(shape.tags));
    case 5:
      return str(rng.chance(0.5) ? 'x'.repeat(rng.int(rng.chance(0.9) ? 40 : 40_000)) : '\ud800\u0000\u2028é');
    case 6:
      return str(String.fromCharCode(...Array.from({ length: rng.int(12) }, () => rng.int(0x10000))));
    case 7:
      return `[${Array.from({ length: rng.int(4) }, () => value(rng, shape, depth + 1)).join(',')}]`;
    default:
      return object(rng, shape, depth + 1);
  }
}

export function object(rng: Rng, shape: JsonShape, depth = 0): string {
  const fields: string[] = [];
  const tag = rng.pick(shape.tags);
  if (depth === 0 && rng.chance(0.9)) fields.push(`${str(shape.tag)}:${rng.chance(0.9) ? str(tag) : value(rng, shape, depth)}`);
  const own = (depth === 0 && shape.fields?.[tag]) || [];
  const n = rng.int(6);
  for (let i = 0; i < n; i++) {
    const r = rng.int(10);
    const key = own.length > 0 && r < 6 ? rng.pick(own) : r < 8 ? rng.pick(depth > 0 && r < 7 ? SPECIAL_KEYS : shape.keys) : rng.chance(0.8) ? rng.pick(SPECIAL_KEYS) : shape.tag;
    fields.push(`${str(key)}:${value(rng, shape, depth)}`);
  }
  // Shuffle: the tag need not come first.
  for (let i = fields.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [fields[i], fields[j]] = [fields[j]!, fields[i]!];
  }
  return `{${fields.join(rng.chance(0.9) ? ',' : ' , ')}}`;
}

/** One frame: mostly an object, sometimes another JSON value or not JSON at all. */
export function genJsonFrame(rng: Rng, shape: JsonShape): Uint8Array {
  const r = rng.int(20);
  if (r === 0) return enc(value(rng, shape, 3));
  if (r === 1) return enc(object(rng, shape).slice(0, -1)); // truncated
  if (r === 2) return enc('['.repeat(rng.int(2000)) + ']'.repeat(rng.int(2000))); // deep nesting
  return enc(object(rng, shape));
}

export function jsonDictionary(shape: JsonShape): Uint8Array[] {
  return ['{', '}', '[', ']', '"', ':', ',', 'null', 'true', '1e999', '-0', '\\u0000', '\\ud800', ...[...shape.keys, ...shape.tags, ...SPECIAL_KEYS].map(str)].map(enc);
}

/**
 * The shape of a JSON frame for outcome signatures: which protocol (and
 * special) keys it has and each value's JSON type, e.g. `code:s message:o`.
 * Feeding shapes to the fuzzer's corpus keeps inputs with an object where a
 * string belongs, the way a coverage-guided fuzzer keeps a new branch.
 */
export function shapeOf(text: string, keys: readonly string[]): string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'not-json';
  }
  if (typeof v !== 'object' || v === null) return typeof v;
  if (Array.isArray(v)) return 'array';
  const known = new Set(keys);
  const type = (x: unknown) => (x === null ? 'z' : Array.isArray(x) ? 'a' : (typeof x)[0]);
  const parts: string[] = [];
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (!known.has(k)) continue;
    let t = type(x);
    // One level down for objects: which special keys they carry.
    if (t === 'o') t += Object.keys(x as object).filter((kk) => SPECIAL_KEYS.includes(kk)).sort().join('.');
    parts.push(`${k}:${t}`);
  }
  return parts.sort().join(' ');
}
