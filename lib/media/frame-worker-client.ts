/**
 * The page's handle on a call's frame worker: starts it, hands it the frame
 * secrets, attaches its transforms to a transceiver, and asks for counters.
 *
 * Which encoded-transform API (WebRTC Encoded Transform):
 *   - 'script': `RTCRtpScriptTransform`, the standard, wherever it exists
 *     (Chromium ≥ 141, Firefox ≥ 117, Safari). The browser runs the frames
 *     through the worker itself.
 *   - 'legacy': Chromium's `createEncodedStreams()` only where the standard is
 *     missing. Needs `encodedInsertableStreams: true` in the RTCPeerConnection
 *     config; the page transfers the stream pair to the worker.
 *
 * TRAP (lab-notes.md): both transforms must be set on the transceiver right
 * after addTrack, before any negotiation. A receiver RTCRtpScriptTransform set
 * later, inside `ontrack`, is silently bypassed by Chromium 156: the decoder
 * then gets ciphertext. `attach` is therefore called from CallMedia.create only.
 */
import { transformError } from './errors';
// Vite's `?worker` import: WXT bundles frame-worker.ts (and the crypto core) as a
// worker chunk. The `new Worker(new URL('./x.ts', import.meta.url))` form is NOT
// bundled under WXT 0.21, which defines import.meta.url as self.location.href
// (wxt-dev/wxt#2032), so Vite never sees the pattern and the worker 404s.
import FrameWorker from './frame-worker.ts?worker';
import type { FrameCounters, FrameTap, PageToWorker, RecvTick, TransformOptions, TransformSide, WorkerToPage } from './worker-protocol';
import { ZERO_COUNTERS, unhandled } from './worker-protocol';
import { tapInitField } from '../testing/hooks';

export type TransformApi = 'script' | 'legacy';

interface EncodedStreams {
  readable: ReadableStream;
  writable: WritableStream;
}
interface LegacyEndpoint {
  createEncodedStreams(): EncodedStreams;
}

const READY_TIMEOUT_MS = 5_000;
const COUNTERS_TIMEOUT_MS = 2_000;

/** The API this context offers, or undefined if it offers none (then no call can be encrypted). */
export function availableTransformApi(prefer?: TransformApi): TransformApi | undefined {
  const g = globalThis as { RTCRtpScriptTransform?: unknown; RTCRtpSender?: { prototype: object } };
  const script = typeof g.RTCRtpScriptTransform === 'function';
  const legacy = !!g.RTCRtpSender && 'createEncodedStreams' in g.RTCRtpSender.prototype;
  if (prefer === 'legacy' && legacy) return 'legacy';
  if (prefer === 'script' && script) return 'script';
  return script ? 'script' : legacy ? 'legacy' : undefined;
}

export class FrameWorkerClient {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, (c: FrameCounters) => void>();
  private readyWaiter?: { resolve: () => void; reject: (e: Error) => void };
  private closed = false;
  private last: FrameCounters = { ...ZERO_COUNTERS };
  /** The connection the current pipelines belong to (CallMedia.freshConnection). */
  private generation = 0;
  /** Test hook: the worker's frame tap as of the last counters reply. */
  tap?: FrameTap;
  /** The receive clock's ticks (watchReceive). */
  onRecv?: (tick: RecvTick) => void;

  /** `tapFrames`: a test hook (FrameTap), told to the worker before any transform is attached. */
  constructor(
    readonly api: TransformApi,
    private readonly onError: (message: string) => void,
    tapFrames?: number,
  ) {
    this.worker = new FrameWorker({ name: 'hush-frames' });
    this.worker.onmessage = (ev: MessageEvent<WorkerToPage>) => this.handle(ev.data);
    this.worker.onerror = (ev) => {
      ev.preventDefault();
      this.fail(`the frame worker crashed (${ev.message || 'no detail'})`);
    };
    const tap = tapInitField(tapFrames);
    if (tap.tapFrames) this.post({ kind: 'tap', ...tap });
  }

