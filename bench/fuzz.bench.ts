/**
 * `npm run bench -- fuzz`: a million inputs through every parser that faces
 * the network (tests/fuzz/targets, docs/hardening.md), in this process.
 *
 * Printed per target: inputs run, inputs/s, distinct outcomes reached (the
 * fuzzer's stand-in for branch coverage), inputs that reached AES-GCM where
 * it applies, failures (crashes and broken invariants, with their input),
 * and the V8 heap: before the target exists, after a full GC at 10 % of the
 * run (warm: corpus and caches built), after a full GC at the end, and the
 * peak sampled without GC. "growth" is end − warm, less what the
 * fuzzer's own corpus grew by (printed as "corpus"): a parser that keeps
 * state per input shows it there.
 *
 *   HUSH_FUZZ_INPUTS=n      inputs per target (default 1 000 000)
 *   HUSH_FUZZ_SEED=n        another seed (default 1)
 *   HUSH_FUZZ_SAVE=1        write the kept corpus to tests/fuzz/corpus/<target>.json and
 *                           any failure to tests/fuzz/crashes/<target>.json
 *   HUSH_FUZZ_TARGETS=a,b   only these targets
 *   HUSH_FUZZ_TIME_S=n      stop a target after n seconds (default 90; the run says so)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fuzz, hexOf, type RunStats } from '../tests/fuzz/engine';
import { FUZZ_DIR, loadCorpus, saveCorpus, type CrashCase } from '../tests/fuzz/corpus';
import { TARGETS } from '../tests/fuzz/targets/index';

const INPUTS = Number(process.env.HUSH_FUZZ_INPUTS ?? 1_000_000);
const SEED = Number(process.env.HUSH_FUZZ_SEED ?? 1);
const SAVE = process.env.HUSH_FUZZ_SAVE === '1';
const ONLY = process.env.HUSH_FUZZ_TARGETS?.split(',').filter(Boolean);
const TIME_S = Number(process.env.HUSH_FUZZ_TIME_S ?? 90);

/** A full GC without restarting node with --expose-gc. */
function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const mb = (b: number) => (b / 1048576).toFixed(1);

function saveFailures(name: string, stats: RunStats): void {
  if (stats.failures.length === 0) return;
  const path = join(FUZZ_DIR, 'crashes', `${name}.json`);
  const cases: CrashCase[] = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as CrashCase[]) : [];
  for (const f of stats.failures) {
    cases.push({ failure: `${f.kind}: ${f.message.split('\n')[0]}`, hex: hexOf(f.input), fixed: 'NOT YET', note: `bench seed ${SEED}, input ${f.index}` });
  }
  mkdirSync(join(FUZZ_DIR, 'crashes'), { recursive: true });
  writeFileSync(path, JSON.stringify(cases, null, 1) + '\n');
}

export async function run(): Promise<void> {
  const gc = gcFunction();
  const names = Object.keys(TARGETS).filter((n) => !ONLY || ONLY.includes(n));
  console.log(`${INPUTS.toLocaleString('en')} inputs per target, seed ${SEED}, time guard ${TIME_S} s per target${SAVE ? ', saving corpus' : ''}`);
  console.log('heap: V8 heapUsed MB (before target | after GC at 10 % | after GC at end | peak sampled); growth = end − warm − corpus growth\n');
  const header = `${'target'.padEnd(20)}${'inputs'.padStart(10)}${'inputs/s'.padStart(10)}${'outcomes'.padStart(9)}${'kept'.padStart(6)}${'fail'.padStart(6)}   heap before | warm | end | peak   growth (fuzzer corpus)`;
  console.log(header);
  const t0 = Date.now();
  const rows: string[] = [];
  let totalFailures = 0;
  for (const name of names) {
    gc();
    const before = process.memoryUsage().heapUsed;
    const target = await TARGETS[name]!();
    const warmAt = Math.max(1, Math.floor(INPUTS / 10));
    const stats = await fuzz(target, {
      inputs: INPUTS,
      seed: SEED,
      corpus: loadCorpus(name),
      heapEvery: 10_000,
      gc,
      gcAt: [warmAt, INPUTS],
      timeLimitMs: TIME_S * 1000,
    });
    if (stats.heapAfterGc.length < 2) {
      gc();
      let corpusBytes = 0;
      for (const b of stats.kept.values()) corpusBytes += b.length;
      stats.heapAfterGc.push([stats.inputs, process.memoryUsage().heapUsed, corpusBytes]);
    }
    const [, warm, corpusWarm] = stats.heapAfterGc[0]!;
    const [, end, corpusEnd] = stats.heapAfterGc[stats.heapAfterGc.length - 1]!;
    const growth = end - warm - (corpusEnd - corpusWarm);
    const rate = Math.round((stats.inputs / stats.ms) * 1000);
    const row =
      `${name.padEnd(20)}${stats.inputs.toLocaleString('en').padStart(10)}${rate.toLocaleString('en').padStart(10)}${String(stats.outcomes.size).padStart(9)}` +
      `${String(stats.kept.size).padStart(6)}${String(stats.failures.length).padStart(6)}   ${mb(before).padStart(6)} | ${mb(warm)} | ${mb(end)} | ${mb(Math.max(stats.heapPeak, end))}   ${(growth >= 0 ? '+' : '') + mb(growth)} (corpus ${mb(corpusEnd)})` +
      (stats.inputs < INPUTS ? `   (time guard: stopped at ${stats.inputs})` : '');
    console.log(row);
    rows.push(row);
    const aes = [...stats.outcomes].filter(([k]) => /decrypted|opened|ERR_FRAME_AUTH|ERR_DECRYPT/.test(k)).reduce((s, [, n]) => s + n, 0);
    if (aes > 0) console.log(`${''.padEnd(20)}  reached AES-GCM: ${aes.toLocaleString('en')} (${((aes / stats.inputs) * 100).toFixed(0)} %)`);
    if (name.startsWith('turn-client')) {
      const top = [...stats.outcomes].filter(([k]) => /success|bind:|48\d|50\d|40\d|43\d|44\d/.test(k)).length;
      console.log(`${''.padEnd(20)}  outcomes that reached a TURN handler past authentication: ${top}`);
    }
    for (const f of stats.failures) {
      totalFailures++;
      console.log(`  ✗ ${f.kind} at input ${f.index}: ${f.message.split('\n')[0]}\n    input ${hexOf(f.input).slice(0, 200)}${f.input.length > 100 ? '…' : ''}`);
    }
    if (SAVE) {
      const n = saveCorpus(name, stats.kept, 150, 1024);
      saveFailures(name, stats);
      console.log(`${''.padEnd(20)}  corpus: ${n} inputs written`);
    }
  }
  console.log(`\n${names.length} targets in ${((Date.now() - t0) / 1000).toFixed(0)} s; failures: ${totalFailures}`);
  if (totalFailures > 0) process.exitCode = 1;
}
