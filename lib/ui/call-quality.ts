/**
 * The call screen's quality slot, from the media host's counters (`call-stats`):
 * every few seconds, compare with the previous sample. Frames arriving and none
 * dropped: good; some dropped (under 5 %) or a gap over 400 ms: fair; nothing
 * arrived, or 5 % or more dropped: poor. A first guess the UI can show now;
 * round-trip time and packet loss from the background would make it better.
 */
import { useEffect, useState } from 'preact/hooks';
import { request } from './client';

export type Quality = 'good' | 'fair' | 'poor';

export interface QualitySample {
  packetsReceived: number;
  frames: { decrypted: number; dropped: number; longestGapMs?: number };
}

export function qualityBetween(prev: QualitySample, next: QualitySample): Quality {
  const packets = next.packetsReceived - prev.packetsReceived;
  const decrypted = next.frames.decrypted - prev.frames.decrypted;
  const dropped = next.frames.dropped - prev.frames.dropped;
  if (packets <= 0 || decrypted <= 0) return 'poor';
  const lossy = dropped / (decrypted + dropped);
  if (lossy >= 0.05) return 'poor';
  const gapGrew = (next.frames.longestGapMs ?? 0) > (prev.frames.longestGapMs ?? 0) && (next.frames.longestGapMs ?? 0) > 400;
  if (dropped > 0 || gapGrew) return 'fair';
  return 'good';
}

const EVERY_MS = 3000;

/** The latest quality while `on` (the call is connected); undefined until two samples exist. */
export function useCallQuality(on: boolean): Quality | undefined {
  const [quality, setQuality] = useState<Quality>();
  useEffect(() => {
    if (!on) {
      setQuality(undefined);
      return;
    }
    let prev: QualitySample | null = null;
    let stopped = false;
    const sample = async () => {
      const s = await request<QualitySample | null>('call-stats').catch(() => null);
      if (stopped || !s?.frames) return;
      if (prev) setQuality(qualityBetween(prev, s));
      prev = s;
    };
    void sample();
    const i = setInterval(() => void sample(), EVERY_MS);
    return () => {
      stopped = true;
      clearInterval(i);
    };
  }, [on]);
  return quality;
}
