import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { FrameDecryptor, FrameEncryptor } from './frame-cipher';
import { encodeHeader, parseHeader } from './frame-format';
import { FRAME_MAX_LEN, FRAME_TAG_LEN, REPLAY_WINDOW } from './constants';
import { isCryptoError } from './errors';
import { toHex } from './bytes';

const secret = () => new Uint8Array(32).fill(0x42);
const opus = (n = 80, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

async function pair(opts = {}) {
  return { tx: await FrameEncryptor.create(secret(), opts), rx: await FrameDecryptor.create(secret()) };
}

describe('frame format', () => {
  test('header uses the fewest counter bytes and round-trips', () => {
    for (const [ctr, len] of [[0, 2], [255, 2], [256, 3], [65535, 3], [65536, 4], [2 ** 24, 5], [2 ** 32 - 1, 5]] as const) {
      const h = encodeHeader(7, ctr);
      expect(h.length).toBe(len);
      const frame = new Uint8Array([...h, ...new Uint8Array(FRAME_TAG_LEN)]);
      expect(parseHeader(frame)).toEqual({ kid: 7, counter: ctr, length: len });
    }
  });

  test('reserved bits and non-minimal counters are refused', () => {
    const body = new Uint8Array(FRAME_TAG_LEN);
    expect(() => parseHeader(new Uint8Array([0x80, 0, ...body]))).toThrowError(/reserved/);
    expect(() => parseHeader(new Uint8Array([0x10, 0, 5, ...body]))).toThrowError(/minimally/);
  });
});

describe('frame cipher', () => {
  test('round trip, and overhead within 22 bytes (18 at call start)', async () => {
    const { tx, rx } = await pair();
    const plain = opus();
    const enc = await tx.encrypt(plain);
    expect(enc.length - plain.length).toBe(18);
    expect(toHex(enc)).not.toContain(toHex(plain.subarray(0, 8)));
    const dec = await rx.decrypt(enc);
    expect(dec.ok && toHex(dec.value)).toBe(toHex(plain));
    expect(rx.stats.decrypted).toBe(1);
  });

  test('overhead at the largest counters stays ≤ 22 bytes', async () => {
    const { tx } = await pair();
    (tx as unknown as { counter: number }).counter = 2 ** 24 - 1; // as late in an epoch as the sender goes
    const enc = await tx.encrypt(opus());
    expect(enc.length - 80).toBeLessThanOrEqual(22);
    expect(enc.length - 80).toBe(20);
  });

  test('nonces never repeat: the same plaintext encrypts differently each time', async () => {
    const { tx } = await pair();
    const a = await tx.encrypt(opus());
    const b = await tx.encrypt(opus());
    expect(toHex(a.subarray(2))).not.toBe(toHex(b.subarray(2)));
  });

  test.each([
    ['header key id', 0, 0x01],
    ['header counter', 1, 0x01],
    ['ciphertext', 10, 0x80],
    ['tag', -1, 0x01],
  ])('tampered %s is dropped, counted, and yields no plaintext', async (_w, at, mask) => {
    const { tx, rx } = await pair();
    const enc = await tx.encrypt(opus());
    const bad = enc.slice();
    bad[at < 0 ? bad.length + at : at]! ^= mask;
    const r = await rx.decrypt(bad);
    expect(r.ok).toBe(false);
    expect('value' in r).toBe(false);
    if (!r.ok) expect(['ERR_FRAME_AUTH', 'ERR_FRAME_HEADER']).toContain(r.error.code);
    expect(rx.dropped).toBe(1);
    // The genuine frame still decrypts afterwards: a forgery does not poison the window.
    expect((await rx.decrypt(enc)).ok).toBe(true);
  });

  test('a replayed frame is dropped and counted', async () => {
    const { tx, rx } = await pair();
    const enc = await tx.encrypt(opus());
    expect((await rx.decrypt(enc)).ok).toBe(true);
    const again = await rx.decrypt(enc);
    expect(again).toMatchObject({ ok: false, error: { code: 'ERR_REPLAYED_FRAME' } });
    expect(rx.stats.replayed).toBe(1);
  });

  test('a frame older than the window is dropped; a reordered fresh one is accepted', async () => {
    const { tx, rx } = await pair();
    const frames = [];
    for (let i = 0; i < REPLAY_WINDOW + 5; i++) frames.push(await tx.encrypt(opus(80, i)));
    const old = frames[0]!;
    const reordered = frames[REPLAY_WINDOW]!;
    for (let i = 1; i < frames.length; i++) if (i !== REPLAY_WINDOW) expect((await rx.decrypt(frames[i]!)).ok).toBe(true);
    const late = await rx.decrypt(reordered); // 4 behind the newest: fresh
    expect(late.ok && toHex(late.value)).toBe(toHex(opus(80, REPLAY_WINDOW)));
    expect(await rx.decrypt(old)).toMatchObject({ ok: false, error: { code: 'ERR_STALE_FRAME' } });
    expect(rx.stats.stale).toBe(1);
  });

  test('wrong key: every frame dropped as failing authentication', async () => {
    const tx = await FrameEncryptor.create(secret());
    const rx = await FrameDecryptor.create(new Uint8Array(32).fill(0x43));
    for (let i = 0; i < 5; i++) {
      expect(await rx.decrypt(await tx.encrypt(opus()))).toMatchObject({ ok: false, error: { code: 'ERR_FRAME_AUTH' } });
    }
    expect(rx.stats).toMatchObject({ decrypted: 0, auth: 5 });
  });

  test('truncated and oversized frames get typed errors', async () => {
    const { tx, rx } = await pair();
    const enc = await tx.encrypt(opus());
    for (const n of [0, 1, 2, 17]) {
      expect(await rx.decrypt(enc.subarray(0, n))).toMatchObject({ ok: false, error: { code: 'ERR_FRAME_TRUNCATED' } });
    }
    expect(await rx.decrypt(enc.subarray(0, enc.length - 1))).toMatchObject({ ok: false, error: { code: 'ERR_FRAME_AUTH' } });
    expect(await rx.decrypt(new Uint8Array(FRAME_MAX_LEN + 1))).toMatchObject({ ok: false, error: { code: 'ERR_FRAME_TOO_LARGE' } });
    expect(rx.stats.malformed).toBe(5);
  });

  test('keys rotate before the counter wraps, across the 16 key ids, without losing a frame', async () => {
    const { tx, rx } = await pair({ rekeyInterval: 4 });
    for (let i = 0; i < 4 * 20; i++) {
      const r = await rx.decrypt(await tx.encrypt(opus(60, i)));
      expect(r.ok, `frame ${i}`).toBe(true);
    }
    expect(tx.epochNumber).toBe(19);
    expect(rx.stats.decrypted).toBe(80);
  });

  test('concurrent encrypt() calls across epoch boundaries get unique (key id, counter) pairs, and all decrypt', async () => {
    const { tx, rx } = await pair({ rekeyInterval: 4 });
    const plain = opus();
    // 40 callers at once: 10 epochs of 4, every boundary crossed while earlier calls still await.
    const frames = await Promise.all(Array.from({ length: 40 }, () => tx.encrypt(plain)));
    const pairs = frames.map((f) => {
      const h = parseHeader(f);
      return `${h.kid}/${h.counter}`;
    });
    expect(new Set(pairs).size).toBe(40);
    expect(pairs).toEqual(Array.from({ length: 40 }, (_, i) => `${Math.floor(i / 4)}/${i % 4}`));
    expect(tx.epochNumber).toBe(9);
    for (const f of frames) {
      const r = await rx.decrypt(f);
      expect(r.ok && toHex(r.value)).toBe(toHex(plain));
    }
    expect(rx.dropped).toBe(0);
  });

  test('a late frame from the previous epoch still decrypts after rotation', async () => {
    const { tx, rx } = await pair({ rekeyInterval: 4 });
    const frames = [];
    for (let i = 0; i < 6; i++) frames.push(await tx.encrypt(opus(60, i)));
    for (const i of [0, 1, 2, 4, 5]) expect((await rx.decrypt(frames[i]!)).ok).toBe(true);
    expect((await rx.decrypt(frames[3]!)).ok).toBe(true);
  });

  test('random bytes never throw and never decrypt', async () => {
    const rx = await FrameDecryptor.create(secret());
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (junk) => {
        const r = await rx.decrypt(junk);
        expect(r.ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  test('bad secrets are refused with a typed error', async () => {
    await expect(FrameEncryptor.create(new Uint8Array(31))).rejects.toSatisfy((e) => isCryptoError(e, 'ERR_BAD_INPUT'));
  });
});