  private handle(msg: WorkerToPage): void {
    switch (msg.kind) {
      case 'ready':
        this.readyWaiter?.resolve();
        this.readyWaiter = undefined;
        return;
      case 'counters':
        if (msg.tap) this.tap = msg.tap;
        this.pending.get(msg.id)?.(msg.counters);
        this.pending.delete(msg.id);
        return;
      case 'recv':
        this.onRecv?.(msg);
        return;
      case 'error':
        // A pipeline of a replaced connection ending is expected, not a failure.
        if (msg.gen !== undefined && msg.gen < this.generation) return;
        this.fail(msg.message);
        return;
      default:
        unhandled(msg);
    }
  }

  private fail(message: string): void {
    if (this.closed) return;
    if (this.readyWaiter) {
      this.readyWaiter.reject(transformError(message));
      this.readyWaiter = undefined;
    } else {
      this.onError(message);
    }
  }

  private post(msg: PageToWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(msg, transfer);
  }

  /**
   * Hand both secrets to the worker (structured clone: the worker gets its own
   * copy and wipes it after import). Resolves once the worker imported them;
   * the caller then wipes its own copies.
   */
  importSecrets(sendSecret: Uint8Array, recvSecret: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(transformError('the call was closed'));
    const done = new Promise<void>((resolve, reject) => {
      this.readyWaiter = { resolve, reject };
    });
    this.post({ kind: 'init', sendSecret, recvSecret });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(transformError('the frame worker did not start')), READY_TIMEOUT_MS);
    });
    return Promise.race([done, timeout]).finally(() => clearTimeout(timer));
  }

  /**
   * Put the worker's pipelines on this transceiver's sender and receiver. Call before negotiating.
   * A standby connection's (standby.ts) runs beside the current one: it gets a negative generation
   * and does not replace the current one, so its pipelines ending (the standby closed) is no error.
   */
  attach(transceiver: RTCRtpTransceiver, generation = 0, opts: { standby?: boolean } = {}): void {
    if (!opts.standby) this.generation = generation;
    this.attachSide('send', transceiver.sender, generation);
    this.attachSide('recv', transceiver.receiver, generation);
  }

  private attachSide(side: TransformSide, endpoint: RTCRtpSender | RTCRtpReceiver, gen: number): void {
    try {
      if (this.api === 'script') {
        const options: TransformOptions = { side, gen };
        endpoint.transform = new RTCRtpScriptTransform(this.worker, options);
      } else {
        const { readable, writable } = (endpoint as unknown as LegacyEndpoint).createEncodedStreams();
        this.post({ kind: 'streams', side, gen, readable, writable }, [readable, writable]);
      }
    } catch (e) {
      throw transformError(`the ${side} transform could not be attached: ${e instanceof Error ? e.name : typeof e}`);
    }
  }

  /** Start the worker's receive clock: `onRecv` gets a tick every `everyMs` (worker-protocol.ts RecvTick). */
  watchReceive(everyMs: number): void {
    if (!this.closed) this.post({ kind: 'watch', everyMs });
  }

  /** The worker's frame counters; the last ones it reported if it does not answer in time (or after close). */
  counters(): Promise<FrameCounters> {
    if (this.closed) return Promise.resolve({ ...this.last });
    const id = this.nextId++;
    return new Promise<FrameCounters>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ ...this.last });
      }, COUNTERS_TIMEOUT_MS);
      this.pending.set(id, (c) => {
        clearTimeout(timer);
        this.last = c;
        resolve(c);
      });
      this.post({ kind: 'counters', id });
    });
  }

  terminate(): void {
    if (this.closed) return;
    this.closed = true;
    this.worker.terminate();
    this.readyWaiter?.reject(transformError('the call was closed'));
    this.readyWaiter = undefined;
    for (const resolve of this.pending.values()) resolve({ ...this.last });
    this.pending.clear();
  }
}
