/**
 * Start a worker thread from a module next to this one. Run from TypeScript
 * sources (tsx), a worker does not inherit the parent's loader hooks on
 * Node 20, so it starts with a tiny bootstrap that registers tsx in the
 * worker and then imports the .ts module; from built .js it starts directly.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

export function spawnModuleWorker(name: string, workerData?: unknown): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const target = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, import.meta.url);
  if (!fromSource) return new Worker(target, { workerData });
  const api = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/index\.cjs$/, 'index.mjs')).href;
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(target.href)}); });`;
  return new Worker(code, { eval: true, execArgv: [], workerData });
}
