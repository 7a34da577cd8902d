// Self-test of tests/harness/truth-reporter.ts: runs vitest on the fixture project
// (tests/harness/fixtures/truth-reporter/) and checks that the flaky test is named with its first
// failure, that the steady test and the unit-layer skip are not, and that CI=true turns the e2e-layer
// skip into a failed run. If the reporter stops seeing retries or skips, these fail.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import type { Finding } from './truth-reporter';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const config = fileURLToPath(new URL('./fixtures/truth-reporter/vitest.config.ts', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'hush-truth-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function runFixture(ci: boolean, reportName: string) {
  const report = join(scratch, reportName);
  const env: NodeJS.ProcessEnv = { ...process.env, HUSH_TEST_REPORT: report, CI: ci ? 'true' : '' };
  delete env.VITEST; // the child is a fresh vitest, not a worker of this one
  const r = spawnSync(process.execPath, [join(repo, 'node_modules/vitest/vitest.mjs'), 'run', '--config', config], {
    cwd: repo, env, encoding: 'utf8', timeout: 60_000,
  });
  let findings: Finding[] = [];
  try {
    findings = readFileSync(report, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Finding);
  } catch { /* no findings written */ }
  return { status: r.status, out: `${r.stdout}\n${r.stderr}`, findings };
}

describe('truth reporter', () => {
  test('names the retried test with its first failure, and the skipped e2e test; passes without CI', () => {
    const r = runFixture(false, 'local.jsonl');
    expect(r.status, r.out).toBe(0);
    const retried = r.findings.filter((f) => f.kind === 'retried');
    expect(retried.map((f) => f.name)).toEqual(['flaky: fails the first attempt only']);
    expect(retried[0]).toMatchObject({ project: 'e2e', state: 'passed' });
    expect(retried[0]?.firstError).toContain('first attempt of the flaky fixture');
    const skipped = r.findings.filter((f) => f.kind === 'skipped');
    expect(skipped.map((f) => `${f.project}: ${f.name}`)).toEqual(['e2e: skipped: the proof that never ran']);
    expect(r.out).toContain('retried tests (1)');
    expect(r.out).toContain('first failure: first attempt of the flaky fixture: expected 1 to be 2');
  }, 60_000);

  test('under CI=true a skipped e2e test fails the run', () => {
    const r = runFixture(true, 'ci.jsonl');
    expect(r.status, r.out).toBe(1);
    expect(r.out).toContain('skipped tests (1): CI=true, a skipped proof is a failure');
    expect(r.out).toContain('✗ [e2e]');
  }, 60_000);
});
