/**
 * docs/testing.md includes the kit's examples verbatim: each ```ts block after
 * a heading naming a test file must equal that file, so the doc cannot drift
 * from what `npm test` runs.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, test } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const doc = readFileSync(resolve(root, 'docs/testing.md'), 'utf8');

test.each(['tests/e2e/kit-example.test.ts', 'tests/e2e/kit-relay-only.test.ts'])('docs/testing.md shows %s as it is', (file) => {
  const at = doc.indexOf(`\`${file}\``);
  expect(at, `docs/testing.md names ${file}`).toBeGreaterThanOrEqual(0);
  const m = /```ts\n([\s\S]*?)```/.exec(doc.slice(at));
  expect(m, `a ts code block after the mention of ${file}`).not.toBeNull();
  expect(m![1]).toBe(readFileSync(resolve(root, file), 'utf8'));
});
