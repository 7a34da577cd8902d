/**
 * For benches only: makes the relay under measurement report its memory
 * after a full GC, so the heap figures of /metrics are live data, not
 * garbage waiting for a collection. The relay itself never forces a GC
 * (style.md §14: shipped code carries no bench hooks); a bench starts it
 * with `nodeArgs: GC_BEFORE_MEMORY`, which preloads gc-before-memory.mjs
 * (next to this file) into the relay's process.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const GC_BEFORE_MEMORY: string[] = [
  '--expose-gc',
  '--import',
  pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'gc-before-memory.mjs')).href,
];
