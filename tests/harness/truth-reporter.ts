/**
 * A vitest reporter that keeps the retry and skipIf escape hatches honest (issue 11, "Tests that tell
 * the truth"). It runs next to the default reporter and does two things at the end of a run:
 *
 * 1. Every test that needed a retry (`retry: 1` in the browser and lab layers) is printed by name with
 *    the message of its first failure, so a flaky test is seen instead of hidden by a green retry.
 * 2. Every skipped test of the integration, e2e and lab layers is printed by name; under `CI=true` each
 *    one is a failure (exit code 1): a CI machine runs as root with every package installed, so a
 *    `skipIf` there means the key proof (the capture test, the Firefox tests, the lab) never ran.
 *
 * When `HUSH_TEST_REPORT` names a file, each finding is also appended to it as one JSON line
 * (`Finding` below): `scripts/test-all.mjs` sets it and prints the findings of every layer at the end
 * of `npm test`. Vitest 4 API: `TestCase.diagnostic().retryCount`, `TestCase.result().errors` (the
 * errors of earlier attempts stay in the list when a retry passes).
 */
import { appendFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

/** The layers whose skips hide a proof; unit tests skip nothing that matters. */
export const STRICT_LAYERS = ['integration', 'e2e', 'lab'];

export interface Finding {
  kind: 'retried' | 'skipped';
  project: string;
  /** Path of the test file, relative to the working directory. */
  file: string;
  /** `describe > … > test` as vitest prints it. */
  name: string;
  /** For `retried`: how the last attempt ended. */
  state?: 'passed' | 'failed';
  /** For `retried`: the first failure's message (first line of it). */
  firstError?: string;
}

export function findingsOf(testModules: ReadonlyArray<TestModule>): Finding[] {
  const out: Finding[] = [];
  for (const mod of testModules) {
    for (const test of mod.children.allTests()) {
      const project = test.project.name;
      const base = { project, file: relative(process.cwd(), mod.moduleId), name: test.fullName };
      const result = test.result();
      if (result.state === 'skipped') {
        if (STRICT_LAYERS.includes(project)) out.push({ kind: 'skipped', ...base });
        continue;
      }
      const retries = test.diagnostic()?.retryCount ?? 0;
      if (retries > 0 && (result.state === 'passed' || result.state === 'failed')) {
        const first = result.errors?.[0];
        const firstError = first ? (first.message || String(first)).split('\n')[0] : '(no error recorded)';
        out.push({ kind: 'retried', ...base, state: result.state, firstError });
      }
    }
  }
  return out;
}

/** The lines printed for a list of findings (also used by `scripts/test-all.mjs`). */
export function describeFindings(findings: ReadonlyArray<Finding>, ci: boolean): string[] {
  const lines: string[] = [];
  const retried = findings.filter((f) => f.kind === 'retried');
  const skipped = findings.filter((f) => f.kind === 'skipped');
  if (retried.length > 0) {
    lines.push(`retried tests (${retried.length}): each failed once; a real fix beats a retry`);
    for (const f of retried) {
      lines.push(`  ↻ [${f.project}] ${f.file} > ${f.name} (${f.state} on retry)`);
      lines.push(`      first failure: ${f.firstError}`);
    }
  }
  if (skipped.length > 0) {
    lines.push(`skipped tests (${skipped.length})${ci ? ': CI=true, a skipped proof is a failure' : ''}`);
    for (const f of skipped) lines.push(`  ${ci ? '✗' : '-'} [${f.project}] ${f.file} > ${f.name}`);
  }
  return lines;
}

export default class TruthReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const findings = findingsOf(testModules);
    if (findings.length === 0) return;
    const ci = process.env.CI === 'true';
    const file = process.env.HUSH_TEST_REPORT;
    if (file) appendFileSync(file, findings.map((f) => JSON.stringify(f) + '\n').join(''));
    console.log('\n' + describeFindings(findings, ci).join('\n'));
    if (ci && findings.some((f) => f.kind === 'skipped')) process.exitCode = 1;
  }
}
