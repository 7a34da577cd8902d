/**
 * Encrypted audio frames (docs/protocol.md §8, §9):
 *
 *   frame-header   parseHeader (lib/crypto/frame-format.ts): only its typed errors; an
 *                  accepted header re-encodes (encodeHeader) to the same bytes;
 *   replay-window  ReplayWindow (lib/crypto/replay-window.ts) against a reference model
 *                  (a set of accepted counters): the same verdict for every counter;
 *   frame-decrypt  FrameDecryptor.decrypt (lib/crypto/frame-cipher.ts) on mutated
 *                  genuine frames across key epochs, and garbage: never throws; decrypts
 *                  only byte-identical genuine frames, each once (two decrypts racing
 *                  too), every drop counted once in `stats`; at most three epochs held.
 */
import { REPLAY_WINDOW } from '../../../lib/crypto/constants';
import { isCryptoError, type CryptoErrorCode } from '../../../lib/crypto/errors';
import { FrameDecryptor, FrameEncryptor } from '../../../lib/crypto/frame-cipher';
import { encodeHeader, parseHeader } from '../../../lib/crypto/frame-format';
import { ReplayWindow } from '../../../lib/crypto/replay-window';
import { hexOf, invariant, type FuzzTarget } from '../engine';

const HEADER_ERRORS = new Set<CryptoErrorCode>(['ERR_FRAME_TOO_LARGE', 'ERR_FRAME_TRUNCATED', 'ERR_FRAME_HEADER']);

export async function frameHeaderTarget(): Promise<FuzzTarget> {
  const frame = (kid: number, counter: number, body = 20) => {
    const h = encodeHeader(kid, counter);
    const f = new Uint8Array(h.length + body);
    f.set(h);
    return f;
  };
  return {
    name: 'frame-header',
    about: 'parseHeader on arbitrary bytes: only ERR_FRAME_TOO_LARGE/TRUNCATED/HEADER; an accepted header re-encodes to the same bytes',
    seeds: [frame(0, 0), frame(15, 255), frame(1, 256), frame(2, 65535), frame(3, 65536), frame(4, 2 ** 24), frame(5, 2 ** 32 - 1), frame(0, 0, 16)],
    maxLen: 70_000,
    generate(rng) {
      const len = rng.chance(0.01) ? 65530 + rng.int(12) : rng.int(64);
      return rng.bytes(len);
    },
    run(input) {
      let h;
      try {
        h = parseHeader(input);
      } catch (e) {
        invariant(isCryptoError(e) && HEADER_ERRORS.has(e.code), `parseHeader threw an undocumented error: ${String(e)}`);
        return `${e.code}:${e.message}`;
      }
      invariant(h.kid >= 0 && h.kid < 16 && h.length >= 2 && h.length <= 5 && input.length >= h.length + 16, 'header fields out of range');
      invariant(hexOf(encodeHeader(h.kid, h.counter)) === hexOf(input.subarray(0, h.length)), 'accepted header does not re-encode to its bytes');
      return `ok:len${h.length}`;
    },
  };
}

export async function replayWindowTarget(): Promise<FuzzTarget> {
  return {
    name: 'replay-window',
    about: 'ReplayWindow check/accept on counter sequences (each input: u16 deltas, signed) against a reference set: same verdict every time',
    seeds: [new Uint8Array([0, 1, 0, 1, 0, 1]), new Uint8Array([0, 200, 0xff, 0x80, 0, 127, 0, 128]), new Uint8Array([0x7f, 0xff, 0x80, 0x01])],
    maxLen: 256,
    run(input) {
      const w = new ReplayWindow();
      const seen = new Set<number>();
      let top = -1;
      let c = 1000;
      const verdicts = new Set<string>();
      for (let i = 0; i + 1 < input.length; i += 2) {
        const d = ((input[i]! << 8) | input[i + 1]!) << 16 >> 16; // signed 16-bit step
        c = Math.max(0, Math.min(2 ** 32 - 1, c + (Math.abs(d) > 300 ? d * 97 : d)));
        const want = c > top ? 'fresh' : top - c >= REPLAY_WINDOW ? 'stale' : seen.has(c) ? 'replayed' : 'fresh';
        const got = w.check(c);
        invariant(got === want, `counter ${c} (top ${top}): window says ${got}, reference ${want}`);
        verdicts.add(got);
        if (got === 'fresh') {
          w.accept(c);
          seen.add(c);
          if (c > top) top = c;
          invariant(w.highest === top, 'highest out of step');
        }
      }
      return [...verdicts].sort().join('+') || 'empty';
    },
  };
}

