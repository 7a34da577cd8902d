/**
 * The frame pipelines, sender wired straight into receiver in one process
 * (style.md §9, like jitsi's Context.spec): real FrameEncryptor/Decryptor,
 * real WHATWG TransformStreams, frames shaped like RTCEncodedAudioFrame.
 * The rule under test: what fails to decrypt is never enqueued.
 */
import { describe, expect, test, vi } from 'vitest';
import { FrameDecryptor, FrameEncryptor } from '../crypto/frame-cipher';
import { FRAME_TAG_LEN } from '../crypto/constants';
import { FramePipelines, type EncodedFrameLike } from './frame-transform';

const secret = (b: number) => new Uint8Array(32).fill(b);

/** Opus-sized payloads, distinct per frame. */
function frames(n: number, len = 70): EncodedFrameLike[] {
  return Array.from({ length: n }, (_, i) => {
    const u = new Uint8Array(len);
    for (let j = 0; j < len; j++) u[j] = (i * 31 + j * 7) & 0xff;
    return { data: u.buffer };
  });
}
const bytes = (f: EncodedFrameLike) => new Uint8Array(f.data);

async function pipeline(sendSecret: Uint8Array, recvSecret: Uint8Array) {
  const mk = async (s: Uint8Array, r: Uint8Array) =>
    new FramePipelines(Promise.all([FrameEncryptor.create(s), FrameDecryptor.create(r)]).then(([encryptor, decryptor]) => ({ encryptor, decryptor })));
  return { a: await mk(sendSecret, secret(9)), b: await mk(secret(8), recvSecret) };
}

/** Push frames through a TransformStream, collect what comes out. */
async function run(ts: TransformStream<EncodedFrameLike, EncodedFrameLike>, input: EncodedFrameLike[]): Promise<EncodedFrameLike[]> {
  const out: EncodedFrameLike[] = [];
  const done = ts.readable.pipeTo(new WritableStream({ write: (f) => void out.push(f) }));
  done.catch(() => {}); // a failing transform rejects the writes below too; that error is the one reported
  const w = ts.writable.getWriter();
  for (const f of input) await w.write(f);
  await w.close();
  await done;
  return out;
}

