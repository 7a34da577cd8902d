/**
 * The audio gap a person hears, measured on the remote audio the media host
 * plays (not from stats). Inside the offscreen document, a timer asks the
 * running call (the `hushMediaServer` test hook) for the level of the last
 * ~680 ms of playout in 10 ms blocks (CallMedia.remoteLevelBlocks), stamped
 * with the audio clock; blocks are merged by audio time, so a timer that
 * runs late on a loaded machine loses nothing unless it is later than the
 * window (then the blocks it missed are counted as `unseenMs`, never as
 * sound). `longestSilence` finds the longest run of blocks below LOUD_DB
 * between two audible ones.
 *
 * A tone at −6 dBFS (audio.ts makeTone) reads far above LOUD_DB; concealment
 * fades out within a few tens of ms, then silence or comfort noise reads far
 * below it.
 */
import type { HushSide } from './hush';

/** Above this, the tone is heard. */
export const LOUD_DB = -30;
const SAMPLE_MS = 50;

interface Blocks {
  endTime: number;
  blockMs: number;
  db: number[];
}
interface Watch {
  blocks: Map<number, number | null>;
  blockMs: number;
  timer: ReturnType<typeof setInterval>;
}

export async function startLevelWatch(side: HushSide): Promise<void> {
  const off = await side.hb.offscreen();
  await off.evaluate((every) => {
    type Server = { current(): { remoteLevelBlocks(): Blocks } | undefined };
    const g = globalThis as unknown as { hushMediaServer?: Server; hushLevelWatch?: Watch };
    if (g.hushLevelWatch) clearInterval(g.hushLevelWatch.timer);
    const w: Watch = { blocks: new Map(), blockMs: 10, timer: 0 as unknown as ReturnType<typeof setInterval> };
    // No named function in here: a runner that keeps names (tsx, for the benches) would call a helper the page lacks.
    // The first reading comes one period in; its window (~680 ms) reaches back past the start.
    w.timer = setInterval(() => {
      const b = g.hushMediaServer?.current()?.remoteLevelBlocks();
      if (!b || !b.db.length) return;
      w.blockMs = b.blockMs;
      const last = Math.round((b.endTime * 1000) / b.blockMs);
      b.db.forEach((db, i) => w.blocks.set(last - (b.db.length - 1 - i), Number.isFinite(db) ? db : null));
    }, every);
    g.hushLevelWatch = w;
  }, SAMPLE_MS);
}

/** Stop the watch; its blocks in audio-time order as [block index, dBFS or null for silence], and the block length. */
export async function stopLevelWatch(side: HushSide): Promise<{ blockMs: number; blocks: [number, number | null][] }> {
  const off = await side.hb.offscreen();
  return off.evaluate(() => {
    const g = globalThis as unknown as { hushLevelWatch?: Watch };
    const w = g.hushLevelWatch;
    if (!w) return { blockMs: 10, blocks: [] };
    clearInterval(w.timer);
    g.hushLevelWatch = undefined;
    return { blockMs: w.blockMs, blocks: [...w.blocks.entries()].sort((x, y) => x[0] - y[0]) };
  });
}

/**
 * The blocks seen since the last drain, the watch running on: for a long call read in slices (the
 * soak). The blocks from the last audible one on stay for the next drain, so a silence that spans
 * two slices is measured whole (a block seen twice changes no gap).
 */
export async function drainLevelWatch(side: HushSide): Promise<{ blockMs: number; blocks: [number, number | null][] }> {
  const off = await side.hb.offscreen();
  return off.evaluate((loudDb) => {
    const g = globalThis as unknown as { hushLevelWatch?: Watch };
    const w = g.hushLevelWatch;
    if (!w) return { blockMs: 10, blocks: [] };
    const blocks = [...w.blocks.entries()].sort((x, y) => x[0] - y[0]);
    let lastLoud = blocks.length - 1;
    while (lastLoud > 0 && !(blocks[lastLoud]![1] !== null && blocks[lastLoud]![1]! >= loudDb)) lastLoud--;
    for (const [k] of blocks.slice(0, Math.max(0, lastLoud))) w.blocks.delete(k);
    return { blockMs: w.blockMs, blocks };
  }, LOUD_DB);
}

export interface Silence {
  /** The longest silence between two audible blocks (ms): 0 when none was missed. */
  gapMs: number;
  /** Blocks seen, and of them audible. */
  blocks: number;
  audible: number;
  /** Audio time no reading covered (ms): a timer later than the window. Not counted as silence. */
  unseenMs: number;
  blockMs: number;
  /** The block (audio time / blockMs) where the longest silence began; absent when there was none. */
  gapAtBlock?: number;
}

export function longestSilence(w: { blockMs: number; blocks: [number, number | null][] }, loudDb = LOUD_DB): Silence {
  const out: Silence = { gapMs: 0, blocks: w.blocks.length, audible: 0, unseenMs: 0, blockMs: w.blockMs };
  let lastLoud: number | undefined;
  let unseenSince = 0;
  let prev: number | undefined;
  for (const [k, db] of w.blocks) {
    if (prev !== undefined && k - prev > 1) {
      out.unseenMs += (k - prev - 1) * w.blockMs;
      unseenSince += k - prev - 1;
    }
    prev = k;
    if (db === null || db < loudDb) continue;
    out.audible++;
    const gap = lastLoud === undefined ? 0 : (k - lastLoud - 1 - unseenSince) * w.blockMs;
    if (gap > out.gapMs) {
      out.gapMs = gap;
      out.gapAtBlock = lastLoud! + 1;
    }
    lastLoud = k;
    unseenSince = 0;
  }
  out.gapMs = Math.round(out.gapMs);
  out.unseenMs = Math.round(out.unseenMs);
  return out;
}
