/**
 * A live microphone level for the options page's meter: the RMS of the
 * selected input through a Web Audio analyser, 0..1, updated every frame.
 * The stream stops when the page hides the meter or unmounts, which
 * releases the microphone.
 */
import { useEffect, useState } from 'preact/hooks';

export function useMicLevel(on: boolean, deviceId?: string): number {
  const [level, setLevel] = useState(0);
  useEffect(() => {
    if (!on) return;
    let stopped = false;
    let stream: MediaStream | undefined;
    let ctx: AudioContext | undefined;
    let raf = 0;
    (async () => {
      stream = await navigator.mediaDevices.getUserMedia({ audio: deviceId ? { deviceId: { exact: deviceId } } : true });
      if (stopped) return stream.getTracks().forEach((t) => t.stop());
      ctx = new AudioContext();
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 1024;
      ctx.createMediaStreamSource(stream).connect(analyser);
      const buf = new Float32Array(analyser.fftSize);
      const tick = () => {
        analyser.getFloatTimeDomainData(buf);
        let sum = 0;
        for (const v of buf) sum += v * v;
        // RMS, scaled so normal speech sits mid-meter.
        setLevel(Math.min(1, Math.sqrt(sum / buf.length) * 2));
        raf = requestAnimationFrame(tick);
      };
      tick();
    })().catch(() => setLevel(0));
    return () => {
      stopped = true;
      cancelAnimationFrame(raf);
      stream?.getTracks().forEach((t) => t.stop());
      void ctx?.close().catch(() => {});
    };
  }, [on, deviceId]);
  return level;
}
