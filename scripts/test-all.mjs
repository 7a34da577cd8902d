#!/usr/bin/env node
// `npm test`: every layer, in order, stopping at the first failure.
// Type check → builds (+ Firefox lint) → unit → integration → browser e2e → network lab (root only).
import { spawnSync } from 'node:child_process';

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
