/**
 * The call-progress tones Hush synthesises (no audio file ships), played with
 * Web Audio in the media host: on Chrome the offscreen document (created with
 * AUDIO_PLAYBACK for this), on Firefox the background page itself (playing
 * sound needs no microphone; media runs in the call window). So a tone plays
 * with no Hush page open (lib/background/app.ts syncRing).
 *
 * - `ringtone`: this device rings for an incoming call (and Settings.ringtone
 *   is on). Two tones, 440 + 480 Hz, the North American ring cadence: 2 s on,
 *   4 s off.
 * - `ringback`: we called and the callee's device rings (CallState.Ringing).
 *   One tone, 425 Hz, 1 s on, 4 s off: the European ringback of ETSI TR 101 041
 *   / ITU-T E.180 (Germany, Austria, Italy, Spain…). Chosen over the US
 *   440 + 480 Hz ringback because that is exactly our ringtone's sound: a
 *   person must never confuse "my device rings" with "theirs rings". It is
 *   quieter than the ringtone (it is feedback, not an alert).
 *
 * Caveat: a tone is local playback only. Its AudioContext sends to the
 * speakers (ctx.destination) and is never connected to the microphone track,
 * so the peer never hears it.
 */

export type ToneName = 'ringtone' | 'ringback';

export interface ToneSpec {
  frequenciesHz: readonly number[];
  onS: number;
  periodS: number;
  gain: number;
}

export const TONES: Record<ToneName, ToneSpec> = {
  ringtone: { frequenciesHz: [440, 480], onS: 2, periodS: 6, gain: 0.08 },
  ringback: { frequenciesHz: [425], onS: 1, periodS: 5, gain: 0.04 },
};

/** Start a tone; returns stop(). Safe to call where Web Audio is missing (does nothing). */
export function startTone(name: ToneName, onOutput?: (ctx: AudioContext, out: AudioNode) => void): () => void {
  const spec = TONES[name];
  const Ctx = globalThis.AudioContext;
  if (!Ctx) return () => {};
  const ctx = new Ctx();
  const gain = ctx.createGain();
  gain.gain.value = 0;
  gain.connect(ctx.destination);
  onOutput?.(ctx, gain);
  const oscs = spec.frequenciesHz.map((hz) => {
    const o = ctx.createOscillator();
    o.frequency.value = hz;
    o.connect(gain);
    o.start();
    return o;
  });
  // Schedule the cadence a minute ahead, and again every minute.
  const schedule = (from: number) => {
    for (let t = from; t < from + 60; t += spec.periodS) {
      gain.gain.setValueAtTime(spec.gain, t);
      gain.gain.setValueAtTime(0, t + spec.onS);
    }
  };
  schedule(ctx.currentTime);
  let next = ctx.currentTime + 60;
  const timer = setInterval(() => {
    schedule(next);
    next += 60;
  }, 55_000);
  void ctx.resume().catch(() => {});
  return () => {
    clearInterval(timer);
    for (const o of oscs) o.stop();
    void ctx.close().catch(() => {});
  };
}

/** The incoming-call ringtone; returns stop(). */
export function startRingtone(): () => void {
  return startTone('ringtone');
}
