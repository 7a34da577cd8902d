/**
 * Audio for browser tests: known tones to feed Chromium's fake microphone
 * (--use-file-for-fake-audio-capture), and robust readings of what a page
 * hears (medians over repeated analyses, so one glitchy 170 ms window does
 * not decide a test).
 *
 * Tones are made by sox (Debian package `sox`): 48 kHz, mono, 16-bit, −6 dBFS
 * peak, as lab-notes.md describes; speech with pauses by espeak-ng and sox
 * (makeSpeech). Chromium loops the file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './wait';
import { median } from './median';

export interface AudioReading {
  /** Dominant frequency in Hz, 0 for silence. */
  frequency: number;
  /** RMS in dBFS; −Infinity for digital silence. */
  rmsDb: number;
}

let toneDir: string | undefined;

/** A WAV file holding a sine of `freqHz` for `seconds` (cached per process). Needs sox. */
export function makeTone(freqHz: number, seconds = 30): string {
  toneDir ??= mkdtempSync(join(tmpdir(), 'hush-tones-'));
  const path = join(toneDir, `tone-${freqHz}hz-${seconds}s.wav`);
  if (existsSync(path)) return path;
  try {
    execFileSync('sox', ['-n', '-r', '48000', '-c', '1', '-b', '16', path, 'synth', String(seconds), 'sine', String(freqHz), 'vol', '0.5'], {
      stdio: 'pipe',
    });
  } catch (e) {
    throw new Error(`sox failed to make a ${freqHz} Hz tone (apt-get install -y sox): ${(e as Error).message}`);
  }
  return path;
}

/**
 * A WAV of speech with pauses of digital silence between the sentences, for the fake microphone
 * (cached per process): each sentence spoken by espeak-ng (Debian package `espeak-ng`), resampled
 * by sox to 48 kHz mono 16-bit and peak-normalised to −3 dBFS, then `pauseSec` of zeros. Chromium
 * loops the file, so the pattern repeats for the whole call.
 */
export function makeSpeech(sentences: string[], pauseSec: number): string {
  toneDir ??= mkdtempSync(join(tmpdir(), 'hush-tones-'));
  const path = join(toneDir, `speech-${sentences.length}-${pauseSec}s.wav`);
  if (existsSync(path)) return path;
  const parts = sentences.map((text, i) => {
    const raw = join(toneDir!, `sentence-${i}-raw.wav`);
    const part = join(toneDir!, `sentence-${i}.wav`);
    try {
      execFileSync('espeak-ng', ['-v', 'en', '-s', '150', '-w', raw, text], { stdio: 'pipe' });
    } catch (e) {
      throw new Error(`espeak-ng failed (apt-get install -y espeak-ng): ${(e as Error).message}`);
    }
    execFileSync('sox', [raw, '-r', '48000', '-c', '1', '-b', '16', part, 'norm', '-3', 'pad', '0', String(pauseSec)], { stdio: 'pipe' });
    return part;
  });
  execFileSync('sox', [...parts, path], { stdio: 'pipe' });
  return path;
}

/** JSON turns −Infinity into null on its way out of the page; turn it back. */
export function normaliseReading(r: { frequency: number | null; rmsDb: number | null }): AudioReading {
  return { frequency: r.frequency ?? 0, rmsDb: r.rmsDb ?? -Infinity };
}

export interface SampleOptions {
  samples?: number;
  intervalMs?: number;
}

/**
 * Call `read` `samples` times, `intervalMs` apart, and return the median
 * frequency and level (each over all readings).
 */
export async function medianReading(
  read: () => Promise<AudioReading>,
  { samples = 9, intervalMs = 120 }: SampleOptions = {},
): Promise<AudioReading & { readings: AudioReading[] }> {
  const readings: AudioReading[] = [];
  for (let i = 0; i < samples; i++) {
    if (i > 0) await sleep(intervalMs); // intent: readings spread over time, so the median spans it
    readings.push(await read());
  }
  return {
    frequency: median(readings.map((r) => r.frequency)),
    rmsDb: median(readings.map((r) => r.rmsDb)),
    readings,
  };
}

/** Poll `read` until `ok` holds for a median over a short window, or time out; returns the last median. */
export async function waitForReading(
  read: () => Promise<AudioReading>,
  ok: (r: AudioReading) => boolean,
  { timeoutMs = 8_000, ...opts }: SampleOptions & { timeoutMs?: number } = {},
): Promise<AudioReading & { readings: AudioReading[] }> {
  const deadline = Date.now() + timeoutMs;
  let last = await medianReading(read, { samples: 5, intervalMs: 100, ...opts });
  while (!ok(last) && Date.now() < deadline) {
    last = await medianReading(read, { samples: 5, intervalMs: 100, ...opts });
  }
  return last;
}
