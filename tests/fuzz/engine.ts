/**
 * A small mutation fuzzer for the parsers that face the network
 * (docs/hardening.md). No coverage-guided JS fuzzer runs on these machines
 * (Jazzer.js 4's native libFuzzer addon needs glibc 2.38, Debian 12 has 2.36;
 * older versions download compiler-rt from GitHub), so this approximates one
 * the way AFL and libFuzzer do without instrumentation:
 *
 *   - every target returns an *outcome signature* for each input: the error
 *     code and message, the answer class, the branch taken. Each message of
 *     our parsers names one branch, so a new signature is a new branch;
 *   - an input that produces a signature never seen before joins the corpus
 *     (the smallest input seen per signature is kept), and every signature
 *     gets the same share of mutations, so rare branches are explored as
 *     often as the common ones;
 *   - mutations are libFuzzer's: bit flips, byte set/insert/delete, 16- and
 *     32-bit "interesting" and length-field values, copy, splice of two
 *     corpus inputs, dictionary tokens, truncation, ASCII-integer edits; 1 to
 *     8 stacked per input; plus fresh structured inputs from the target's own
 *     generator and plain random bytes.
 *
 * A target throws InvariantError when an invariant breaks; any other throw
 * is a crash. Both are recorded with the input, never stop the run, and are
 * kept as regression cases in tests/fuzz/crashes/.
 */

/** Broken invariant (as opposed to an unexpected exception, a crash). */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

export function invariant(cond: unknown, message: string): asserts cond {
  if (!cond) throw new InvariantError(message);
}

// ───────────────────────────────── PRNG ─────────────────────────────────

/** sfc32: fast, seedable, good enough for fuzzing (not for keys). */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }
  chance(p: number): boolean {
    return this.u32() < p * 4294967296;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

// ─────────────────────────────── targets ───────────────────────────────

export interface FuzzTarget {
  name: string;
  /** One sentence: what is fed where, and what must hold. */
  about: string;
  /** Valid (and hand-picked edge-case) inputs to start from. */
  seeds: Uint8Array[];
  /** Tokens the dictionary mutator splices in (like libFuzzer's -dict). */
  dictionary?: Uint8Array[];
  /** Largest input the mutators build. */
  maxLen: number;
  /** A fresh structured input (mostly valid, randomly varied). */
  generate?(rng: Rng): Uint8Array;
  /** A structure-aware mutation (fields, not bytes), used for half the mutations when given. */
  mutateStructured?(input: Uint8Array, rng: Rng, other: () => Uint8Array): Uint8Array;
  /** Feed one input. Returns its outcome signature; throws InvariantError on a broken invariant. */
  run(input: Uint8Array, rng: Rng): string | Promise<string>;
  /** Bounded-state checks (throws InvariantError), called every `checkEvery` inputs and at the end. */
  check?(): void;
  /** Drop accumulated state (windows, tables) so success paths stay reachable; called every `resetEvery` inputs. */
  reset?(): void | Promise<void>;
  resetEvery?: number;
}

export type TargetFactory = () => Promise<FuzzTarget>;

// ─────────────────────────────── mutators ───────────────────────────────

const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xff, 0x40, 0x20, 0x10];
const INTERESTING_16 = [0, 1, 4, 0x7f, 0x80, 0xff, 0x100, 0x3fff, 0x4000, 0x4fff, 0x7fff, 0x8000, 0xfffc, 0xffff];
const INTERESTING_32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x2112a442, 0x00ffffff, 0x01000000];
const INTERESTING_NUMBERS = ['0', '-1', '1.5', '-0', '1e308', '1e999', '9007199254740993', '4294967296', '65536', 'NaN', '0x10'];

function writeU16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}
function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 24) & 0xff;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

function splice(a: Uint8Array, at: number, del: number, ins: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length - del + ins.length);
  out.set(a.subarray(0, at));
  out.set(ins, at);
  out.set(a.subarray(at + del), at + ins.length);
  return out;
}

