import { describe, expect, test } from 'vitest';
import { SealedChannel } from './sealed-channel';
import { toHex, utf8 } from './bytes';

const callId = new Uint8Array(16).fill(7);
const k1 = new Uint8Array(32).fill(1);
const k2 = new Uint8Array(32).fill(2);
const sdp = utf8('v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n');

async function pair() {
  return { a: await SealedChannel.create(callId, k1, k2), b: await SealedChannel.create(callId, k2, k1) };
}

describe('sealed channel', () => {
  test('round trip both ways; the relay sees no SDP bytes', async () => {
    const { a, b } = await pair();
    const env = await a.seal(sdp);
    expect(toHex(env)).not.toContain(toHex(utf8('IN IP4')));
    const got = await b.open(env);
    expect(got.ok && new TextDecoder().decode(got.value)).toBe(new TextDecoder().decode(sdp));
    const back = await a.open(await b.seal(utf8('ok')));
    expect(back.ok).toBe(true);
  });

  test('replay, tamper, wrong direction and wrong call are refused, typed', async () => {
    const { a, b } = await pair();
    const env = await a.seal(sdp);
    expect((await b.open(env)).ok).toBe(true);
    expect(await b.open(env)).toMatchObject({ ok: false, error: { code: 'ERR_REPLAYED_FRAME' } });
    const env2 = await a.seal(sdp);
    const bad = env2.slice();
    bad[30]! ^= 1;
    expect(await b.open(bad)).toMatchObject({ ok: false, error: { code: 'ERR_DECRYPT' } });
    expect((await b.open(env2)).ok).toBe(true);
    expect(await a.open(await a.seal(sdp))).toMatchObject({ ok: false, error: { code: 'ERR_DECRYPT' } });
    const other = await SealedChannel.create(new Uint8Array(16).fill(8), k2, k1);
    expect(await other.open(await a.seal(sdp))).toMatchObject({ ok: false, error: { code: 'ERR_HANDSHAKE_STATE' } });
    expect(await b.open(new Uint8Array(5))).toMatchObject({ ok: false });
  });
});
