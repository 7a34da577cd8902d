/**
 * The short fuzz run of every `npm test` (docs/hardening.md): for each
 * parser that faces the network, the committed corpus and every crash ever
 * found replay cleanly, a few thousand mutated inputs from a fixed seed find
 * nothing, and a fast-check property (random bytes, mutated seeds, or JSON
 * with hostile keys) holds. The million-input runs are `npm run bench -- fuzz`.
 *
 * HUSH_FUZZ_SEED=n explores other inputs than the fixed seed's.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { fuzz, hexOf, replay, Rng, enc, fromHex, type Failure, type FuzzTarget } from './engine';
import { loadCorpus, loadCrashes } from './corpus';
import { TARGETS } from './targets/index';
import { SPECIAL_KEYS } from './targets/_json-gen';

const BUDGET = Number(process.env.HUSH_FUZZ_UNIT_INPUTS ?? 3000);
const SEED = Number(process.env.HUSH_FUZZ_SEED ?? 20260801);
const JSON_TARGETS = new Set(['signal-server', 'signal-client', 'control']);
const JSON_KEYS = ['t', 'k', 'id', 'to', 'data', 'bundle', 'sig', 'code', 'message', 'turn', 'urls', 'sdp', 'n', 'c', 'candidate', ...SPECIAL_KEYS];

function report(failures: Failure[]): string {
  return failures.map((f) => `${f.kind} at input ${f.index}: ${f.message.split('\n')[0]}\n  input ${hexOf(f.input).slice(0, 400)}`).join('\n');
}

/** Inputs for the fast-check property: what each kind of target reads. */
function arbitrary(name: string, target: FuzzTarget): fc.Arbitrary<Uint8Array> {
  if (JSON_TARGETS.has(name)) {
    const obj = fc.dictionary(fc.constantFrom(...JSON_KEYS), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 });
    return fc.oneof(
      obj.map((o) => enc(JSON.stringify(o))),
      fc.jsonValue().map((v) => enc(JSON.stringify(v) ?? '')),
      fc.string({ unit: 'binary', maxLength: 200 }).map(enc),
    );
  }
  const edits = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 });
  const mutatedSeed = fc.tuple(fc.constantFrom(...target.seeds), edits, fc.nat()).map(([seed, es, cut]) => {
    const b = seed.slice(0, seed.length === 0 ? 0 : seed.length - (cut % Math.min(seed.length, 8)));
    for (const [at, v] of es) if (b.length) b[at % b.length] = v;
    return b;
  });
  return fc.oneof(fc.uint8Array({ maxLength: Math.min(target.maxLen, 600) }), mutatedSeed);
}

/** Each test is bounded by its input count, not by time: on a loaded 2-core machine some take >5 s. */
const BOUNDED_BY_COUNT = { timeout: 60_000 };

describe.each(Object.keys(TARGETS))('fuzz %s', (name) => {
  test('seeds, committed corpus and every crash case replay cleanly', BOUNDED_BY_COUNT, async () => {
    const target = await TARGETS[name]!();
    const corpus = loadCorpus(name);
    const crashes = loadCrashes(name);
    const failures = await replay(target, [...target.seeds, ...corpus, ...crashes.map((c) => fromHex(c.hex))]);
    expect(report(failures)).toBe('');
  });

  test(`${BUDGET} mutated and generated inputs break nothing`, BOUNDED_BY_COUNT, async () => {
    const target = await TARGETS[name]!();
    const stats = await fuzz(target, { inputs: BUDGET, seed: SEED, corpus: loadCorpus(name) });
    expect(report(stats.failures)).toBe('');
    expect(stats.inputs).toBe(BUDGET);
    // The run must reach more than one branch: a target stuck on one outcome fuzzes nothing.
    expect(stats.outcomes.size).toBeGreaterThan(2);
  });

  test('fast-check property: no input breaks an invariant', BOUNDED_BY_COUNT, async () => {
    const target = await TARGETS[name]!();
    const rng = new Rng(SEED);
    await fc.assert(
      fc.asyncProperty(arbitrary(name, target), async (input) => {
        await target.run(input, rng);
      }),
      { numRuns: 200, seed: SEED },
    );
  });
});
