/**
 * The frame pipelines of one call: TransformStreams that replace each encoded
 * audio frame's payload (RTCEncodedAudioFrame.data, WebRTC Encoded Transform
 * §5) by its AES-GCM ciphertext on the way out, and by its plaintext on the
 * way in. The cipher is lib/crypto/frame-cipher.ts; this file only moves
 * frames. It knows nothing of workers, so it runs (and is tested) in node.
 *
 * Dropping, the one rule that matters: a frame that fails to decrypt (wrong
 * key, tampered, replayed, stale, malformed) is NOT enqueued; the decoder
 * sees a lost packet and conceals it. Ciphertext or garbage never reaches the
 * decoder. Symmetrically, a frame that fails to encrypt is not sent at all:
 * never in clear. Every drop is counted.
 *
 * Empty incoming frames (0-byte payload) are dropped too but counted apart as
 * `empty`, not as `dropped`: Chromium 156 hands the receiver transform one
 * empty Opus frame for every RTP padding-only packet (bandwidth probing, seen
 * every ~40 ms for a while from ~5 s into a loopback call). The sender
 * transform never sees them, they carry no audio and nothing secret, and they
 * are not an attack: counting them as drops would make a healthy call look
 * broken.
 *
 * Empty outgoing frames are passed on as they are (counted `emptyOut`): the
 * encoder's "nothing to send", which Opus DTX hands the sender transform for
 * every 20 ms of a pause (docs/media.md "DTX with speech"). There is nothing
 * to hide in 0 bytes, and left empty the browser sends no packet for them;
 * sealed, each became an 18-21 B packet and DTX sent 50 packets a second in
 * pauses, as without it (measured: 51/s, against 5.5/s passed on). No nonce
 * counter is used for them.
 *
 * The `ready` promise gates both pipelines on the keys: a frame that arrives
 * before they are imported waits for them rather than passing through.
 */
import type { FrameDecryptor, FrameEncryptor } from '../crypto/frame-cipher';
import { ZERO_COUNTERS, type FrameCounters, type FrameGap, type FrameTap } from './worker-protocol';

/** The part of RTCEncodedAudioFrame we touch. */
export interface EncodedFrameLike {
  data: ArrayBuffer;
}

export interface FrameCiphers {
  encryptor: FrameEncryptor;
  decryptor: FrameDecryptor;
}

/** The bytes of `u` as an ArrayBuffer of exactly its length (what `frame.data =` needs). */
function exactBuffer(u: Uint8Array): ArrayBuffer {
  if (u.byteOffset === 0 && u.byteLength === u.buffer.byteLength && u.buffer instanceof ArrayBuffer) return u.buffer;
  return u.slice().buffer as ArrayBuffer;
}

/** A gap between played frames longer than this is counted (issue 17: no audible gap above 60 ms). */
const GAP_NOTED_MS = 60;
/** How many of the longest gaps the counters carry, with their times. */
const LONG_GAPS_KEPT = 5;

export class FramePipelines {
  private encryptFailed = 0;
  private empty = 0;
  private emptyOut = 0;
  private firstDecryptedAt = 0;
  private firstEncryptedAt = 0;
  private lastDecryptedAt = 0;
  private longestGapMs = 0;
  private gapsOver = 0;
  private readonly longGaps: FrameGap[] = [];
  private ciphers?: FrameCiphers;

  /** Test hook only: see FrameTap. */
  readonly tap?: FrameTap;

  constructor(
    private readonly ready: Promise<FrameCiphers>,
    private readonly tapFrames = 0,
  ) {
    ready.then((c) => (this.ciphers = c)).catch(() => {});
    if (tapFrames > 0) this.tap = { plain: [], sealed: [] };
  }

  /** Outgoing: plaintext encoded frame → header ‖ ciphertext ‖ tag. */
  encrypting<F extends EncodedFrameLike>(): TransformStream<F, F> {
    return new TransformStream<F, F>({
      transform: async (frame, controller) => {
        const { encryptor } = await this.ready;
        if (frame.data.byteLength === 0) {
          this.emptyOut++;
          controller.enqueue(frame); // nothing to encrypt, and the browser sends nothing for it (file header)
          return;
        }
        try {
          const plain = new Uint8Array(frame.data);
          const out = await encryptor.encrypt(plain);
          if (this.tap && this.tap.plain.length < this.tapFrames) {
            this.tap.plain.push(plain.slice());
            this.tap.sealed.push(out.slice());
          }
          frame.data = exactBuffer(out);
          if (this.firstEncryptedAt === 0) this.firstEncryptedAt = performance.timeOrigin + performance.now();
        } catch {
          this.encryptFailed++;
          return; // dropped: never sent in clear
        }
        controller.enqueue(frame);
      },
    });
  }

  /** Incoming: ciphertext frame → plaintext frame, or nothing (dropped and counted). */
  decrypting<F extends EncodedFrameLike>(): TransformStream<F, F> {
    return new TransformStream<F, F>({
      transform: async (frame, controller) => {
        const { decryptor } = await this.ready;
        if (frame.data.byteLength === 0) {
          this.empty++;
          return;
        }
        const r = await decryptor.decrypt(new Uint8Array(frame.data));
        if (!r.ok) return; // counted in decryptor.stats
        frame.data = exactBuffer(r.value);
        const now = performance.timeOrigin + performance.now();
        if (this.firstDecryptedAt === 0) this.firstDecryptedAt = now;
        else this.noteGap(now - this.lastDecryptedAt, now);
        this.lastDecryptedAt = now;
        controller.enqueue(frame);
      },
    });
  }

  /**
   * A gap between two played frames: the longest, how many were above GAP_NOTED_MS (the issue's
   * "no gap above 60 ms"), and the LONG_GAPS_KEPT longest with when they happened, so a long
   * call's report can tell a start-up gap from a stall in the middle.
   */
  private noteGap(ms: number, now: number): void {
    this.longestGapMs = Math.max(this.longestGapMs, ms);
    if (ms <= GAP_NOTED_MS) return;
    this.gapsOver++;
    const gap = { ms: Math.round(ms), afterFirstMs: Math.round(now - ms - this.firstDecryptedAt) };
    this.longGaps.push(gap);
    this.longGaps.sort((a, b) => b.ms - a.ms);
    this.longGaps.length = Math.min(this.longGaps.length, LONG_GAPS_KEPT);
  }

  /** The counters so far; zeros before the keys are imported. */
  counters(): FrameCounters {
    if (!this.ciphers) return { ...ZERO_COUNTERS, encryptFailed: this.encryptFailed, empty: this.empty, emptyOut: this.emptyOut, firstDecryptedAt: this.firstDecryptedAt, firstEncryptedAt: this.firstEncryptedAt, longestGapMs: 0, gapsOver60: 0, longGaps: [] };
    const { encryptor, decryptor } = this.ciphers;
    const d = decryptor.stats;
    return {
      encrypted: encryptor.encrypted,
      decrypted: d.decrypted,
      dropped: decryptor.dropped,
      authFailed: d.auth,
      replayed: d.replayed,
      stale: d.stale,
      malformed: d.malformed,
      unknownKey: d.unknownKey,
      encryptFailed: this.encryptFailed,
      empty: this.empty,
      emptyOut: this.emptyOut,
      firstDecryptedAt: this.firstDecryptedAt,
      firstEncryptedAt: this.firstEncryptedAt,
      longestGapMs: Math.round(this.longestGapMs),
      gapsOver60: this.gapsOver,
      longGaps: this.longGaps.map((g) => ({ ...g })),
    };
  }
}