type Mutator = (b: Uint8Array, rng: Rng, other: () => Uint8Array, dict: Uint8Array[] | undefined) => Uint8Array;

const MUTATORS: Array<[string, Mutator]> = [
  ['flip-bit', (b, rng) => {
    if (b.length === 0) return b;
    const c = b.slice();
    c[rng.int(c.length)]! ^= 1 << rng.int(8);
    return c;
  }],
  ['set-byte', (b, rng) => {
    if (b.length === 0) return b;
    const c = b.slice();
    c[rng.int(c.length)] = rng.chance(0.5) ? rng.pick(INTERESTING_8) : rng.int(256);
    return c;
  }],
  ['insert-bytes', (b, rng) => {
    const n = 1 + rng.int(rng.chance(0.8) ? 4 : 64);
    const ins = rng.chance(0.5) ? rng.bytes(n) : new Uint8Array(n).fill(rng.pick(INTERESTING_8));
    return splice(b, rng.int(b.length + 1), 0, ins);
  }],
  ['delete-bytes', (b, rng) => {
    if (b.length === 0) return b;
    const at = rng.int(b.length);
    return splice(b, at, 1 + rng.int(Math.min(b.length - at, rng.chance(0.8) ? 4 : 64)), new Uint8Array(0));
  }],
  ['u16', (b, rng) => {
    if (b.length < 2) return b;
    const c = b.slice();
    // Mostly at even offsets, where STUN, ChannelData and TLV lengths sit.
    const at = rng.chance(0.8) ? rng.int(c.length >> 1) * 2 : rng.int(c.length - 1);
    const old = (c[at]! << 8) | c[at + 1]!;
    const lengths = [c.length - at - 2, c.length - at - 4, c.length - 20, c.length - 4, c.length, old + 1, old - 1, old + 4, old - 4, old + 3];
    writeU16(c, at, rng.chance(0.5) ? rng.pick(INTERESTING_16) : rng.pick(lengths) & 0xffff);
    return c;
  }],
  ['u32', (b, rng) => {
    if (b.length < 4) return b;
    const c = b.slice();
    writeU32(c, rng.int(c.length - 3), rng.chance(0.7) ? rng.pick(INTERESTING_32) : rng.u32());
    return c;
  }],
  ['copy-part', (b, rng) => {
    if (b.length < 2) return b;
    const from = rng.int(b.length);
    const n = 1 + rng.int(Math.min(b.length - from, 64));
    const part = b.slice(from, from + n);
    return rng.chance(0.5) ? splice(b, rng.int(b.length + 1), 0, part) : splice(b, rng.int(b.length - n + 1), n, part);
  }],
  ['splice', (b, rng, other) => {
    const o = other();
    const cutA = rng.int(b.length + 1);
    const cutB = rng.int(o.length + 1);
    const out = new Uint8Array(cutA + o.length - cutB);
    out.set(b.subarray(0, cutA));
    out.set(o.subarray(cutB), cutA);
    return out;
  }],
  ['dictionary', (b, rng, _o, dict) => {
    if (!dict || dict.length === 0) return b;
    const tok = rng.pick(dict);
    const at = rng.int(b.length + 1);
    return rng.chance(0.5) ? splice(b, at, 0, tok) : splice(b, at, Math.min(tok.length, b.length - at), tok);
  }],
  ['truncate', (b, rng) => (b.length === 0 ? b : b.slice(0, rng.int(b.length)))],
  ['append', (b, rng) => splice(b, b.length, 0, rng.bytes(1 + rng.int(32)))],
  ['ascii-int', (b, rng) => {
    // Replace a run of digits (JSON numbers, lengths in text) with an interesting number.
    const starts: number[] = [];
    for (let i = 0; i < b.length; i++) if (b[i]! >= 0x30 && b[i]! <= 0x39 && (i === 0 || b[i - 1]! < 0x30 || b[i - 1]! > 0x39)) starts.push(i);
    if (starts.length === 0) return b;
    const s = rng.pick(starts);
    let e = s;
    while (e < b.length && b[e]! >= 0x30 && b[e]! <= 0x39) e++;
    return splice(b, s, e - s, new TextEncoder().encode(rng.pick(INTERESTING_NUMBERS)));
  }],
];

