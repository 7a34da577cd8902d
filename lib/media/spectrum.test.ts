/**
 * spectrum.ts on what a Web Audio AnalyserNode would hand it: the test builds
 * the analyser's output the way the spec defines it (Web Audio API §1.8.3,
 * "FFT windowing and smoothing over time": Blackman window α = 0.16, FFT,
 * magnitude / N, then 20·log10), so the interpolation is checked against the
 * same window shape it meets in the browser.
 */
import { describe, expect, test } from 'vitest';
import { SILENCE_DBFS, analyse, dominantFrequency, rmsDb } from './spectrum';

const RATE = 48_000;

function sine(hz: number, n: number, amp = 0.5, phase = 0.3): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = amp * Math.sin((2 * Math.PI * hz * i) / RATE + phase);
  return out;
}

/** In-place iterative radix-2 FFT. */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k);
        const wi = Math.sin(ang * k);
        const a = i + k;
        const b = a + len / 2;
        const xr = re[b]! * wr - im[b]! * wi;
        const xi = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - xr;
        im[b] = im[a]! - xi;
        re[a] = re[a]! + xr;
        im[a] = im[a]! + xi;
      }
    }
  }
}

/** getFloatFrequencyData, per the spec, with smoothing 0. */
function analyserDb(samples: Float32Array): Float32Array {
  const n = samples.length;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  const a = 0.16;
  for (let i = 0; i < n; i++) {
    const w = (1 - a) / 2 - 0.5 * Math.cos((2 * Math.PI * i) / n) + (a / 2) * Math.cos((4 * Math.PI * i) / n);
    re[i] = samples[i]! * w;
  }
  fft(re, im);
  const out = new Float32Array(n / 2);
  for (let k = 0; k < n / 2; k++) out[k] = 20 * Math.log10(Math.hypot(re[k]!, im[k]!) / n);
  return out;
}

describe('dominantFrequency', () => {
  test.each([440, 660, 443.7, 1000, 1234.5, 3000])('%s Hz sine, 8192-point analyser: within 0.5 Hz', (hz) => {
    const s = sine(hz, 8192);
    expect(Math.abs(dominantFrequency(analyserDb(s), RATE) - hz)).toBeLessThan(0.5);
  });

  test('the interpolation matters: the raw peak bin alone is off by up to half a bin (2.9 Hz)', () => {
    // 443.7 Hz sits 0.36 bin past bin 75 (439.45 Hz): without interpolation we would say 439.5.
    const got = dominantFrequency(analyserDb(sine(443.7, 8192)), RATE);
    expect(Math.abs(got - 439.45)).toBeGreaterThan(3);
  });

  test('2048-point analyser still lands within 2 Hz', () => {
    expect(Math.abs(dominantFrequency(analyserDb(sine(440, 2048)), RATE) - 440)).toBeLessThan(2);
  });

  test('the louder of two tones wins', () => {
    const a = sine(440, 8192, 0.1);
    const b = sine(880, 8192, 0.4);
    const mix = a.map((v, i) => v + b[i]!);
    expect(Math.abs(dominantFrequency(analyserDb(mix), RATE) - 880)).toBeLessThan(0.5);
  });

  test('DC offset and rumble below 30 Hz are ignored', () => {
    const s = sine(500, 8192, 0.2).map((v, i) => v + 0.5 + 0.4 * Math.sin((2 * Math.PI * 10 * i) / RATE));
    expect(Math.abs(dominantFrequency(analyserDb(s), RATE) - 500)).toBeLessThan(0.5);
  });

  test('all −Infinity (digital silence): 0', () => {
    expect(dominantFrequency(new Float32Array(4096).fill(-Infinity), RATE)).toBe(0);
  });
});

describe('rmsDb', () => {
  test('a full-scale sine is −3.01 dBFS; half scale −9.03', () => {
    expect(rmsDb(sine(440, 48_000, 1))).toBeCloseTo(-3.0103, 2);
    expect(rmsDb(sine(440, 48_000, 0.5))).toBeCloseTo(-9.0309, 2);
  });
  test('digital silence is −Infinity; empty input too', () => {
    expect(rmsDb(new Float32Array(1024))).toBe(-Infinity);
    expect(rmsDb(new Float32Array(0))).toBe(-Infinity);
  });
});

describe('analyse', () => {
  test('a tone: its frequency and level', () => {
    const s = sine(440, 8192);
    const a = analyse(analyserDb(s), s, RATE);
    expect(Math.abs(a.frequency - 440)).toBeLessThan(0.5);
    expect(a.rmsDb).toBeCloseTo(-9.03, 1);
  });
  test(`below ${SILENCE_DBFS} dBFS the frequency is 0 (a peak in noise is not a tone)`, () => {
    const s = sine(440, 8192, 10 ** ((SILENCE_DBFS - 5) / 20));
    const a = analyse(analyserDb(s), s, RATE);
    expect(a.frequency).toBe(0);
    expect(a.rmsDb).toBeLessThan(SILENCE_DBFS);
  });
});
