import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

// The layers of design.md, "How the work is tested": unit, integration, e2e, network lab.
// Browser and socket layers run one file at a time: these machines have 2 cores.
// Browser and lab tests get one retry: on a shared 2-core machine a browser can
// miss a timing now and then; a real failure fails twice and still fails the run.
// tests/harness/truth-reporter.ts prints every retried test with its first failure, and every
// skipped integration/e2e/lab test (a failure under CI=true), so neither hides a broken proof.
export default defineConfig({
  resolve: { alias: { '@': root } },
  test: {
    reporters: ['default', './tests/harness/truth-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['lib/**/*.test.ts', 'components/**/*.test.ts?(x)', 'relay-server/**/*.test.ts', 'tests/fuzz/**/*.test.ts', 'tests/harness/**/*.test.ts', 'testkit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          retry: 1,
        },
      },
      {
        extends: true,
        test: {
          // Network namespaces + NAT + Chromium: root only (docs/lab.md).
          name: 'lab',
          include: ['tests/lab/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          retry: 1,
        },
      },
    ],
  },
});
