// Self-test of tests/harness/truth-reporter.ts. One real vitest run of the fixture project
// (tests/harness/fixtures/truth-reporter/: a flaky, a steady and a skipped e2e test, a skipped unit
// test) under CI=true: the flaky test must be named with its first failure, the e2e skip must fail
// the run, the steady test and the unit skip must not be named. Then, in process, the same findings
// without CI: printed, but the exit code is left alone. If the reporter stops seeing retries or
// skips, these fail.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test, vi } from 'vitest';
import type { TestModule } from 'vitest/node';
import TruthReporter, { type Finding } from './truth-reporter';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const config = fileURLToPath(new URL('./fixtures/truth-reporter/vitest.config.ts', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'hush-truth-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('truth reporter', () => {
  test('under CI=true: names the retried test with its first failure; a skipped e2e test fails the run', () => {
    const report = join(scratch, 'ci.jsonl');
    const env: NodeJS.ProcessEnv = { ...process.env, HUSH_TEST_REPORT: report, CI: 'true' };
    delete env.VITEST; // the child is a fresh vitest, not a worker of this one
    const r = spawnSync(process.execPath, [join(repo, 'node_modules/vitest/vitest.mjs'), 'run', '--config', config], {
      cwd: repo, env, encoding: 'utf8', timeout: 60_000,
    });
    const out = `${r.stdout}\n${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, ''); // without colours
    expect(r.status, out).toBe(1);
    expect(out).toMatch(/Tests\s+3 passed \| 2 skipped/); // the fixture's tests passed: only the skip failed the run

    const findings = readFileSync(report, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Finding);
    const retried = findings.filter((f) => f.kind === 'retried');
    expect(retried.map((f) => f.name)).toEqual(['flaky: fails the first attempt only']);
    expect(retried[0]).toMatchObject({ project: 'e2e', state: 'passed' });
    expect(retried[0]?.firstError).toContain('first attempt of the flaky fixture');
    const skipped = findings.filter((f) => f.kind === 'skipped');
    expect(skipped.map((f) => `${f.project}: ${f.name}`)).toEqual(['e2e: skipped: the proof that never ran']);

    expect(out).toContain('retried tests (1)');
    expect(out).toContain('first failure: first attempt of the flaky fixture: expected 1 to be 2');
    expect(out).toContain('skipped tests (1): CI=true, a skipped proof is a failure');
    expect(out).toContain('✗ [e2e] tests/harness/fixtures/truth-reporter/e2e.fixture.ts > skipped: the proof that never ran');
  }, 60_000);

  test('without CI: a skipped e2e test is printed, not failed', () => {
    const skippedTest = {
      fullName: 'a skipped proof',
      project: { name: 'e2e' },
      result: () => ({ state: 'skipped' }),
      diagnostic: () => undefined,
    };
    const mod = { moduleId: join(repo, 'tests/e2e/x.test.ts'), children: { allTests: () => [skippedTest] } } as unknown as TestModule;
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const env = { CI: process.env.CI, HUSH_TEST_REPORT: process.env.HUSH_TEST_REPORT, exitCode: process.exitCode };
    try {
      delete process.env.CI;
      delete process.env.HUSH_TEST_REPORT;
      new TruthReporter().onTestRunEnd([mod]);
      expect(process.exitCode).toBe(env.exitCode);
      expect(log.mock.calls.flat().join('\n')).toContain('- [e2e] tests/e2e/x.test.ts > a skipped proof');
    } finally {
      log.mockRestore();
      if (env.CI !== undefined) process.env.CI = env.CI;
      if (env.HUSH_TEST_REPORT !== undefined) process.env.HUSH_TEST_REPORT = env.HUSH_TEST_REPORT;
      process.exitCode = env.exitCode;
    }
  });
});