export function mutate(input: Uint8Array, rng: Rng, other: () => Uint8Array, dict: Uint8Array[] | undefined, maxLen: number): Uint8Array {
  let b = input;
  const n = 1 << rng.int(4); // 1, 2, 4 or 8 stacked mutations
  for (let i = 0; i < n; i++) b = rng.pick(MUTATORS)[1](b, rng, other, dict);
  return b.length > maxLen ? b.slice(0, maxLen) : b;
}

// ─────────────────────────────── the loop ───────────────────────────────

export interface Failure {
  kind: 'crash' | 'invariant';
  message: string;
  input: Uint8Array;
  /** Which input of the run (with the seed, enough to reproduce state-dependent failures). */
  index: number;
}

export interface RunOptions {
  inputs: number;
  seed?: number;
  /** Stop early after this long (the bench's time guard); the stats say how many ran. */
  timeLimitMs?: number;
  /** Sample heapUsed every this many inputs (0: never). */
  heapEvery?: number;
  checkEvery?: number;
  /** Distinct signatures tracked; beyond it they count under "(other)". Bounds the fuzzer's own memory. */
  maxOutcomes?: number;
  /** Extra starting inputs (a committed corpus). */
  corpus?: Uint8Array[];
  /** A full GC (node --expose-gc) and a heapUsed sample after it, at each of these input counts. */
  gc?: () => void;
  gcAt?: number[];
}

export interface RunStats {
  target: string;
  inputs: number;
  ms: number;
  outcomes: Map<string, number>;
  /** Smallest input seen per signature: the corpus this run would keep. */
  kept: Map<string, Uint8Array>;
  failures: Failure[];
  heapPeak: number;
  /** heapUsed right after a full GC, at the input counts asked for in `gcAt`, and the bytes the fuzzer's own corpus held then. */
  heapAfterGc: Array<[index: number, heapUsed: number, corpusBytes: number]>;
  /** Inputs by origin. */
  mutated: number;
  generated: number;
  random: number;
}

const MAX_FAILURES = 20;

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

