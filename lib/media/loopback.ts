/**
 * The audio self-test: a whole encrypted call inside one page. Two CallMedia
 * instances, caller and callee, are wired straight into each other (offer,
 * answer and candidates passed in-process, like jitsi's Context.spec and
 * simple-peer's two-peer tests), with one random frame secret per direction,
 * crossed: caller.send = callee.recv and callee.send = caller.recv.
 *
 * So the microphone goes through everything a real call uses (voice
 * processing, Opus, the frame worker's AES-GCM, RTP over ICE on this machine,
 * decryption, the decoder, playback) and a person hears themselves: the
 * product's "Audio self-test". The tests drive it through the selftest page.
 *
 * Caveat: on a machine with other interfaces, Chromium pairs those first; with
 * `loopbackOnly` only 127.0.0.1/::1 candidates are passed across (Chromium
 * needs --allow-loopback-in-peer-connection to gather them at all).
 */
import { CallMedia } from './call-media';
import { passesLoopbackFilter } from './loopback-filter';
import { MediaError } from './errors';
import type { AudioAnalysis, CallStats, MediaEvent, MediaStartOptions, Role } from './types';

export interface LoopbackOptions {
  /** Test hook: the side(s) whose receive key is corrupted (they must hear silence). */
  corruptRecvKey?: Role | 'both';
  /** Test hook: the callee sends this sine instead of the microphone, so each direction carries its own tone. */
  calleeToneHz?: number;
  /**
   * Pass only loopback candidates across. Caveat: this filters what is
   * signalled, not what ICE tries: a check from another local address still
   * reaches the peer, which learns it as prflx and may switch to it.
   */
  loopbackOnly?: boolean;
  /** ICE servers for both sides (tests: a local coturn), and privacy mode (relay only) for both. */
  iceServers?: RTCIceServer[];
  relayOnly?: boolean;
  transformApi?: MediaStartOptions['transformApi'];
  inputDeviceId?: string;
  outputDeviceId?: string;
  /** Give up if not connected within this time. */
  timeoutMs?: number;
}

export interface LoopbackTimings {
  /** createOffer called → both peer connections 'connected'. */
  connectMs: number;
}

export interface RestartTimings {
  /** createOffer({iceRestart}) → the re-answer applied on both sides. */
  negotiateMs: number;
  /** createOffer({iceRestart}) → both ICE agents connected again on the new credentials. */
  reconnectMs: number;
}

export type PerSide<T> = Record<Role, T>;

const DEFAULT_TIMEOUT_MS = 10_000;

