import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { StreamFramer } from './stream-framer';
import { encodeChannelData } from './channel-data';
import { Class, Method } from '../stun/constants';
import { StunWriter } from '../stun/message';

const stun = () => new StunWriter(Method.Binding, Class.Request, new Uint8Array(12).fill(7)).finish();

describe('StreamFramer (RFC 8656 §10.1, §12.5)', () => {
  test('splits STUN and padded ChannelData back to back, across any chunking', () => {
    const frames = [stun(), encodeChannelData(0x4001, new Uint8Array([1, 2, 3]), true), stun(), encodeChannelData(0x4fff, new Uint8Array(100).fill(9), true)];
    const stream = Buffer.concat(frames);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length }), { maxLength: 10 }), (cuts) => {
        const f = new StreamFramer(4096);
        const got: Array<[number, boolean]> = [];
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        let last = 0;
        for (const p of [...points, stream.length]) {
          expect(f.push(stream.subarray(last, p), (fr, ch) => got.push([fr.length, ch]))).toBe(true);
          last = p;
        }
        expect(got).toEqual([
          [20, false],
          [7, true],
          [20, false],
          [104, true],
        ]);
        expect(f.buffered).toBe(0);
      }),
    );
  });

  test('garbage first bits close the stream', () => {
    expect(new StreamFramer(4096).push(new Uint8Array([0x80, 0, 0, 0]), () => undefined)).toBe(false);
    expect(new StreamFramer(4096).push(new Uint8Array([0xc0, 0, 0, 0]), () => undefined)).toBe(false);
  });

  test('a declared length over the bound closes the stream before buffering it', () => {
    expect(new StreamFramer(1000).push(new Uint8Array([0x40, 0x01, 0x10, 0x00]), () => undefined)).toBe(false);
    expect(new StreamFramer(1000).push(new Uint8Array([0x00, 0x01, 0x10, 0x00]), () => undefined)).toBe(false);
  });

  test('buffered bytes never exceed one message', () => {
    const f = new StreamFramer(600);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        f.push(bytes, () => undefined);
        expect(f.buffered).toBeLessThanOrEqual(600 + 3);
      }),
    );
  });
});
