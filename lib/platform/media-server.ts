/**
 * Serves the background's media requests inside the media host: on Chrome the
 * offscreen document (offscreen.ts; created with AUDIO_PLAYBACK too, because
 * it also plays the ringtone of an incoming call), on Firefox the call window
 * (call-window.ts; Firefox's background page may not use the microphone, and
 * rings there itself, media-port.ts), and the caller's ringback the same way
 * (lib/ui/ringtone.ts: local playback, never on the microphone track). One CallMedia per call id; byte secrets
 * arrive as number arrays and are wiped (both the arrays and the typed
 * copies) once the engine imported them.
 */
import { CallMedia } from '../media/call-media';
import { openMicrophone, type LocalAudio } from '../media/local-audio';
import type { MediaEvent } from '../media/types';
import { mediaCapabilities } from '../media/capabilities';
import type { OffscreenRequest, OffscreenResponse, WirePrestartOptions, WireStartOptions } from '../messaging/protocol';
import { unreachable } from '../messaging/protocol';
import { startTone, type ToneName } from '../ui/ringtone';
import { TEST_HOOKS, forwardMediaHooks } from '../testing/hooks';

export class MediaServer {
  private readonly calls = new Map<string, CallMedia>();
  private stopTone?: () => void;
  private playing: ToneName | null = null;
  /** Test builds only: an analyser on the tone's output, so a browser test can read its frequency. */
  toneAnalyser?: AnalyserNode;
  /** The microphone `mic-acquire` opened, kept for the next media-start (Firefox's call window). */
  private held?: LocalAudio;
  /** Calls stopped before their engine existed (a prestart in progress); kept to the last few. */
  private readonly stopped = new BoundedSet(8);

  constructor(private readonly emit: (callId: string, event: MediaEvent) => void) {}

  async handle(req: OffscreenRequest): Promise<OffscreenResponse> {
    try {
      return { ok: true, value: await this.dispatch(req) };
    } catch (e) {
      const code = (e as { code?: unknown })?.code;
      return {
        ok: false,
        code: typeof code === 'string' ? code : 'ERR_WEBRTC',
        message: e instanceof Error ? e.message : 'media failure',
      };
    }
  }

  private async dispatch(req: OffscreenRequest): Promise<unknown> {
    switch (req.kind) {
      case 'ping':
        return { kind: 'pong', nonce: req.nonce, capabilities: mediaCapabilities() };
      case 'media-start':
        return this.start(req.opts);
      case 'media-offer':
        return this.call(req.callId).createOffer(req.opts);
      case 'media-accept-offer':
        return this.call(req.callId).acceptOffer(req.sdp, { fresh: req.fresh });
      case 'media-set-answer':
        return this.call(req.callId).setAnswer(req.sdp);
      case 'media-candidate':
        return this.call(req.callId).addRemoteCandidate(req.candidate);
      case 'media-mute':
        return this.call(req.callId).setMuted(req.muted);
      case 'media-set-input':
        return this.call(req.callId).setInputDevice(req.deviceId || undefined);
      case 'media-set-output':
        return this.call(req.callId).setOutputDevice(req.deviceId || undefined);
      case 'media-stats':
        return this.calls.get(req.callId)?.stats() ?? null;
      case 'media-use-mic':
        return this.call(req.callId).useMicrophone(this.takeHeld());
      case 'media-ice-servers':
        // A renewal that crosses the call's end finds no call: nothing to update.
        this.calls.get(req.callId)?.setIceServers(req.iceServers);
        return null;
      case 'media-prestart':
        return this.prestart(req.opts);
      case 'media-keys': {
        const send = Uint8Array.from(req.sendFrameSecret);
        const recv = Uint8Array.from(req.recvFrameSecret);
        req.sendFrameSecret.fill(0);
        req.recvFrameSecret.fill(0);
        try {
          await this.call(req.callId).importKeys(send, recv);
          return null;
        } finally {
          send.fill(0);
          recv.fill(0);
        }
      }
      case 'ring':
        this.play(req.on ? (req.tone ?? 'ringtone') : null);
        return null;
      case 'mic-state':
        return micState();
      case 'mic-acquire':
        this.held?.stop();
        this.held = undefined;
        this.held = await openMicrophone(req.inputDeviceId);
        return null;
      case 'mic-release':
        this.held?.stop();
        this.held = undefined;
        return null;
      case 'media-stop': {
        this.held?.stop();
        this.held = undefined;
        const media = this.calls.get(req.callId);
        media?.close();
        this.calls.delete(req.callId);
        // A stop that overtook the prestart still being made (cancelled right after dial): it closes when made.
        if (!media) this.stopped.add(req.callId);
        return null;
      }
      default:
        return unreachable(req);
    }
  }

