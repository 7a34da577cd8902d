/**
 * What the remote audio sounds like, from a Web Audio AnalyserNode's buffers:
 * the dominant frequency (FFT peak refined by parabolic interpolation) and the
 * RMS level in dBFS. Pure functions over Float32Arrays, unit-tested in node.
 *
 * Interpolation: the AnalyserNode gives magnitudes in dB over a Blackman
 * window (Web Audio §1.8.3). Fitting a parabola through the log magnitudes of
 * the peak bin and its two neighbours (Gaussian interpolation) places a pure
 * tone's peak within a small fraction of a bin: 48 kHz / 8192 = 5.9 Hz bins
 * give well under 1 Hz of error on a clean sine.
 *
 * Below SILENCE_DBFS the frequency is reported as 0: a peak in noise or in
 * decoder comfort noise is not a tone.
 */
import type { AudioAnalysis } from './types';

/** Below this RMS level the audio counts as silence (16-bit dither sits near −100). */
export const SILENCE_DBFS = -70;
/** Ignore bins below this frequency: DC and rumble are never the tone we look for. */
export const MIN_TONE_HZ = 30;

/** RMS of time-domain samples (−1..1) in dBFS; −Infinity for digital silence. */
export function rmsDb(samples: Float32Array): number {
  if (samples.length === 0) return -Infinity;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]!;
    sum += v * v;
  }
  const rms = Math.sqrt(sum / samples.length);
  return rms > 0 ? 20 * Math.log10(rms) : -Infinity;
}

/**
 * The dominant frequency in Hz from frequency-domain magnitudes in dB
 * (`getFloatFrequencyData`: bin k is k·sampleRate/fftSize, fftSize = 2·bins).
 * 0 when no bin carries a finite magnitude.
 */
export function dominantFrequency(binsDb: Float32Array, sampleRate: number): number {
  const fftSize = binsDb.length * 2;
  const hzPerBin = sampleRate / fftSize;
  const first = Math.max(1, Math.ceil(MIN_TONE_HZ / hzPerBin));
  let peak = -1;
  let peakDb = -Infinity;
  for (let k = first; k < binsDb.length; k++) {
    const v = binsDb[k]!;
    if (v > peakDb) {
      peakDb = v;
      peak = k;
    }
  }
  if (peak < 0 || !Number.isFinite(peakDb)) return 0;
  let offset = 0;
  if (peak > 0 && peak < binsDb.length - 1) {
    const a = binsDb[peak - 1]!;
    const c = binsDb[peak + 1]!;
    const denom = a - 2 * peakDb + c;
    if (Number.isFinite(a) && Number.isFinite(c) && denom < 0) {
      offset = (0.5 * (a - c)) / denom; // vertex of the parabola through (−1,a) (0,b) (1,c)
    }
  }
  return (peak + offset) * hzPerBin;
}

/** Both measures at once, with the silence rule applied. */
export function analyse(binsDb: Float32Array, samples: Float32Array, sampleRate: number): AudioAnalysis {
  const level = rmsDb(samples);
  if (!(level > SILENCE_DBFS)) return { frequency: 0, rmsDb: level };
  return { frequency: dominantFrequency(binsDb, sampleRate), rmsDb: level };
}
