/**
 * Playback of the peer's audio, and a tap on it for analysis.
 *
 * The remote stream goes to two sinks at once:
 *   - an <audio> element (autoplay; setSinkId for the speaker chosen in the
 *     options), which is what the person hears;
 *   - a Web Audio MediaStreamSource → AnalyserNode, for analyseRemote().
 *
 * Chromium quirk (long-standing): a remote WebRTC stream fed only to Web
 * Audio can come out silent; attached to a media element as well,
 * it flows. So both stay attached for the life of the call, even when nobody
 * reads the analyser. The analyser is not connected to the destination:
 * the element already plays the audio, and Chromium pulls analysers anyway.
 *
 * A call with a standby path (standby.ts) has a second remote track: it plays
 * on an element of its own and feeds the same analyser, all the time. Only
 * one of the two connections carries packets at a time (path-switch.ts), so
 * what is heard is one voice, whichever path brings it.
 */
import { analyse } from './spectrum';
import type { AudioAnalysis } from './types';

/** 8192 points at 48 kHz: 5.9 Hz bins, 171 ms of audio per analysis. */
const FFT_SIZE = 8192;

type SinkElement = HTMLAudioElement & { setSinkId?: (id: string) => Promise<void>; sinkId?: string };

export class RemotePlayback {
  private readonly element: SinkElement;
  private ctx?: AudioContext;
  private analyser?: AnalyserNode;
  private source?: MediaStreamAudioSourceNode;
  private bins = new Float32Array(FFT_SIZE / 2);
  private samples = new Float32Array(FFT_SIZE);
  private stream?: MediaStream;
  private standby?: { element: SinkElement; source?: MediaStreamAudioSourceNode; track: MediaStreamTrack };

  constructor(
    private readonly outputDeviceId: string | undefined,
    private readonly onWarning: (message: string) => void,
  ) {
    this.element = new Audio() as SinkElement;
    this.element.autoplay = true;
  }

  /** Start playing `track` (idempotent for the same track). */
  attach(track: MediaStreamTrack): void {
    if (this.stream?.getTracks().includes(track)) return;
    this.stream = new MediaStream([track]);
    this.element.srcObject = this.stream;
    if (this.outputDeviceId && typeof this.element.setSinkId === 'function') {
      this.element.setSinkId(this.outputDeviceId).catch(() =>
        this.onWarning('The speaker chosen in Hush\'s options is not available; playing on the default speaker.'),
      );
    }
    this.element.play().catch(() => {
      // Autoplay refused: the element keeps srcObject and starts on the next user gesture.
      this.onWarning('The browser blocked call audio from starting; click anywhere in Hush to hear the call.');
    });

    this.ctx ??= new AudioContext();
    void this.ctx.resume().catch(() => {});
    this.source?.disconnect();
    this.source = this.ctx.createMediaStreamSource(this.stream);
    this.analyser ??= Object.assign(this.ctx.createAnalyser(), { fftSize: FFT_SIZE, smoothingTimeConstant: 0 });
    this.source.connect(this.analyser);
  }

  /** Also play the standby connection's remote track (replacing an earlier standby's). */
  attachStandby(track: MediaStreamTrack): void {
    if (this.standby?.track === track) return;
    this.detachStandby();
    const element = new Audio() as SinkElement;
    element.autoplay = true;
    const stream = new MediaStream([track]);
    element.srcObject = stream;
    const sink = this.element.sinkId;
    if (sink && typeof element.setSinkId === 'function') element.setSinkId(sink).catch(() => {});
    element.play().catch(() => {});
    this.standby = { element, track };
    this.ctx ??= new AudioContext();
    this.analyser ??= Object.assign(this.ctx.createAnalyser(), { fftSize: FFT_SIZE, smoothingTimeConstant: 0 });
    this.standby.source = this.ctx.createMediaStreamSource(stream);
    this.standby.source.connect(this.analyser);
  }

  detachStandby(): void {
    if (!this.standby) return;
    this.standby.source?.disconnect();
    this.standby.element.pause();
    this.standby.element.srcObject = null;
    this.standby = undefined;
  }

  /**
   * The level of the last `windowMs` of what plays (dBFS; −Infinity when silent or before any
   * track): short enough to see a path switch's gap, which the 171 ms analysis window smooths over.
   */
  levelDb(windowMs = 10): number {
    if (!this.analyser || !this.ctx) return -Infinity;
    this.analyser.getFloatTimeDomainData(this.samples);
    const n = Math.min(this.samples.length, Math.max(1, Math.round((this.ctx.sampleRate * windowMs) / 1000)));
    let sum = 0;
    for (let i = this.samples.length - n; i < this.samples.length; i++) sum += this.samples[i]! * this.samples[i]!;
    return sum > 0 ? 10 * Math.log10(sum / n) : -Infinity;
  }

  /** The speaker in use ('' = the system default); '' where the browser cannot choose. */
  get sinkId(): string {
    return this.element.sinkId ?? '';
  }

  /**
   * Move playback to another speaker mid-call ('' = the system default), on
   * the same element: the audio goes on, nothing is renegotiated. Rejects when
   * the device cannot be used; a no-op where the browser cannot choose.
   */
  async setSink(sinkId: string): Promise<void> {
    if (typeof this.element.setSinkId !== 'function' || this.sinkId === sinkId) return;
    await this.element.setSinkId(sinkId);
    await this.standby?.element.setSinkId?.(sinkId).catch(() => {});
  }

  /** What is playing now: dominant frequency and RMS level. Silence before any track. */
  analyse(): AudioAnalysis {
    if (!this.analyser || !this.ctx) return { frequency: 0, rmsDb: -Infinity };
    this.analyser.getFloatFrequencyData(this.bins);
    this.analyser.getFloatTimeDomainData(this.samples);
    return analyse(this.bins, this.samples, this.ctx.sampleRate);
  }

  close(): void {
    this.detachStandby();
    this.source?.disconnect();
    this.element.pause();
    this.element.srcObject = null;
    void this.ctx?.close().catch(() => {});
    this.ctx = undefined;
    this.analyser = undefined;
  }
}
