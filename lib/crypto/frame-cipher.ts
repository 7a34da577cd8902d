/**
 * AES-256-GCM on encoded audio frames (docs/protocol.md §Frame encryption).
 *
 * Each direction has its own 32-byte frame secret F from the handshake. F is
 * imported once as a non-extractable HKDF key; each key epoch e derives its
 * AES key and 12-byte salt from it (key-schedule.ts). Nonce = salt_e XOR
 * counter, the counter counting frames within the epoch from 0: never random,
 * never reused. After FRAME_REKEY_INTERVAL frames the sender moves to epoch
 * e+1 (pre-derived, so no frame waits); the 4-bit key id in the header tells
 * the receiver which epoch, and it follows once a frame of e+1 authenticates.
 *
 * The receiver drops, and counts, every frame that is malformed, fails to
 * authenticate, replays, or is older than the 128-frame window: garbage never
 * reaches the decoder. `decrypt` never throws.
 *
 * Caveat: the epoch key is not ratcheted (e+1 is not derived from e), so
 * within a call old epochs are as exposed as F; F lives only as a
 * non-extractable CryptoKey and dies with the call.
 */
import { buf, concat, u32be } from './bytes';
import { FRAME_HEADER_MAX, FRAME_KID_MOD, FRAME_REKEY_INTERVAL, FRAME_TAG_LEN, GCM_NONCE_LEN } from './constants';
import { counterNonce } from './aead';
import { CryptoError, type Result } from './errors';
import { parseHeader, writeHeader } from './frame-format';
import { FRAME_KEY_INFO, FRAME_SALT_INFO } from './key-schedule';
import { ReplayWindow } from './replay-window';

interface Epoch {
  n: number;
  key: CryptoKey;
  salt: Uint8Array;
}

export interface FrameCipherOptions {
  /** Frames per key epoch; tests lower it to exercise rotation. */
  rekeyInterval?: number;
  /**
   * Start at this epoch (and, for a sender, counter) instead of 0: a restarted
   * worker must resume past every nonce it already used. Vectors use it too.
   */
  resumeAt?: { epoch: number; counter?: number };
}

const EMPTY = new Uint8Array(0);

async function importFrameSecret(secret: Uint8Array): Promise<CryptoKey> {
  if (!(secret instanceof Uint8Array) || secret.length !== 32) {
    throw new CryptoError('ERR_BAD_INPUT', 'frame secret must be 32 bytes');
  }
  return crypto.subtle.importKey('raw', buf(secret), 'HKDF', false, ['deriveKey', 'deriveBits']);
}

async function deriveEpoch(base: CryptoKey, n: number): Promise<Epoch> {
  const e = u32be(n);
  const key = await crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: EMPTY, info: buf(concat(FRAME_KEY_INFO, e)) },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
  const salt = new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt: EMPTY, info: buf(concat(FRAME_SALT_INFO, e)) },
      base,
      GCM_NONCE_LEN * 8,
    ),
  );
  return { n, key, salt };
}

/**
 * Sender side: one per outgoing direction.
 *
 * `encrypt` reserves its (epoch, counter) pair synchronously, before its
 * first await: concurrent callers at an epoch boundary each get a distinct
 * pair, and exactly one of them moves the sender to the next epoch. (Before
 * v2 the switch awaited the next key first, so every caller that arrived in
 * the meantime reset the counter again: two frames under one nonce.)
 */
export class FrameEncryptor {
  private counter = 0;
  /** The epoch being sent: its number is known at once, its keys may still be deriving. */
  private current: { n: number; epoch: Promise<Epoch>; ready?: Epoch };
  private next?: Promise<Epoch>;
  private readonly nonce = new Uint8Array(GCM_NONCE_LEN);
  private readonly header = new Uint8Array(FRAME_HEADER_MAX);
  encrypted = 0;

  private constructor(
    private readonly base: CryptoKey,
    first: Epoch,
    private readonly interval: number,
  ) {
    this.current = { n: first.n, epoch: Promise.resolve(first), ready: first };
  }

  /** Import `secret` (the caller wipes its copy afterwards). */
  static async create(secret: Uint8Array, opts: FrameCipherOptions = {}): Promise<FrameEncryptor> {
    const base = await importFrameSecret(secret);
    const at = opts.resumeAt ?? { epoch: 0 };
    const enc = new FrameEncryptor(base, await deriveEpoch(base, at.epoch), opts.rekeyInterval ?? FRAME_REKEY_INTERVAL);
    enc.counter = at.counter ?? 0;
    return enc;
  }

  get epochNumber(): number {
    return this.current.n;
  }

  /** header ‖ AES-GCM(plain) ‖ tag. */
  async encrypt(plain: Uint8Array): Promise<Uint8Array> {
    // ── Reservation: synchronous, no await above this line. ──
    if (this.counter >= this.interval) this.rotate();
    else if (!this.next && this.counter >= this.interval >>> 1) this.next = deriveEpoch(this.base, this.current.n + 1);
    const counter = this.counter++;
    const slot = this.current;
    const hlen = writeHeader(this.header, slot.n % FRAME_KID_MOD, counter);
    const aad = this.header.slice(0, hlen) as Uint8Array<ArrayBuffer>;
    // ── Only now may this call wait (for a just-rotated epoch's keys). ──
    const epoch = slot.ready ?? (await slot.epoch);
    const ct = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: counterNonce(epoch.salt, counter, this.nonce), additionalData: aad, tagLength: 128 },
      epoch.key,
      buf(plain),
    );
    const out = new Uint8Array(hlen + ct.byteLength);
    out.set(aad, 0);
    out.set(new Uint8Array(ct), hlen);
    this.encrypted++;
    return out;
  }

  /** Move to epoch n+1 at once; its keys (usually derived half an epoch ago) are awaited by each user. */
  private rotate(): void {
    const epoch = this.next ?? deriveEpoch(this.base, this.current.n + 1);
    this.next = undefined;
    const slot: FrameEncryptor['current'] = { n: this.current.n + 1, epoch };
    epoch.then((e) => (slot.ready = e)).catch(() => {});
    this.current = slot;
    this.counter = 0;
  }
}