/** Run `opts.inputs` inputs through `target`. Never throws for a target's failure: they are returned. */
export async function fuzz(target: FuzzTarget, opts: RunOptions): Promise<RunStats> {
  const rng = new Rng(opts.seed ?? 1);
  const maxOutcomes = opts.maxOutcomes ?? 4000;
  const heapEvery = opts.heapEvery ?? 0;
  const checkEvery = opts.checkEvery ?? 1000;
  const stats: RunStats = {
    target: target.name,
    inputs: 0,
    ms: 0,
    outcomes: new Map(),
    kept: new Map(),
    failures: [],
    heapPeak: 0,
    heapAfterGc: [],
    mutated: 0,
    generated: 0,
    random: 0,
  };
  const pool: Uint8Array[] = [...target.seeds, ...(opts.corpus ?? [])];
  if (pool.length === 0) pool.push(new Uint8Array(0));
  /** One entry per signature (index into keptList), so each branch gets an equal share. */
  const keptList: Uint8Array[] = [];
  const keptIndex = new Map<string, number>();
  const other = () => (keptList.length > 0 && rng.chance(0.5) ? rng.pick(keptList) : rng.pick(pool));
  const seenFailures = new Set<string>();
  const t0 = performance.now();

  const record = (input: Uint8Array, sig: string) => {
    let n = stats.outcomes.get(sig);
    if (n === undefined) {
      if (stats.outcomes.size >= maxOutcomes) sig = '(other)';
      n = stats.outcomes.get(sig) ?? 0;
    }
    stats.outcomes.set(sig, n + 1);
    const at = keptIndex.get(sig);
    if (at === undefined) {
      keptIndex.set(sig, keptList.length);
      keptList.push(input);
      stats.kept.set(sig, input);
    } else if (input.length < keptList[at]!.length) {
      keptList[at] = input;
      stats.kept.set(sig, input);
    }
  };
  const failed = (kind: Failure['kind'], e: unknown, input: Uint8Array, index: number) => {
    const message = describe(e);
    const sig = `${kind}: ${message.split('\n')[0]!.slice(0, 160)}`;
    record(input, sig);
    if (seenFailures.has(sig) || stats.failures.length >= MAX_FAILURES) return;
    seenFailures.add(sig);
    stats.failures.push({ kind, message, input: input.slice(), index });
  };

  const first = pool.length;
  for (let i = 0; i < opts.inputs; i++) {
    if (target.reset && target.resetEvery && i > 0 && i % target.resetEvery === 0) await target.reset();
    let input: Uint8Array;
    if (i < first) {
      input = pool[i]!; // every seed and corpus entry once, as is
    } else {
      const r = rng.int(100);
      if (r < 4) {
        input = rng.bytes(rng.int(Math.min(target.maxLen, 256) + 1));
        stats.random++;
      } else if (r < 14 && target.generate) {
        input = target.generate(rng);
        stats.generated++;
      } else {
        const base = keptList.length > 0 && rng.chance(0.7) ? rng.pick(keptList) : rng.pick(pool);
        input =
          target.mutateStructured && rng.chance(0.5)
            ? target.mutateStructured(base, rng, other)
            : mutate(base, rng, other, target.dictionary, target.maxLen);
        if (input.length > target.maxLen) input = input.slice(0, target.maxLen);
        stats.mutated++;
      }
    }
    try {
      const out = target.run(input, rng);
      record(input, typeof out === 'string' ? out : await out);
    } catch (e) {
      failed(e instanceof InvariantError ? 'invariant' : 'crash', e, input, i);
    }
    stats.inputs++;
    if (target.check && (i + 1) % checkEvery === 0) {
      try {
        target.check();
      } catch (e) {
        failed(e instanceof InvariantError ? 'invariant' : 'crash', e, input, i);
      }
    }
    if (opts.gc && opts.gcAt?.includes(i + 1)) {
      opts.gc();
      let corpusBytes = 0;
      for (const b of keptList) corpusBytes += b.length;
      stats.heapAfterGc.push([i + 1, process.memoryUsage().heapUsed, corpusBytes]);
    }
    if (heapEvery > 0 && i % heapEvery === 0) {
      const h = process.memoryUsage().heapUsed;
      if (h > stats.heapPeak) stats.heapPeak = h;
    }
    if (opts.timeLimitMs !== undefined && (i & 255) === 0 && performance.now() - t0 > opts.timeLimitMs) break;
  }
  if (target.check) {
    try {
      target.check();
    } catch (e) {
      failed(e instanceof InvariantError ? 'invariant' : 'crash', e, new Uint8Array(0), stats.inputs);
    }
  }
  stats.ms = performance.now() - t0;
  return stats;
}

/** Feed inputs once each (corpus and crash replays); returns the failures. */
export async function replay(target: FuzzTarget, inputs: Uint8Array[]): Promise<Failure[]> {
  const rng = new Rng(7);
  const out: Failure[] = [];
  for (let i = 0; i < inputs.length; i++) {
    try {
      await target.run(inputs[i]!, rng);
    } catch (e) {
      out.push({ kind: e instanceof InvariantError ? 'invariant' : 'crash', message: describe(e), input: inputs[i]!, index: i });
    }
  }
  if (target.check) {
    try {
      target.check();
    } catch (e) {
      out.push({ kind: e instanceof InvariantError ? 'invariant' : 'crash', message: describe(e), input: new Uint8Array(0), index: inputs.length });
    }
  }
  return out;
}

// ─────────────────────────────── helpers ───────────────────────────────

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
// The one hex pair of the code base (lib/crypto/bytes.ts), under the names the fuzz targets use.
export { toHex as hexOf, fromHex } from '../../lib/crypto/bytes';
/** As a WebSocket text frame arrives: UTF-8 with replacement characters. */
export const textOf = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('utf8');
