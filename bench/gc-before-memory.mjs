// Preloaded into a relay under a bench (gc-before-memory.ts says why): every
// memory reading runs a full GC first. Needs --expose-gc. The relay reads its
// heap with v8.getHeapStatistics() and its RSS with process.memoryUsage.rss()
// (metrics.ts safeMemory), process.memoryUsage() elsewhere: all three collect.
import v8 from 'node:v8';
import { syncBuiltinESMExports } from 'node:module';

const memoryUsage = process.memoryUsage;
const rss = memoryUsage.rss;
const heapStatistics = v8.getHeapStatistics;
const collected = () => {
  globalThis.gc?.();
  return memoryUsage.call(process);
};
collected.rss = rss;
process.memoryUsage = collected;
v8.getHeapStatistics = () => {
  // Twice: what the first collection's finalizers let go is freed by the second.
  globalThis.gc?.();
  globalThis.gc?.();
  return heapStatistics();
};
// `import { getHeapStatistics } from 'node:v8'` sees the replacement only after this.
syncBuiltinESMExports();