/** Why a frame was dropped; each has its counter in `FrameDecryptor.stats`. */
export type DropReason = 'malformed' | 'auth' | 'replayed' | 'stale' | 'unknownKey';

export interface FrameStats {
  decrypted: number;
  malformed: number;
  auth: number;
  replayed: number;
  stale: number;
  unknownKey: number;
}

interface Slot {
  epoch: Promise<Epoch>;
  /** Set once `epoch` resolved, so the hot path skips an await. */
  ready?: Epoch;
  window: ReplayWindow;
}

function newSlot(base: CryptoKey, n: number): Slot {
  const slot: Slot = { epoch: deriveEpoch(base, n), window: new ReplayWindow() };
  slot.epoch.then((e) => (slot.ready = e)).catch(() => {});
  return slot;
}

/** Receiver side: one per incoming direction. */
export class FrameDecryptor {
  readonly stats: FrameStats = { decrypted: 0, malformed: 0, auth: 0, replayed: 0, stale: 0, unknownKey: 0 };
  private current: number = 0;
  private readonly epochs = new Map<number, Slot>();
  private readonly nonce = new Uint8Array(GCM_NONCE_LEN);

  private constructor(
    private readonly base: CryptoKey,
    epoch: number,
  ) {
    this.current = epoch;
    this.epochs.set(epoch, newSlot(base, epoch));
  }

  static async create(secret: Uint8Array, opts: Pick<FrameCipherOptions, 'resumeAt'> = {}): Promise<FrameDecryptor> {
    const epoch = opts.resumeAt?.epoch ?? 0;
    const d = new FrameDecryptor(await importFrameSecret(secret), epoch);
    const first = d.epochs.get(epoch)!;
    first.ready = await first.epoch;
    return d;
  }

  /** Total frames dropped for any reason. */
  get dropped(): number {
    const s = this.stats;
    return s.malformed + s.auth + s.replayed + s.stale + s.unknownKey;
  }

  async decrypt(input: Uint8Array): Promise<Result<Uint8Array>> {
    // WebCrypto wants ArrayBuffer-backed views; frames from RTCEncodedAudioFrame.data always are.
    const frame = input as Uint8Array<ArrayBuffer>;
    let hdr;
    try {
      hdr = parseHeader(frame);
    } catch (e) {
      this.stats.malformed++;
      return { ok: false, error: e as CryptoError };
    }
    const n = this.epochFor(hdr.kid);
    if (n === undefined) return this.drop('unknownKey', 'ERR_FRAME_HEADER', 'frame names an unknown key epoch');
    let slot = this.epochs.get(n);
    if (!slot) {
      slot = newSlot(this.base, n);
      this.epochs.set(n, slot);
    }
    const pre = slot.window.check(hdr.counter);
    if (pre === 'replayed') return this.drop('replayed', 'ERR_REPLAYED_FRAME', 'frame counter already seen');
    if (pre === 'stale') return this.drop('stale', 'ERR_STALE_FRAME', 'frame older than the replay window');

    const epoch = slot.ready ?? (await slot.epoch);
    let plain: ArrayBuffer;
    try {
      plain = await crypto.subtle.decrypt(
        {
          name: 'AES-GCM',
          iv: counterNonce(epoch.salt, hdr.counter, this.nonce),
          additionalData: frame.subarray(0, hdr.length),
          tagLength: FRAME_TAG_LEN * 8,
        },
        epoch.key,
        frame.subarray(hdr.length),
      );
    } catch {
      return this.drop('auth', 'ERR_FRAME_AUTH', 'frame failed to authenticate');
    }
    // Re-check after the await: another decrypt of the same counter may have won.
    if (slot.window.check(hdr.counter) !== 'fresh') {
      return this.drop('replayed', 'ERR_REPLAYED_FRAME', 'frame counter already seen');
    }
    slot.window.accept(hdr.counter);
    if (n > this.current) this.advanceTo(n);
    this.stats.decrypted++;
    return { ok: true, value: new Uint8Array(plain) };
  }

  /** The epoch a key id names: the current one, the next, or the previous (late frames). */
  private epochFor(kid: number): number | undefined {
    for (const n of [this.current, this.current + 1, this.current - 1]) {
      if (n >= 0 && n % FRAME_KID_MOD === kid) return n;
    }
    return undefined;
  }

  private advanceTo(n: number): void {
    this.current = n;
    for (const k of this.epochs.keys()) if (k < n - 1) this.epochs.delete(k);
  }

  private drop(reason: DropReason, code: CryptoError['code'], msg: string): Result<Uint8Array> {
    this.stats[reason]++;
    return { ok: false, error: new CryptoError(code, msg) };
  }
}