describe('FramePipelines', () => {
  test('sender → receiver with matching keys: every frame comes back, bytes intact', async () => {
    const { a, b } = await pipeline(secret(1), secret(1));
    const plain = frames(100).map((f) => bytes(f).slice());
    const wire = await run(a.encrypting(), frames(100));
    expect(wire).toHaveLength(100);
    for (let i = 0; i < 100; i++) {
      const w = bytes(wire[i]!);
      // Ciphertext on the wire: longer by header + tag, and not the plaintext.
      expect(w.length).toBeGreaterThanOrEqual(plain[i]!.length + FRAME_TAG_LEN + 1);
      expect(Buffer.from(w).includes(Buffer.from(plain[i]!.subarray(0, 16)))).toBe(false);
    }
    const back = await run(b.decrypting(), wire);
    expect(back.map(bytes)).toEqual(plain);
    expect(a.counters()).toMatchObject({ encrypted: 100, encryptFailed: 0 });
    expect(b.counters()).toMatchObject({ decrypted: 100, dropped: 0, authFailed: 0 });
  });

  test('gaps between played frames: the longest, how many above 60 ms, and the longest few with when they began', async () => {
    const { a, b } = await pipeline(secret(1), secret(1));
    const wire = await run(a.encrypting(), frames(8));
    // Played at these times (ms): gaps of 20, 100, 20, 240, 20, 60 (not above 60), 20.
    const at = [0, 20, 120, 140, 380, 400, 460, 480];
    const now = vi.spyOn(performance, 'now');
    try {
      const ts = b.decrypting();
      const out: EncodedFrameLike[] = [];
      const done = ts.readable.pipeTo(new WritableStream({ write: (f) => void out.push(f) }));
      const w = ts.writable.getWriter();
      for (let i = 0; i < wire.length; i++) {
        now.mockReturnValue(at[i]!);
        await w.write(wire[i]!);
        await vi.waitFor(() => expect(out).toHaveLength(i + 1));
      }
      await w.close();
      await done;
    } finally {
      now.mockRestore();
    }
    const c = b.counters();
    expect(c.decrypted).toBe(8);
    expect(c.longestGapMs).toBe(240);
    expect(c.gapsOver60).toBe(2);
    expect(c.longGaps).toEqual([
      { ms: 240, afterFirstMs: 140 },
      { ms: 100, afterFirstMs: 20 },
    ]);
  });

  test('wrong receive key: nothing reaches the decoder, every frame counted as an auth failure', async () => {
    const { a, b } = await pipeline(secret(1), secret(2));
    const back = await run(b.decrypting(), await run(a.encrypting(), frames(50)));
    expect(back).toHaveLength(0);
    expect(b.counters()).toMatchObject({ decrypted: 0, dropped: 50, authFailed: 50 });
  });

  test('a tampered frame, a replayed frame and garbage are dropped, the rest pass', async () => {
    const { a, b } = await pipeline(secret(3), secret(3));
    const wire = await run(a.encrypting(), frames(10));
    const tampered = bytes(wire[4]!).slice();
    tampered[tampered.length - 1]! ^= 1;
    const input = [
      ...wire.slice(0, 4),
      { data: tampered.buffer },
      ...wire.slice(5),
      { data: bytes(wire[2]!).slice().buffer }, // replay
      { data: new Uint8Array([0xff]).buffer }, // garbage
      { data: new Uint8Array(FRAME_TAG_LEN + 2).fill(0).buffer }, // zeros: a header naming counter 0, already seen
    ];
    const back = await run(b.decrypting(), input);
    expect(back).toHaveLength(9);
    const c = b.counters();
    expect(c).toMatchObject({ decrypted: 9, authFailed: 1, replayed: 2, malformed: 1, dropped: 4, empty: 0 });
  });

  test('empty frames (RTP padding) are not passed on and not counted as drops', async () => {
    const { a, b } = await pipeline(secret(5), secret(5));
    const wire = await run(a.encrypting(), frames(3));
    const back = await run(b.decrypting(), [wire[0]!, { data: new ArrayBuffer(0) }, wire[1]!, { data: new ArrayBuffer(0) }, wire[2]!]);
    expect(back).toHaveLength(3);
    expect(b.counters()).toMatchObject({ decrypted: 3, dropped: 0, empty: 2 });
  });

  test('empty outgoing frames (Opus DTX: nothing to send) pass on empty, use no nonce, and the next frames still decrypt', async () => {
    const { a, b } = await pipeline(secret(6), secret(6));
    const input = [...frames(1), { data: new ArrayBuffer(0) }, { data: new ArrayBuffer(0) }, ...frames(2)];
    const plain = input.map((f) => bytes(f).slice());
    const wire = await run(a.encrypting(), input);
    expect(wire.map((f) => f.data.byteLength)).toEqual([expect.any(Number), 0, 0, expect.any(Number), expect.any(Number)]);
    expect(a.counters()).toMatchObject({ encrypted: 3, emptyOut: 2, encryptFailed: 0 });
    const back = await run(b.decrypting(), wire);
    expect(back.map(bytes)).toEqual([plain[0], plain[3], plain[4]]);
    expect(b.counters()).toMatchObject({ decrypted: 3, dropped: 0, replayed: 0, empty: 2 });
  });

  test('frames that arrive before the keys wait for them instead of passing in clear', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const p = new FramePipelines(
      gate.then(async () => ({ encryptor: await FrameEncryptor.create(secret(4)), decryptor: await FrameDecryptor.create(secret(4)) })),
    );
    expect(p.counters()).toMatchObject({ encrypted: 0, decrypted: 0 });
    const ts = p.encrypting();
    const out: EncodedFrameLike[] = [];
    const done = ts.readable.pipeTo(new WritableStream({ write: (f) => void out.push(f) }));
    const w = ts.writable.getWriter();
    const input = frames(3);
    const plain = input.map((f) => bytes(f).slice());
    const writes = input.map((f) => w.write(f));
    await new Promise((r) => setTimeout(r, 20));
    expect(out).toHaveLength(0);
    release();
    await Promise.all(writes);
    await w.close();
    await done;
    expect(out).toHaveLength(3);
    out.forEach((f, i) => expect(bytes(f)).not.toEqual(plain[i]));
  });

  test('keys that never import: the pipeline errors, nothing passes', async () => {
    const p = new FramePipelines(Promise.reject(new Error('import failed')));
    await expect(run(p.encrypting(), frames(2))).rejects.toThrow();
  });
});
