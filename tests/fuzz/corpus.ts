/**
 * The committed fuzz corpus and crash cases (tests/fuzz/README.md):
 *
 *   tests/fuzz/corpus/<target>.json   one input per outcome signature the bench reached,
 *                                     the smallest seen; replayed by every `npm test`
 *   tests/fuzz/crashes/<target>.json  every input that ever crashed a parser or broke an
 *                                     invariant, with what it did and the fix; replayed forever
 *
 * Inputs are hex, so binary and text targets share one format.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fromHex, hexOf } from './engine';

export const FUZZ_DIR = resolve(import.meta.dirname);

export interface CorpusFile {
  target: string;
  note: string;
  inputs: Array<{ outcome: string; hex: string }>;
}

export interface CrashCase {
  /** What it did before the fix (the failure message). */
  failure: string;
  hex: string;
  /** The fix, in one line (file and what changed). */
  fixed: string;
  note?: string;
}

function readJson<T>(path: string): T | undefined {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : undefined;
}

export function loadCorpus(target: string): Uint8Array[] {
  return readJson<CorpusFile>(join(FUZZ_DIR, 'corpus', `${target}.json`))?.inputs.map((i) => fromHex(i.hex)) ?? [];
}

export function loadCrashes(target: string): CrashCase[] {
  return readJson<CrashCase[]>(join(FUZZ_DIR, 'crashes', `${target}.json`)) ?? [];
}

/** Write the corpus a run kept (signature → smallest input), largest inputs dropped past `max`. */
export function saveCorpus(target: string, kept: Map<string, Uint8Array>, max = 400, maxBytes = 2048): number {
  const entries = [...kept]
    .filter(([sig, b]) => !sig.startsWith('crash') && !sig.startsWith('invariant') && b.length <= maxBytes)
    .sort((a, b) => a[1].length - b[1].length)
    .slice(0, max)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const file: CorpusFile = {
    target,
    note: 'written by HUSH_FUZZ_SAVE=1 npm run bench -- fuzz: the smallest input that reached each outcome; replayed by tests/fuzz/fuzz.test.ts',
    inputs: entries.map(([outcome, b]) => ({ outcome, hex: hexOf(b) })),
  };
  mkdirSync(join(FUZZ_DIR, 'corpus'), { recursive: true });
  writeFileSync(join(FUZZ_DIR, 'corpus', `${target}.json`), JSON.stringify(file, null, 1) + '\n');
  return entries.length;
}
