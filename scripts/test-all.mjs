#!/usr/bin/env node
// `npm test`: every layer, in order, stopping at the first failure.
// Type check → builds (+ Firefox lint) → unit → integration → browser e2e → network lab (root only).
// At the end (pass or fail) it prints every test that needed its retry, with its first failure, and
// every skipped integration/e2e/lab test: tests/harness/truth-reporter.ts collects them into the
// file named by HUSH_TEST_REPORT. Under CI=true a skipped test of those layers fails its layer.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tsImport } from 'tsx/esm/api';

const steps = [
  ['system packages', 'bash', ['scripts/setup-system.sh']],
  ['type check', 'npm', ['run', '--silent', 'typecheck']],
  ['build (chrome)', 'npx', ['wxt', 'build']],
  ['build (firefox)', 'npx', ['wxt', 'build', '-b', 'firefox']],
  ['lint (firefox)', 'npm', ['run', '--silent', 'lint:firefox']],
  ['unit', 'npx', ['vitest', 'run', '--project', 'unit']],
  ['integration', 'npx', ['vitest', 'run', '--project', 'integration', '--passWithNoTests']],
  ['e2e', 'npx', ['vitest', 'run', '--project', 'e2e']],
];
// The network lab needs root (network namespaces, nftables); as root a broken lab fails the run.
if (process.getuid?.() === 0) {
  steps.push(['network lab', 'npx', ['vitest', 'run', '--project', 'lab']]);
  process.env.HUSH_LAB_STRICT = '1';
} else {
  console.log('network lab: skipped (needs root: sudo npm run test:lab)');
}

const scratch = mkdtempSync(join(tmpdir(), 'hush-test-all-'));
process.env.HUSH_TEST_REPORT = join(scratch, 'findings.jsonl');

/** Prints what the truth reporter saw in every layer that ran. */
async function printFindings() {
  let lines = [];
  try {
    lines = readFileSync(process.env.HUSH_TEST_REPORT, 'utf8').trim().split('\n').filter(Boolean);
  } catch { /* no layer wrote a finding */ }
  rmSync(scratch, { recursive: true, force: true });
  const { describeFindings } = await tsImport('../tests/harness/truth-reporter.ts', import.meta.url);
  const findings = lines.map((l) => JSON.parse(l));
  console.log('\n=== retried and skipped tests');
  if (findings.length === 0) console.log('none: no test needed its retry, no integration/e2e/lab test was skipped');
  else console.log(describeFindings(findings, process.env.CI === 'true').join('\n'));
}

const t0 = Date.now();
for (const [name, cmd, args] of steps) {
  const s = Date.now();
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  const secs = ((Date.now() - s) / 1000).toFixed(1);
  if (r.status !== 0) {
    console.error(`\n✗ ${name} failed (exit ${r.status ?? r.signal}) after ${secs}s`);
    await printFindings();
    process.exit(1);
  }
  console.log(`✓ ${name} (${secs}s)`);
}
await printFindings();
console.log(`\nall layers passed in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
