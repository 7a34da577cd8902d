#!/usr/bin/env node
// `npm test`: every layer, in order, stopping at the first failure.
// Type check → unit → build → integration → browser e2e → network lab (root only).
import { spawnSync } from 'node:child_process';

const steps = [
  ['system packages', 'bash', ['scripts/setup-system.sh']],
  ['type check', 'npm', ['run', '--silent', 'typecheck']],
  ['unit', 'npx', ['vitest', 'run', '--project', 'unit']],
  ['build (chrome)', 'npx', ['wxt', 'build']],
  ['build (firefox)', 'npx', ['wxt', 'build', '-b', 'firefox']],
  ['integration', 'npx', ['vitest', 'run', '--project', 'integration', '--passWithNoTests']],
  ['e2e', 'npx', ['vitest', 'run', '--project', 'e2e']],
];

const t0 = Date.now();
for (const [name, cmd, args] of steps) {
  const s = Date.now();
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  const secs = ((Date.now() - s) / 1000).toFixed(1);
  if (r.status !== 0) {
    console.error(`\n✗ ${name} failed (exit ${r.status ?? r.signal}) after ${secs}s`);
    process.exit(1);
  }
  console.log(`✓ ${name} (${secs}s)`);
}
console.log(`\nall layers passed in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
