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
 * on an element of its own and feeds the same analyser, all the time, but
 * only one of the two is audible (`hear`, chosen by play-leg.ts): while the
 * peer sends on both (the way back to a restored direct path), the person
 * hears one voice, not the same words twice. The analysers get what the
 * person hears (a gain per connection, mirroring the elements' volume); each
 * connection's own level (`legLevels`) is read before that gain.
 */
import type { Leg } from './path-switch';
import { analyse, rmsDb } from './spectrum';
import type { AudioAnalysis } from './types';

/** 8192 points at 48 kHz: 5.9 Hz bins, 171 ms of audio per analysis. */
const FFT_SIZE = 8192;
/** The largest analyser window, 683 ms at 48 kHz (levelBlocks). */
const HISTORY_SIZE = 32768;
/** Each connection's own level (legLevels): 21 ms at 48 kHz. */
const LEG_LEVEL_SIZE = 1024;

/** One connection's taps into Web Audio. */
interface Tap {
  source: MediaStreamAudioSourceNode;
  /** What is heard of it (0 or 1), before the shared analysers. */
  gain: GainNode;
  /** Its own level, before the gain. */
  level: AnalyserNode;
}

type SinkElement = HTMLAudioElement & { setSinkId?: (id: string) => Promise<void>; sinkId?: string };

export class RemotePlayback {
  private readonly element: SinkElement;
  private ctx?: AudioContext;
  private analyser?: AnalyserNode;
  private bins = new Float32Array(FFT_SIZE / 2);
  private samples = new Float32Array(FFT_SIZE);
  private stream?: MediaStream;
  /** A long time-domain window for levelBlocks. */
  private history?: AnalyserNode;
  private historySamples = new Float32Array(HISTORY_SIZE);
  private standby?: Tap & { element: SinkElement; track: MediaStreamTrack };
  /** The main connection's taps (its element is `element`). */
  private main?: Tap;
  private heard: Leg = 'main';
  private levelSamples = new Float32Array(LEG_LEVEL_SIZE);

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
    this.untap(this.main);
    this.main = this.tap(this.ctx.createMediaStreamSource(this.stream));
    this.hear(this.heard);
  }

  /** A connection's source into Web Audio: its own level meter, and through its gain to the shared analysers. */
  private tap(source: MediaStreamAudioSourceNode): Tap {
    const ctx = this.ctx!;
    this.analyser ??= Object.assign(ctx.createAnalyser(), { fftSize: FFT_SIZE, smoothingTimeConstant: 0 });
    this.history ??= Object.assign(ctx.createAnalyser(), { fftSize: HISTORY_SIZE, smoothingTimeConstant: 0 });
    const level = Object.assign(ctx.createAnalyser(), { fftSize: LEG_LEVEL_SIZE, smoothingTimeConstant: 0 });
    const gain = ctx.createGain();
    source.connect(level);
    source.connect(gain);
    gain.connect(this.analyser);
    gain.connect(this.history);
    return { source, gain, level };
  }

  private untap(t: Tap | undefined): void {
    t?.source.disconnect();
    t?.gain.disconnect();
  }

  /** Which connection the person hears (play-leg.ts); the other plays on, silent. Main when there is no standby. */
  hear(leg: Leg): void {
    this.heard = this.standby ? leg : 'main';
    const on = (l: Leg) => (this.heard === l ? 1 : 0);
    this.element.volume = on('main');
    if (this.main) this.main.gain.gain.value = on('main');
    if (this.standby) {
      this.standby.element.volume = on('standby');
      this.standby.gain.gain.value = on('standby');
    }
  }

  /** Which connection is heard now. */
  get heardLeg(): Leg {
    return this.heard;
  }

  /** Each connection's playout level now (dBFS, the last 21 ms; undefined: not playing). */
  legLevels(): { mainDb?: number; standbyDb?: number } {
    return { mainDb: this.levelOf(this.main), standbyDb: this.levelOf(this.standby) };
  }

  private levelOf(t: Tap | undefined): number | undefined {
    if (!t) return undefined;
    t.level.getFloatTimeDomainData(this.levelSamples);
    return rmsDb(this.levelSamples);
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
    this.ctx ??= new AudioContext();
    this.standby = { element, track, ...this.tap(this.ctx.createMediaStreamSource(stream)) };
    this.hear(this.heard);
  }

  detachStandby(): void {
    if (!this.standby) return;
    this.untap(this.standby);
    this.standby.element.pause();
    this.standby.element.srcObject = null;
    this.standby = undefined;
    this.hear('main');
  }

  /**
   * The level of what played in the last ~680 ms, in 10 ms blocks (dBFS, oldest first), and the
   * audio clock (s) at its end: enough to see a path switch's gap, which the 171 ms analysis window
   * smooths over, even when this page's timers run late (a reader that looks at least every ~600 ms
   * misses no block). An AnalyserNode keeps the most recent fftSize samples (Web Audio §1.8).
   */
  levelBlocks(blockMs = 10): { endTime: number; blockMs: number; db: number[] } {
    if (!this.history || !this.ctx) return { endTime: 0, blockMs, db: [] };
    const endTime = this.ctx.currentTime;
    this.history.getFloatTimeDomainData(this.historySamples);
    const n = Math.max(1, Math.round((this.ctx.sampleRate * blockMs) / 1000));
    const db: number[] = [];
    for (let start = this.historySamples.length % n; start + n <= this.historySamples.length; start += n) {
      let sum = 0;
      for (let i = start; i < start + n; i++) sum += this.historySamples[i]! * this.historySamples[i]!;
      db.push(sum > 0 ? 10 * Math.log10(sum / n) : -Infinity);
    }
    return { endTime, blockMs: (n * 1000) / this.ctx.sampleRate, db };
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
    this.untap(this.main);
    this.main = undefined;
    this.element.pause();
    this.element.srcObject = null;
    void this.ctx?.close().catch(() => {});
    this.ctx = undefined;
    this.analyser = undefined;
    this.history = undefined;
  }
}