  /** One call at a time on a device: a stale engine (e.g. after a crash) goes first. */
  private closeAll(): void {
    for (const [id, c] of this.calls) {
      c.close();
      this.calls.delete(id);
    }
  }

  /**
   * Issue 17, the caller at dial: the call's engine without keys or microphone (CallMedia.prestart).
   * A stop for this call that came while it was being made wins: the engine is closed at once.
   */
  private async prestart(o: WirePrestartOptions): Promise<null> {
    this.closeAll();
    this.stopped.delete(o.callId);
    const media = await CallMedia.prestart(
      {
        callId: o.callId,
        role: o.role,
        iceServers: o.iceServers,
        relayOnly: o.relayOnly,
        inputDeviceId: o.inputDeviceId,
        outputDeviceId: o.outputDeviceId,
        ...forwardMediaHooks(o),
      },
      (ev) => this.emit(o.callId, ev),
    );
    if (this.stopped.delete(o.callId)) {
      media.close();
      throw Object.assign(new Error('The call has already ended. Call again to talk.'), { code: 'ERR_WEBRTC' });
    }
    this.calls.set(o.callId, media);
    return null;
  }

  private async start(o: WireStartOptions): Promise<null> {
    const send = Uint8Array.from(o.sendFrameSecret);
    const recv = Uint8Array.from(o.recvFrameSecret);
    o.sendFrameSecret.fill(0);
    o.recvFrameSecret.fill(0);
    this.closeAll();
    try {
      const media = await CallMedia.create(
        {
          callId: o.callId,
          role: o.role,
          iceServers: o.iceServers,
          relayOnly: o.relayOnly,
          sendFrameSecret: send,
          recvFrameSecret: recv,
          inputDeviceId: o.inputDeviceId,
          outputDeviceId: o.outputDeviceId,
          deferMicrophone: o.deferMicrophone,
          ...forwardMediaHooks(o),
        },
        (ev) => this.emit(o.callId, ev),
        o.deferMicrophone ? undefined : this.takeHeld(),
      );
      this.calls.set(o.callId, media);
      return null;
    } finally {
      send.fill(0);
      recv.fill(0);
    }
  }

  /** One tone at a time: the one asked for replaces the one playing; null stops it. */
  private play(tone: ToneName | null): void {
    if (tone === this.playing) return;
    this.stopTone?.();
    this.stopTone = undefined;
    this.toneAnalyser = undefined;
    this.playing = tone;
    if (!tone) return;
    const tap = TEST_HOOKS
      ? (ctx: AudioContext, out: AudioNode) => {
          this.toneAnalyser = ctx.createAnalyser();
          this.toneAnalyser.fftSize = 8192;
          out.connect(this.toneAnalyser);
        }
      : undefined;
    this.stopTone = startTone(tone, tap);
  }


  private takeHeld(): LocalAudio | undefined {
    const h = this.held;
    this.held = undefined;
    return h;
  }

  /** Whether the incoming-call ringtone plays (tests, diagnostics). */
  get ringing(): boolean {
    return this.playing === 'ringtone';
  }

  /** The tone playing now, if any (tests, diagnostics). */
  get tone(): ToneName | null {
    return this.playing;
  }

  /** The running engine, for tests and diagnostics in the media host. */
  current(): CallMedia | undefined {
    return [...this.calls.values()][0];
  }

  private call(callId: string): CallMedia {
    const c = this.calls.get(callId);
    if (!c) throw Object.assign(new Error('no media for this call'), { code: 'ERR_WEBRTC' });
    return c;
  }
}

/** 'granted' | 'denied' | 'prompt', or 'unknown' where the Permissions API cannot say. */
async function micState(): Promise<string> {
  try {
    const st = await navigator.permissions.query({ name: 'microphone' as PermissionName });
    return st.state;
  } catch {
    return 'unknown';
  }
}

/** A set that keeps only its last `max` entries (ids of calls stopped early: never grows). */
class BoundedSet {
  private readonly items: string[] = [];
  constructor(private readonly max: number) {}
  add(x: string): void {
    if (this.items.includes(x)) return;
    this.items.push(x);
    if (this.items.length > this.max) this.items.shift();
  }
  delete(x: string): boolean {
    const i = this.items.indexOf(x);
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }
}
