/**
 * Deliveries (delivery.ts): padded to a few size classes (accept, decline,
 * busy and hang-up the same size), the sender's route sealed inside a HELLO
 * to the recipient's address tag, and strict parsing.
 */
import { describe, expect, test } from 'vitest';
import { EnvelopeType, encodePrefix } from '../crypto/envelope-format';
import { concat, toHex } from '../crypto/bytes';
import { identityFromSeed } from '../crypto/identity';
import { mailboxIdOfBundle } from '../crypto/address';
import { CallerHandshake } from '../crypto/handshake';
import { addressHash } from '../crypto/address';
import { encodeControl, type Control } from '../call/control';
import { SealedChannel } from '../crypto/sealed-channel';
import { PAD_BUCKETS, bucketFor, openRoute, unwrapDelivery, wrapDelivery } from './delivery';

const callId = new Uint8Array(16).fill(7);
const sealedEnv = (n: number) => concat(encodePrefix(EnvelopeType.Sealed, callId), new Uint8Array(n).fill(1));
const BOB_TAG = mailboxIdOfBundle(identityFromSeed(new Uint8Array(32).fill(2)).bundleBytes);
const ALICE_ROUTE = { tag: mailboxIdOfBundle(identityFromSeed(new Uint8Array(32).fill(1)).bundleBytes), url: 'wss://r1.example:443/signal' };

describe('deliveries', () => {
  test('every delivery is one of the padded sizes; round trip', async () => {
    for (const n of [4, 900, 1000, 3000, 10_000, 40_000, 47 * 1024 - 25]) {
      const env = sealedEnv(n);
      const d = await wrapDelivery(env);
      expect(PAD_BUCKETS as readonly number[]).toContain(d.length);
      expect(d.length).toBe(bucketFor(env.length + 7));
      const u = unwrapDelivery(d);
      expect(u.routeBox).toBeUndefined();
      expect(Buffer.from(u.envelope).equals(Buffer.from(env))).toBe(true); // (toEqual on 47 KB arrays is slow)
      // The relay's frame limit holds for the largest: the send frame stays under 64 KiB.
      expect(JSON.stringify({ t: 'send', to: 'a'.repeat(32), id: 2 ** 53 - 1, data: Buffer.from(d).toString('base64') }).length).toBeLessThan(64 * 1024);
    }
    await expect(wrapDelivery(sealedEnv(47 * 1024))).rejects.toThrow(/larger than the largest/);
  });

  test('accept, decline, busy and hang-up, sealed as a call sends them, all have one size', async () => {
    const ch = await SealedChannel.create(callId, new Uint8Array(32).fill(1), new Uint8Array(32).fill(2));
    const sizes = new Set<number>();
    const controls: Control[] = [{ k: 'accept' }, { k: 'decline' }, { k: 'decline', why: 'mic' }, { k: 'busy' }, { k: 'hangup' }, { k: 'ringing' }];
    for (const c of controls) sizes.add((await wrapDelivery(await ch.seal(encodeControl(c)))).length);
    expect([...sizes]).toEqual([1024]);
  });

  test('a HELLO carries the sender route, sealed: only the recipient tag opens it, the relay sees neither', async () => {
    const alice = identityFromSeed(new Uint8Array(32).fill(1));
    const hello = new CallerHandshake(alice, addressHash(identityFromSeed(new Uint8Array(32).fill(2)).bundleBytes)).start();
    const d = await wrapDelivery(hello, { route: ALICE_ROUTE, recipientTag: BOB_TAG });
    expect(d.length).toBe(4096);
    const hex = toHex(d);
    expect(hex).not.toContain(ALICE_ROUTE.tag);
    expect(Buffer.from(d).toString('latin1')).not.toContain('r1.example');
    const u = unwrapDelivery(d);
    expect(toHex(u.envelope)).toBe(toHex(hello));
    expect(await openRoute(BOB_TAG, u.envelope, u.routeBox!)).toEqual(ALICE_ROUTE);
    await expect(openRoute(ALICE_ROUTE.tag, u.envelope, u.routeBox!)).rejects.toMatchObject({ code: 'ERR_DECRYPT' });
    // The route is bound to this HELLO's call id: moved onto another HELLO it does not open.
    const other = new CallerHandshake(alice, addressHash(identityFromSeed(new Uint8Array(32).fill(2)).bundleBytes)).start();
    await expect(openRoute(BOB_TAG, other, u.routeBox!)).rejects.toMatchObject({ code: 'ERR_DECRYPT' });
  });

  test('a HELLO needs a route and nothing else may carry one', async () => {
    const hello = new CallerHandshake(identityFromSeed(new Uint8Array(32).fill(1)), new Uint8Array(20)).start();
    await expect(wrapDelivery(hello)).rejects.toThrow(/HELLO needs/);
    await expect(wrapDelivery(sealedEnv(10), { route: ALICE_ROUTE, recipientTag: BOB_TAG })).rejects.toThrow(/only a HELLO/);
  });

  test('malformed deliveries are refused with ERR_BAD_DELIVERY', async () => {
    const good = await wrapDelivery(sealedEnv(10));
    const cases: Uint8Array[] = [
      good.subarray(0, 1000),
      Object.assign(good.slice(), { 0: 9 }),
      Object.assign(good.slice(), { 1023: 1 }),
      Object.assign(good.slice(), { 5: 0xff }),
      Object.assign(good.slice(), { 1: 0, 2: 5 }),
    ];
    for (const c of cases) expect(() => unwrapDelivery(c)).toThrow();
    try {
      unwrapDelivery(good.subarray(0, 5));
    } catch (e) {
      expect((e as { code?: string }).code).toBe('ERR_BAD_DELIVERY');
    }
  });
});
