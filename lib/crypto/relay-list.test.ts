import { describe, expect, test } from 'vitest';
import { decodeRelayList, encodeRelayList, RELAY_LIST_MAX, RELAY_LIST_MAX_BYTES } from './relay-list';
import { CryptoError } from './errors';

const R = ['wss://r1.example:443/signal', 'ws://127.0.0.1:8080/signal', 'wss://[2001:db8::1]:8443/x'];

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof CryptoError ? e.code : 'not a CryptoError';
  }
  return undefined;
}

describe('relay list (handshake field, docs/protocol.md §5)', () => {
  test('round trip, in order, self-delimiting', () => {
    const b = encodeRelayList(R);
    const tail = Uint8Array.of(0xaa, 0xbb);
    const withTail = new Uint8Array([...b, ...tail]);
    expect(decodeRelayList(withTail)).toEqual({ relays: R, end: b.length });
    expect(encodeRelayList([])).toEqual(Uint8Array.of(0));
    expect(decodeRelayList(Uint8Array.of(0))).toEqual({ relays: [], end: 1 });
  });

  test('the largest list fits the bound the handshake allows', () => {
    const long = Array.from({ length: RELAY_LIST_MAX }, (_, i) => `wss://r${i}.example:443/${'p'.repeat(255 - 27)}`);
    expect(encodeRelayList(long).length).toBeLessThanOrEqual(RELAY_LIST_MAX_BYTES);
  });

  test.each([
    ['more than 4 relays', Uint8Array.of(5)],
    ['missing', new Uint8Array(0)],
    ['entry past the end', Uint8Array.of(1, 40, 0x77)],
    ['empty entry', Uint8Array.of(1, 0)],
    ['not UTF-8', Uint8Array.of(1, 2, 0xff, 0xfe)],
    ['not canonical', (() => { const u = new TextEncoder().encode('wss://R1.example/signal'); return Uint8Array.of(1, u.length, ...u); })()],
    ['not a relay URL', (() => { const u = new TextEncoder().encode('https://r1.example:443/'); return Uint8Array.of(1, u.length, ...u); })()],
    ['twice the same', (() => { const u = new TextEncoder().encode(R[0]!); return Uint8Array.of(2, u.length, ...u, u.length, ...u); })()],
  ])('%s: ERR_HANDSHAKE_FORMAT', (_what, bytes) => {
    expect(code(() => decodeRelayList(bytes))).toBe('ERR_HANDSHAKE_FORMAT');
  });

  test('encoding refuses what decoding would refuse', () => {
    expect(code(() => encodeRelayList([...R, 'wss://a.example:443/', 'wss://b.example:443/']))).toBe('ERR_BAD_INPUT');
    expect(code(() => encodeRelayList(['wss://r1.example/signal']))).toBe('ERR_BAD_INPUT');
    expect(code(() => encodeRelayList([`wss://r.example:443/${'p'.repeat(300)}`]))).toBe('ERR_BAD_INPUT');
  });
});
