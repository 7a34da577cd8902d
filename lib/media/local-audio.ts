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
  /** Silence standing in for a microphone that went away (openSilence). */
  silent?: boolean;
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

/**
 * Silence as a track, for a call whose last microphone went away: the sender
 * keeps sending (silent) encrypted frames, so the peer's stall watch does not
 * take the quiet for a dead path, and a microphone that comes back replaces it
 * on the same sender (device-follower.ts).
 */
export function openSilence(): LocalAudio {
  const ctx = new AudioContext();
  const dest = ctx.createMediaStreamDestination();
  // A constant source at zero gain keeps the graph running (a destination with no input may idle).
  const src = new ConstantSourceNode(ctx, { offset: 0 });
  src.connect(dest);
  src.start();
  void ctx.resume().catch(() => {});
  const track = dest.stream.getAudioTracks()[0]!;
  return {
    stream: dest.stream,
    track,
    silent: true,
    stop: () => {
      track.stop();
      src.stop();
      void ctx.close().catch(() => {});
    },
  };
}
