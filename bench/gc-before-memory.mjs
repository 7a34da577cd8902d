// Preloaded into a relay under a bench (gc-before-memory.ts says why): every
// process.memoryUsage() runs a full GC first. Needs --expose-gc.
const memoryUsage = process.memoryUsage;
const collected = () => {
  globalThis.gc?.();
  return memoryUsage.call(process);
};
collected.rss = memoryUsage.rss;
process.memoryUsage = collected;
