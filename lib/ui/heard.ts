/**
 * The call screen's "Hearing" line: what the playout sounds like now (dominant
 * frequency and level of the remote audio), from the media host's `call-stats`
 * (`heard`), sampled every second while the call is connected.
 *
 * Caveat: the level crosses the message boundary as JSON, so digital silence
 * (−Infinity dBFS) arrives as null; null means silent here.
 */
import { useEffect, useState } from 'preact/hooks';
import { request } from './client';

export interface Heard {
  /** Dominant frequency in Hz, 0 when silent. */
  frequency: number;
  /** RMS level in dBFS, null when silent. */
  rmsDb: number | null;
}

const EVERY_MS = 1000;

/** The latest reading while `on`; undefined before the first one. */
export function useHeard(on: boolean): Heard | undefined {
  const [heard, setHeard] = useState<Heard>();
  useEffect(() => {
    if (!on) {
      setHeard(undefined);
      return;
    }
    let stopped = false;
    const sample = async () => {
      const s = await request<{ heard?: { frequency: number | null; rmsDb: number | null } } | null>('call-stats').catch(() => null);
      if (stopped || !s?.heard) return;
      const db = s.heard.rmsDb;
      setHeard({ frequency: s.heard.frequency ?? 0, rmsDb: typeof db === 'number' && Number.isFinite(db) ? db : null });
    };
    void sample();
    const i = setInterval(() => void sample(), EVERY_MS);
    return () => {
      stopped = true;
      clearInterval(i);
    };
  }, [on]);
  return heard;
}
