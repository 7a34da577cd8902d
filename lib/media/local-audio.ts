/**
 * The audio we send: the microphone, opened with the browser's voice
 * processing on (echo cancellation, noise suppression, automatic gain), or,
 * for tests only, a generated sine (MediaStartOptions.testToneHz) so each
 * direction of a loopback call can carry its own tone.
 *
 * Errors are MediaErrors with a sentence to act on (errors.ts):
 * NotAllowedError → ERR_MIC_DENIED, NotFoundError / OverconstrainedError →
 * ERR_NO_MICROPHONE.
 */
import { MediaError, microphoneError } from './errors';

export interface LocalAudio {
  stream: MediaStream;
  track: MediaStreamTrack;
  stop(): void;
}

export async function openMicrophone(deviceId?: string): Promise<LocalAudio> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new MediaError(
      'ERR_NO_MICROPHONE',
      'This browser context cannot open a microphone. Update the browser, then call again.',
    );
  }
  const audio: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
  // `exact`: a chosen device that is gone must fail (OverconstrainedError), not silently use another.
  if (deviceId) audio.deviceId = { exact: deviceId };
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio, video: false });
  } catch (e) {
    throw microphoneError(e);
  }
  const track = stream.getAudioTracks()[0];
  if (!track) {
    stream.getTracks().forEach((t) => t.stop());
    throw microphoneError({ name: 'NotFoundError' });
  }
  return { stream, track, stop: () => stream.getTracks().forEach((t) => t.stop()) };
}

/** Test hook: a sine at `hz`, −6 dBFS, as a MediaStreamTrack. */
export function openTestTone(hz: number): LocalAudio {
  const ctx = new AudioContext();
  const osc = new OscillatorNode(ctx, { type: 'sine', frequency: hz });
  const gain = new GainNode(ctx, { gain: 0.5 });
  const dest = ctx.createMediaStreamDestination();
  osc.connect(gain).connect(dest);
  osc.start();
  void ctx.resume().catch(() => {});
  const track = dest.stream.getAudioTracks()[0]!;
  return {
    stream: dest.stream,
    track,
    stop: () => {
      track.stop();
      osc.stop();
      void ctx.close().catch(() => {});
    },
  };
}