function randomSecret(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

export class LoopbackCall {
  private constructor(
    private readonly media: PerSide<CallMedia>,
    readonly timings: LoopbackTimings,
    /** Every event each side emitted, in order (candidates carry addresses: never log them). */
    readonly events: PerSide<MediaEvent[]>,
    private readonly handedOver: Uint8Array[],
  ) {}

  /** Whether both engines wiped the secret arrays they were given (types.ts: "Wiped by the engine after import"). */
  secretsWiped(): boolean {
    return this.handedOver.length === 4 && this.handedOver.every((a) => a.length === 32 && a.every((b) => b === 0));
  }

  static async start(opts: LoopbackOptions = {}): Promise<LoopbackCall> {
    const callerToCallee = randomSecret();
    const calleeToCaller = randomSecret();
    const events: PerSide<MediaEvent[]> = { caller: [], callee: [] };
    const connected: PerSide<() => void> = { caller: () => {}, callee: () => {} };
    const failed: PerSide<(e: Error) => void> = { caller: () => {}, callee: () => {} };
    const both = Promise.all(
      (['caller', 'callee'] as const).map(
        (role) =>
          new Promise<void>((resolve, reject) => {
            connected[role] = resolve;
            failed[role] = reject;
          }),
      ),
    );
    both.catch(() => {});
    const peers: Partial<PerSide<CallMedia>> = {};
    const other = (role: Role): Role => (role === 'caller' ? 'callee' : 'caller');

    const onEvent = (role: Role) => (e: MediaEvent) => {
      events[role].push(e);
      switch (e.type) {
        case 'candidate': {
          if (opts.loopbackOnly && !passesLoopbackFilter(e.candidate)) return;
          peers[other(role)]?.addRemoteCandidate(e.candidate).catch((err: unknown) => failed[role](err as Error));
          return;
        }
        case 'state':
          if (e.connection === 'connected') connected[role]();
          if (e.connection === 'failed') failed[role](new MediaError('ERR_WEBRTC', `the ${role} could not connect`));
          return;
        case 'error':
          if (e.fatal !== false) failed[role](new MediaError(e.code, e.message));
          return;
      }
    };

    // Each engine gets its own copies (it wipes what it is given); kept to check that it did.
    const handedOver: Uint8Array[] = [];
    const handOver = (secret: Uint8Array) => {
      const copy = secret.slice();
      handedOver.push(copy);
      return copy;
    };
    const corrupt = (role: Role) => opts.corruptRecvKey === role || opts.corruptRecvKey === 'both';
    const base = {
      callId: 'selftest',
      iceServers: opts.iceServers ?? [],
      relayOnly: !!opts.relayOnly,
      transformApi: opts.transformApi,
    };
    try {
      peers.caller = await CallMedia.create(
        {
          ...base,
          role: 'caller',
          sendFrameSecret: handOver(callerToCallee),
          recvFrameSecret: handOver(calleeToCaller),
          corruptRecvKey: corrupt('caller'),
          inputDeviceId: opts.inputDeviceId,
          outputDeviceId: opts.outputDeviceId,
        },
        onEvent('caller'),
      );
      peers.callee = await CallMedia.create(
        {
          ...base,
          role: 'callee',
          sendFrameSecret: handOver(calleeToCaller),
          recvFrameSecret: handOver(callerToCallee),
          corruptRecvKey: corrupt('callee'),
          testToneHz: opts.calleeToneHz,
          inputDeviceId: opts.inputDeviceId,
          outputDeviceId: opts.outputDeviceId,
        },
        onEvent('callee'),
      );
    } catch (e) {
      peers.caller?.close();
      throw e;
    } finally {
      callerToCallee.fill(0);
      calleeToCaller.fill(0);
    }
    const { caller, callee } = peers as PerSide<CallMedia>;

    const t0 = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const offer = await caller.createOffer();
      const answer = await callee.acceptOffer(offer);
      await caller.setAnswer(answer);
      await Promise.race([
        both,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new MediaError('ERR_WEBRTC', 'The self-test call did not connect in time. Check that no firewall blocks local connections.')),
            opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (e) {
      caller.close();
      callee.close();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return new LoopbackCall({ caller, callee }, { connectMs: performance.now() - t0 }, events, handedOver);
  }

  /**
   * ICE restart, as a mid-call path change does it (design.md, "A call, end to
   * end" §4): a re-offer with fresh ICE credentials, the same CallMedia, the
   * same frame keys. Resolves when both ICE agents report connected again on
   * the new generation.
   */
  async restartIce(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<RestartTimings> {
    const { caller, callee } = this.media;
    const t0 = performance.now();
    const mark = { caller: this.events.caller.length, callee: this.events.callee.length };
    const offer = await caller.createOffer({ iceRestart: true });
    const answer = await callee.acceptOffer(offer);
    await caller.setAnswer(answer);
    const negotiateMs = performance.now() - t0;
    // After the new answer, each agent checks again: wait for a fresh 'connected'/'completed' ICE state.
    const reconnected = (role: Role) =>
      this.events[role].slice(mark[role]).some((e) => e.type === 'state' && (e.ice === 'connected' || e.ice === 'completed'));
    const deadline = t0 + timeoutMs;
    while (!(reconnected('caller') && reconnected('callee'))) {
      if (performance.now() > deadline) {
        throw new MediaError('ERR_WEBRTC', 'The self-test call did not reconnect after an ICE restart.');
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return { negotiateMs, reconnectMs: performance.now() - t0 };
  }

  async stats(): Promise<PerSide<CallStats>> {
    const [caller, callee] = await Promise.all([this.media.caller.stats(), this.media.callee.stats()]);
    return { caller, callee };
  }

  /** What each side hears from the other. */
  analyse(): PerSide<AudioAnalysis> {
    return { caller: this.media.caller.analyseRemote(), callee: this.media.callee.analyseRemote() };
  }

  setMuted(role: Role, muted: boolean): void {
    this.media[role].setMuted(muted);
  }

  /** Pick `role`'s microphone mid-call (undefined: the system default). */
  setInputDevice(role: Role, deviceId: string | undefined): Promise<void> {
    return this.media[role].setInputDevice(deviceId);
  }

  inputDevice(role: Role): { deviceId?: string; label: string } | null {
    return this.media[role].inputDevice();
  }

  stop(): void {
    this.media.caller.close();
    this.media.callee.close();
  }
}
