/**
 * Compiles bench/loadgen/hush-loadgen.c with the machine's C compiler
 * (`cc -O2 -pthread`) into bench/out/ when the bench runs: the source is
 * committed, never a binary, and the binary fits this kernel and libc.
 * Rebuilt when the source is newer than the binary.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LoadgenError } from './errors';

export const LOADGEN_SOURCE = resolve(import.meta.dirname, 'hush-loadgen.c');

/** The path of a built hush-loadgen in `outDir` (created if missing). */
export function buildLoadgen(outDir = resolve(import.meta.dirname, '../out')): string {
  mkdirSync(outDir, { recursive: true });
  const bin = join(outDir, 'hush-loadgen');
  if (existsSync(bin) && statSync(bin).mtimeMs >= statSync(LOADGEN_SOURCE).mtimeMs) return bin;
  if (spawnSync('sh', ['-c', 'command -v cc']).status !== 0) {
    throw new LoadgenError('ERR_LOADGEN_NO_COMPILER', 'The bench builds its load generator with a C compiler and found none: install one (apt-get install gcc) or set HUSH_BENCH_LOAD=uclient.');
  }
  const r = spawnSync('cc', ['-O2', '-Wall', '-pthread', '-o', bin, LOADGEN_SOURCE], { encoding: 'utf8' });
  if (r.status !== 0) throw new LoadgenError('ERR_LOADGEN_BUILD', `The load generator did not compile (cc -O2 ${LOADGEN_SOURCE}):\n${r.stderr}`);
  return bin;
}
