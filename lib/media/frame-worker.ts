/**
 * The frame worker: one dedicated worker per call runs both frame pipelines
 * (frame-transform.ts), off the page's main thread, with keys the page never
 * keeps (W3C WebRTC Encoded Transform, §4 RTCRtpScriptTransform).
 *
 * Frames reach it one of two ways:
 *   - `rtctransform` events (RTCRtpScriptTransform: Chromium, Firefox,
 *     Safari), whose `transformer.options` is a TransformOptions naming the side;
 *   - a `streams` message carrying the readable/writable pair of the legacy
 *     `createEncodedStreams()` (old Chromium only), transferred by the page.
 *
 * Secrets arrive once in `init`; they are imported as non-extractable keys,
 * the received bytes are wiped in `finally`, and only then does the worker
 * answer `ready` (the page then wipes its own copies). `init` may come after
 * the transforms are attached (a caller's connection made at dial, issue 17):
 * until the keys exist every frame waits for them (FramePipelines' `ready`),
 * none is passed on in clear.
 *
 * Caveat: the DOM lib the project compiles against has no worker-scope
 * encoded-transform types, so the few used here are declared locally.
 */
import { FrameDecryptor, FrameEncryptor } from '../crypto/frame-cipher';
import { FramePipelines, type EncodedFrameLike, type FrameCiphers } from './frame-transform';
import { workerTapFrames } from '../testing/hooks';
import {
  isTransformOptions,
  RUN_GAP_MS,
  unhandled,
  type PageToWorker,
  type TransformSide,
  type WorkerToPage,
} from './worker-protocol';

interface ScriptTransformer {
  readonly readable: ReadableStream<EncodedFrameLike>;
  readonly writable: WritableStream<EncodedFrameLike>;
  readonly options: unknown;
}

interface FrameWorkerScope {
  onmessage: ((ev: MessageEvent<PageToWorker>) => void) | null;
  onrtctransform: ((ev: { transformer: ScriptTransformer }) => void) | null;
  postMessage(msg: WorkerToPage): void;
}

const scope = globalThis as unknown as FrameWorkerScope;

let resolveCiphers!: (c: FrameCiphers) => void;
let rejectCiphers!: (e: unknown) => void;
const ready = new Promise<FrameCiphers>((res, rej) => {
  resolveCiphers = res;
  rejectCiphers = rej;
});
ready.catch(() => {}); // reported through an `error` message; pipelines then stall, never pass clear frames
let pipelines = new FramePipelines(ready);

function post(msg: WorkerToPage): void {
  scope.postMessage(msg);
}

async function importSecrets(sendSecret: Uint8Array, recvSecret: Uint8Array): Promise<void> {
  try {
    const [encryptor, decryptor] = await Promise.all([
      FrameEncryptor.create(sendSecret),
      FrameDecryptor.create(recvSecret),
    ]);
    resolveCiphers({ encryptor, decryptor });
    post({ kind: 'ready' });
  } catch (e) {
    rejectCiphers(e);
    post({ kind: 'error', message: `frame keys could not be imported (${e instanceof Error ? e.name : typeof e})` });
  } finally {
    sendSecret.fill(0);
    recvSecret.fill(0);
  }
}

/**
 * Frames in on each connection: the main one (any generation ≥ 0) and the standby (negative), the
 * receive clock. `runSince`: when the current run of frames began (no gap over RUN_GAP_MS).
 */
interface LegRecv {
  frames: number;
  at: number;
  runSince: number;
  jitter: number;
}
const recvOf = { main: newLegRecv(), standby: newLegRecv() };
/** Inter-frame gaps above this are outages (a cut path), not jitter. */
const OUTAGE_MS = 1000;
const JITTER_HALF_LIFE_MS = 5000;
let recvClock: ReturnType<typeof setInterval> | undefined;

function newLegRecv(): LegRecv {
  return { frames: 0, at: 0, runSince: 0, jitter: 0 };
}

function countFrames(r: LegRecv): TransformStream<EncodedFrameLike, EncodedFrameLike> {
  return new TransformStream({
    transform(frame, controller) {
      // Padding-only packets (an idle sender's, e.g. with no track) are no audio: they do not count.
      if (frame.data.byteLength > 0) {
        const now = performance.now();
        const gap = now - r.at;
        if (r.frames && gap < OUTAGE_MS) r.jitter = Math.max(r.jitter, gap);
        if (!r.frames || gap > RUN_GAP_MS) r.runSince = now;
        r.frames++;
        r.at = now;
      }
      controller.enqueue(frame);
    },
  });
}

/** How long the leg's current run of frames has lasted at `now` (0 when it is silent). */
function runMs(r: LegRecv, now: number): number {
  return r.frames && now - r.at <= RUN_GAP_MS ? now - r.runSince : 0;
}

function run(side: TransformSide, readable: ReadableStream<EncodedFrameLike>, writable: WritableStream<EncodedFrameLike>, gen = 0): void {
  const transform = side === 'send' ? pipelines.encrypting() : pipelines.decrypting();
  (side === 'recv' ? readable.pipeThrough(countFrames(gen >= 0 ? recvOf.main : recvOf.standby)) : readable)
    .pipeThrough(transform)
    .pipeTo(writable)
    .catch((e: unknown) => {
      // A closed call ends its streams too; only report while keys are live.
      post({ kind: 'error', message: `${side} frame pipeline stopped (${e instanceof Error ? e.name : typeof e})`, gen });
    });
}

scope.onrtctransform = (ev) => {
  const t = ev.transformer;
  if (!isTransformOptions(t.options)) {
    post({ kind: 'error', message: 'transform created without a side' });
    return;
  }
  run(t.options.side, t.readable, t.writable, t.options.gen);
};

scope.onmessage = (ev) => {
  const msg = ev.data;
  switch (msg.kind) {
    case 'tap': {
      const tapFrames = workerTapFrames(msg); // a test hook: 0 in store builds
      if (tapFrames) pipelines = new FramePipelines(ready, tapFrames); // before any pipeline exists
      return;
    }
    case 'init':
      void importSecrets(msg.sendSecret, msg.recvSecret);
      return;
    case 'streams':
      run(msg.side, msg.readable as ReadableStream<EncodedFrameLike>, msg.writable as WritableStream<EncodedFrameLike>, msg.gen);
      return;
    case 'counters':
      post({ kind: 'counters', id: msg.id, counters: pipelines.counters(), tap: pipelines.tap });
      return;
    case 'watch': {
      clearInterval(recvClock);
      const every = Math.max(5, msg.everyMs);
      let lastTick = performance.now();
      recvClock = setInterval(() => {
        const now = performance.now();
        // This thread ran late (a starved machine): frames may wait in the queue behind this tick.
        // Silence counts only from here, so a late thread is never taken for a dead path.
        const late = now - lastTick > 3 * every;
        lastTick = now;
        for (const r of [recvOf.main, recvOf.standby]) {
          if (late && r.frames && now - every > r.at) {
            if (now - every - r.at > RUN_GAP_MS) r.runSince = now - every;
            r.at = now - every;
          }
          r.jitter *= Math.pow(0.5, every / JITTER_HALF_LIFE_MS);
        }
        const { main, standby } = recvOf;
        post({
          kind: 'recv',
          mainFrames: main.frames,
          mainSilentMs: main.frames ? now - main.at : 0,
          mainJitterMs: main.jitter,
          mainRunMs: runMs(main, now),
          standbyFrames: standby.frames,
          standbySilentMs: standby.frames ? now - standby.at : 0,
          standbyRunMs: runMs(standby, now),
        });
      }, every);
      return;
    }
    default:
      unhandled(msg);
  }
};