const SECRET = new Uint8Array(32).fill(0x33);
const DECRYPT_ERRORS = new Set<CryptoErrorCode>(['ERR_FRAME_TOO_LARGE', 'ERR_FRAME_TRUNCATED', 'ERR_FRAME_HEADER', 'ERR_FRAME_AUTH', 'ERR_REPLAYED_FRAME', 'ERR_STALE_FRAME']);

export async function frameDecryptTarget(): Promise<FuzzTarget> {
  // Genuine frames over five key epochs (rekey every 60 frames), plaintexts 0..79 bytes.
  const enc = await FrameEncryptor.create(SECRET, { rekeyInterval: 60 });
  const genuine = new Map<string, string>();
  const seeds: Uint8Array[] = [];
  for (let i = 0; i < 300; i++) {
    const plain = new Uint8Array(i % 80).fill(i & 0xff);
    const f = await enc.encrypt(plain);
    genuine.set(hexOf(f), hexOf(plain));
    seeds.push(f);
  }
  let dec = await FrameDecryptor.create(SECRET);
  let accepted = new Set<string>();
  let failures = 0;
  const decrypt = async (input: Uint8Array): Promise<string> => {
    // WebCrypto wants ArrayBuffer-backed bytes, as RTCEncodedAudioFrame.data always is.
    const r = await dec.decrypt(input.byteOffset === 0 && input.byteLength === input.buffer.byteLength ? input : input.slice());
    if (!r.ok) {
      invariant(DECRYPT_ERRORS.has(r.error.code), `undocumented error ${r.error.code}`);
      failures++;
      return r.error.code;
    }
    const h = hexOf(input);
    const plain = genuine.get(h);
    invariant(plain !== undefined, `decrypt() accepted a frame never encrypted: ${h.slice(0, 80)}`);
    invariant(plain === hexOf(r.value), 'decrypt() returned another plaintext');
    invariant(!accepted.has(h), 'decrypt() accepted the same frame twice (replay)');
    accepted.add(h);
    return 'decrypted';
  };
  const target: FuzzTarget = {
    name: 'frame-decrypt',
    about: 'FrameDecryptor.decrypt on mutated genuine frames over 5 key epochs and garbage: never throws, decrypts only byte-identical genuine frames, once each (racing decrypts too), every drop counted, ≤ 3 epochs held',
    seeds,
    maxLen: 2048,
    dictionary: seeds.slice(0, 8).map((s) => s.subarray(0, 2)),
    async run(input, rng) {
      if (rng.chance(0.05)) {
        const [a, b] = await Promise.all([decrypt(input), decrypt(input)]);
        return [a, b].sort().join('+');
      }
      return decrypt(input);
    },
    check() {
      const s = dec.stats;
      invariant(s.decrypted === accepted.size, 'stats.decrypted out of step');
      invariant(dec.dropped === failures, `stats count ${dec.dropped} drops, the fuzzer saw ${failures}`);
      const held = (dec as unknown as { epochs: Map<number, unknown> }).epochs.size;
      invariant(held <= 3, `decryptor holds ${held} key epochs`);
    },
    async reset() {
      dec = await FrameDecryptor.create(SECRET);
      accepted = new Set();
      failures = 0;
    },
    resetEvery: 20_000,
  };
  return target;
}
