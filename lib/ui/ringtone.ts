/**
 * The ringtone: a synthesised two-tone ring (440 + 480 Hz, the North
 * American ring cadence: 2 s on, 4 s off), played with Web Audio on Chrome
 * by the media host (the offscreen document, created with AUDIO_PLAYBACK for
 * this) and on Firefox by the background page itself (playing sound needs no
 * microphone; media runs in the call window) while a call rings and Settings.ringtone is on,
 * so a call rings with no Hush page open (lib/background/app.ts syncRing).
 * No audio file ships.
 */
const TONES_HZ = [440, 480];
const ON_S = 2;
const PERIOD_S = 6;
const GAIN = 0.08;

/** Start ringing; returns stop(). Safe to call where Web Audio is missing (does nothing). */
export function startRingtone(): () => void {
  const Ctx = globalThis.AudioContext;
  if (!Ctx) return () => {};
  const ctx = new Ctx();
  const gain = ctx.createGain();
  gain.gain.value = 0;
  gain.connect(ctx.destination);
  const oscs = TONES_HZ.map((hz) => {
    const o = ctx.createOscillator();
    o.frequency.value = hz;
    o.connect(gain);
    o.start();
    return o;
  });
  // Schedule the cadence a minute ahead, and again every minute.
  const schedule = (from: number) => {
    for (let t = from; t < from + 60; t += PERIOD_S) {
      gain.gain.setValueAtTime(GAIN, t);
      gain.gain.setValueAtTime(0, t + ON_S);
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
