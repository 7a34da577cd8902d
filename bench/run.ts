/**
 * `npm run bench`: runs every bench/*.bench.ts in turn (or those named on the
 * command line: `npm run bench -- crypto relay`). Each module exports
 * `run(): Promise<void>` and prints its own figures with the ratio to a
 * baseline measured in the same process or script (never asserted: these
 * machines are shared and noisy; a side-by-side ratio is what counts).
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

const dir = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.bench\.ts$/, '')))
  .sort();

if (files.length === 0) {
  console.error(`no benchmarks match ${wanted.join(', ')}`);
  process.exit(1);
}
for (const f of files) {
  console.log(`\n━━ ${f.replace(/\.bench\.ts$/, '')} ━━`);
  const mod = (await import(pathToFileURL(join(dir, f)).href)) as { run: () => Promise<void> };
  await mod.run();
}
