/**
 * The audio gap a person hears, measured on the remote audio the media host
 * plays (not from stats): inside the offscreen document, a timer reads the
 * level of the last 10 ms of playout (CallMedia.remoteLevelDb, reached through
 * the `hushMediaServer` test hook) every ~10 ms and keeps (time, level) pairs;
 * `stopLevelWatch` returns them and `longestSilence` finds the longest stretch
 * below the threshold between two audible samples.
 *
 * A tone at -9 dBFS (audio.ts makeTone) reads far above LOUD_DB; concealment
 * fades out within a few tens of ms, then silence or comfort noise reads far
 * below. Caveat: the samples carry their own timestamps, but a timer that
 * fires late (a loaded machine) leaves audio between two samples unseen, so it
 * counts as a gap of its lateness: the figure is an upper bound.
 */
import type { HushSide } from './hush';

/** Above this, the tone is heard. */
export const LOUD_DB = -30;
const SAMPLE_MS = 10;

interface Watch {
  samples: [number, number][];
  timer: ReturnType<typeof setInterval>;
}

export async function startLevelWatch(side: HushSide): Promise<void> {
  const off = await side.hb.offscreen();
  await off.evaluate((every) => {
    type Server = { current(): { remoteLevelDb(): number } | undefined };
    const g = globalThis as unknown as { hushMediaServer?: Server; hushLevelWatch?: Watch };
    if (g.hushLevelWatch) clearInterval(g.hushLevelWatch.timer);
    const samples: [number, number][] = [];
    const timer = setInterval(() => {
      const m = g.hushMediaServer?.current();
      samples.push([Date.now(), m ? m.remoteLevelDb() : -Infinity]);
    }, every);
    g.hushLevelWatch = { samples, timer };
  }, SAMPLE_MS);
}

/** Stop the watch; its samples as (ms since the epoch, dBFS or null for silence). */
export async function stopLevelWatch(side: HushSide): Promise<[number, number | null][]> {
  const off = await side.hb.offscreen();
  return off.evaluate(() => {
    const g = globalThis as unknown as { hushLevelWatch?: Watch };
    const w = g.hushLevelWatch;
    if (!w) return [];
    clearInterval(w.timer);
    g.hushLevelWatch = undefined;
    return w.samples.map(([t, db]) => [t, Number.isFinite(db) ? db : null] as [number, number | null]);
  });
}

export interface Silence {
  /** The longest time between two audible samples (ms), less one sample interval: 0 when none was missed. */
  gapMs: number;
  /** The last audible sample before it, and the first after (ms since the epoch). */
  from?: number;
  to?: number;
  /** Samples taken, and of them audible. */
  samples: number;
  audible: number;
}

export function longestSilence(samples: [number, number | null][], loudDb = LOUD_DB): Silence {
  let last: number | undefined;
  const out: Silence = { gapMs: 0, samples: samples.length, audible: 0 };
  for (const [t, db] of samples) {
    if (db === null || db < loudDb) continue;
    out.audible++;
    if (last !== undefined) {
      const gap = t - last - SAMPLE_MS;
      if (gap > out.gapMs) Object.assign(out, { gapMs: gap, from: last, to: t });
    }
    last = t;
  }
  return out;
}
