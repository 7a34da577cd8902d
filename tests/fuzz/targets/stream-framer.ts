/**
 * The TCP/TLS stream framer (relay-server/src/turn/stream-framer.ts) under
 * arbitrary bytes cut into arbitrary chunks (empty ones included). Oracle: a
 * reference framer that reads the whole stream at once. Whatever the
 * chunking, the framer emits exactly the reference's frames, in order,
 * closes (returns false) exactly when the reference meets garbage or a
 * declared length over the bound, and never buffers more than one message.
 */
import { CHANNEL_DATA_HEADER_LEN, HEADER_LEN } from '../../../relay-server/src/stun/constants';
import { encodeChannelData } from '../../../relay-server/src/turn/channel-data';
import { StreamFramer } from '../../../relay-server/src/turn/stream-framer';
import { fromHex, invariant, type FuzzTarget, type Rng } from '../engine';
import { genStun, typicalRequests } from './_stun-gen';

const MAX = 1200;

/** The reference: frames of the whole stream, and whether it ends in garbage. */
function reference(stream: Uint8Array): { frames: Uint8Array[]; garbage: boolean } {
  const frames: Uint8Array[] = [];
  let at = 0;
  while (stream.length - at >= 4) {
    const kind = stream[at]! >> 6;
    const declared = (stream[at + 2]! << 8) | stream[at + 3]!;
    if (kind === 1) {
      if (CHANNEL_DATA_HEADER_LEN + declared > MAX) return { frames, garbage: true };
      const padded = (CHANNEL_DATA_HEADER_LEN + declared + 3) & ~3;
      if (stream.length - at < padded) break;
      frames.push(stream.subarray(at, at + CHANNEL_DATA_HEADER_LEN + declared));
      at += padded;
    } else if (kind === 0) {
      if (HEADER_LEN + declared > MAX || declared % 4 !== 0) return { frames, garbage: true };
      if (stream.length - at < HEADER_LEN + declared) break;
      frames.push(stream.subarray(at, at + HEADER_LEN + declared));
      at += HEADER_LEN + declared;
    } else {
      return { frames, garbage: true };
    }
  }
  return { frames, garbage: false };
}

function chunks(stream: Uint8Array, rng: Rng): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < stream.length) {
    const n = rng.chance(0.1) ? 0 : rng.chance(0.5) ? 1 + rng.int(8) : 1 + rng.int(stream.length);
    out.push(stream.subarray(at, Math.min(stream.length, at + n)));
    at += n;
  }
  if (rng.chance(0.1)) out.push(new Uint8Array(0));
  return out;
}

export async function streamFramerTarget(): Promise<FuzzTarget> {
  const cd = (len: number, pad: boolean) => encodeChannelData(0x4001, new Uint8Array(len).fill(0xab), pad);
  return {
    name: 'stream-framer',
    about: 'StreamFramer on arbitrary byte streams in arbitrary chunkings: same frames and same close decision as a whole-stream reference, buffer never over one message',
    seeds: [
      Buffer.concat([...typicalRequests(), cd(3, true), cd(0, true), cd(100, true)]),
      Buffer.concat([cd(5, true), typicalRequests()[2]!]),
      cd(MAX - 4, true),
      fromHex('4001ffff'),
      fromHex('0001fffc2112a442'),
    ],
    maxLen: 4096,
    dictionary: [fromHex('4001'), fromHex('0001'), fromHex('2112a442'), fromHex('04ac'), fromHex('04b0')],
    generate(rng) {
      const parts: Uint8Array[] = [];
      const n = 1 + rng.int(6);
      for (let i = 0; i < n; i++) parts.push(rng.chance(0.5) ? genStun(rng) : cd(rng.int(rng.chance(0.9) ? 200 : MAX), rng.chance(0.9)));
      return Buffer.concat(parts);
    },
    run(input, rng) {
      const ref = reference(input);
      const f = new StreamFramer(MAX);
      const got: Uint8Array[] = [];
      let open = true;
      let fed = 0;
      for (const c of chunks(input, rng)) {
        open = f.push(c, (frame) => got.push(frame.slice()));
        fed += c.length;
        invariant(f.buffered <= MAX + 3, `framer buffers ${f.buffered} bytes, bound ${MAX + 3}`);
        if (!open) break;
      }
      invariant(got.length <= ref.frames.length, 'framer emitted a frame the reference does not have');
      for (let i = 0; i < got.length; i++) {
        const a = got[i]!;
        const b = ref.frames[i]!;
        invariant(a.length === b.length && a.every((x, j) => x === b[j]), `frame ${i} differs from the reference`);
      }
      if (!open) {
        invariant(ref.garbage, 'framer closed a stream the reference finds well-formed');
        return `closed after ${Math.min(got.length, 3)}${got.length > 3 ? '+' : ''} frames`;
      }
      invariant(fed === input.length && got.length === ref.frames.length, 'framer lost or held back a whole frame');
      invariant(!ref.garbage, 'framer kept open a stream with garbage in it');
      const kinds = [...new Set(got.map((g) => (g[0]! >> 6 === 1 ? 'cd' : 'stun')))].sort().join('+');
      return `open ${kinds || 'none'}${f.buffered ? ' partial' : ''}`;
    },
  };
}
