/** The standby's data-channel messages (standby-wire.ts): round trip, and every bad input named. */
import { describe, expect, test } from 'vitest';
import { encodeStandby, parseStandby, type StandbyMessage } from './standby-wire';

describe('standby wire', () => {
  test.each<StandbyMessage>([
    { t: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' },
    { t: 'answer', sdp: 'v=0\r\n' },
    { t: 'cand', c: { candidate: 'candidate:1 1 udp 1 203.0.113.1 3478 typ relay raddr 0.0.0.0 rport 0', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'ab' } },
    { t: 'cand', c: null },
  ])('round trip %#', (m) => {
    expect(parseStandby(encodeStandby(m))).toEqual(m);
  });

  test.each([
    [new Uint8Array(3), 'not text'],
    ['x'.repeat(70_000), 'at most'],
    ['{', 'not JSON'],
    ['3', 'not an object'],
    ['{"t":"offer"}', 'no SDP'],
    ['{"t":"answer","sdp":"hello"}', 'no SDP'],
    ['{"t":"cand","c":{"candidate":5}}', 'no candidate'],
    ['{"t":"cand"}', 'no candidate'],
    ['{"t":"bye"}', 'unknown type'],
  ])('rejects %#: %s', (input, why) => {
    const r = parseStandby(input);
    expect(r).toBeInstanceOf(Error);
    expect((r as Error).message).toContain(why);
  });

  test('drops fields it does not know', () => {
    expect(parseStandby('{"t":"cand","c":{"candidate":"candidate:x","extra":1},"more":2}')).toEqual({ t: 'cand', c: { candidate: 'candidate:x' } });
  });
});
