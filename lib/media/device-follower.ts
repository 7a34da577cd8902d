/**
 * Devices that change during a call (issue 12): a headset plugged in or
 * removed, a Bluetooth device coming and going, the system default moving,
 * or the person picking another microphone or speaker in the call.
 *
 * The media host listens to `navigator.mediaDevices`' `devicechange` and to
 * the `ended` event of the track in use, asks devices.ts which device the call
 * should use, and applies the answer through its host (call-media.ts):
 *   - a new microphone goes onto the same RTCRtpSender with `replaceTrack`
 *     (webrtc-pc §5.2): same transceiver, same encoded transform, same frame
 *     keys and counters, no renegotiation, so no key or SAS change;
 *   - no microphone left: silence goes onto the sender (the call stays up,
 *     muted), with a non-fatal ERR_MIC_GONE event; when one comes back it is
 *     opened and the same event with `cleared` says so;
 *   - the speaker follows with `setSinkId` on the playing element.
 * Steps run one at a time (a burst of devicechange events opens one device),
 * and nothing runs after `close`.
 */
import { decideInput, decideOutput, type InputInUse } from './devices';
import { MIC_GONE_MESSAGE } from './errors';
import { openMicrophone, openSilence, type LocalAudio } from './local-audio';
import type { MediaEvent } from './types';

/** What the follower needs from the call's engine. */
export interface DeviceHost {
  /** The microphone the call sends now; null while it sends silence. */
  inputInUse(): InputInUse | null;
  /** Put `next` on the call's sender (replaceTrack) and stop the audio it replaces. */
  useInput(next: LocalAudio): Promise<void>;
  /** The speaker in use ('' = the system default). */
  sinkId(): string;
  setSink(sinkId: string): Promise<void>;
  onEvent(e: MediaEvent): void;
}

export class DeviceFollower {
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private gone = false;
  private readonly onChange = () => void this.follow();

  constructor(
    private readonly host: DeviceHost,
    private inputChosen: string | undefined,
    private outputChosen: string | undefined,
  ) {
    navigator.mediaDevices?.addEventListener?.('devicechange', this.onChange);
  }

  /** Watch the track now on the sender: its `ended` (device unplugged) is a change too. */
  watch(track: MediaStreamTrack): void {
    track.addEventListener('ended', this.onChange, { once: true });
  }

  /** The person picked a microphone mid-call ('' or undefined: the system default). */
  setInput(deviceId: string | undefined): Promise<void> {
    this.inputChosen = deviceId || undefined;
    return this.follow();
  }

  /** The person picked a speaker mid-call ('' or undefined: the system default). */
  setOutput(deviceId: string | undefined): Promise<void> {
    this.outputChosen = deviceId || undefined;
    return this.follow();
  }

  /** Bring the call's devices in line with the list as it is now. */
  follow(): Promise<void> {
    const next = this.chain.then(() => this.step());
    this.chain = next.catch(() => {});
    return next;
  }

  close(): void {
    this.closed = true;
    navigator.mediaDevices?.removeEventListener?.('devicechange', this.onChange);
  }

  private async step(): Promise<void> {
    if (this.closed) return;
    const devices = await navigator.mediaDevices.enumerateDevices();
    if (this.closed) return;

    const input = decideInput(devices, this.inputChosen, this.host.inputInUse());
    if (input.action === 'open') {
      const opened = await openFirst(input.deviceId);
      if (this.closed) return opened?.stop();
      if (opened) {
        await this.host.useInput(opened);
        this.watch(opened.track);
        if (this.gone) {
          this.gone = false;
          this.host.onEvent({ type: 'error', code: 'ERR_MIC_GONE', message: '', fatal: false, cleared: true });
        }
      } else {
        await this.silence();
      }
    } else if (input.action === 'none') {
      await this.silence();
    }

    const output = decideOutput(devices, this.outputChosen, this.host.sinkId());
    if (output.action === 'sink') {
      await this.host.setSink(output.sinkId).catch(() =>
        this.host.onEvent({
          type: 'error',
          code: 'ERR_WEBRTC',
          message: 'The speaker could not be switched; the call plays on the previous one.',
          fatal: false,
        }),
      );
    }
  }

  private async silence(): Promise<void> {
    if (this.host.inputInUse() !== null) await this.host.useInput(openSilence());
    if (!this.gone && !this.closed) {
      this.gone = true;
      this.host.onEvent({ type: 'error', code: 'ERR_MIC_GONE', message: MIC_GONE_MESSAGE, fatal: false });
    }
  }
}

/** Open `deviceId`, else the system default; undefined when neither opens. */
async function openFirst(deviceId: string | undefined): Promise<LocalAudio | undefined> {
  try {
    return await openMicrophone(deviceId);
  } catch {
    if (!deviceId) return undefined;
  }
  try {
    return await openMicrophone();
  } catch {
    return undefined;
  }
}
