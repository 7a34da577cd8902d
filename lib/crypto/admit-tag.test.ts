import { describe, expect, test } from 'vitest';
import { identityFromSeed, type Identity } from './identity';
import { addressHash } from './address';
import { CalleeHandshake, CallerHandshake, type AdmissionTokens } from './handshake';
import { HELLO_LEN, recogniseHello } from './admit-tag';
import { toHex } from './bytes';

const alice = identityFromSeed(new Uint8Array(32).fill(1));
const bob = identityFromSeed(new Uint8Array(32).fill(2));

/** A full call from `from` to `to`; returns each side's admission tokens. */
async function call(from: Identity, to: Identity, admitToken?: Uint8Array) {
  const caller = new CallerHandshake(from, addressHash(to.bundleBytes), { admitToken });
  const callee = new CalleeHandshake(to);
  const hello = caller.start();
  const m2 = await callee.onHello(hello);
  if (!m2.ok) throw m2.error;
  const m3 = await caller.onResponse(m2.value);
  if (!m3.ok) throw m3.error;
  const done = await callee.onConfirm(m3.value.confirm);
  if (!done.ok) throw done.error;
  const m4 = await callee.reveal();
  if (!m4.ok) throw m4.error;
  const r = await caller.onReveal(m4.value.reveal);
  if (!r.ok) throw r.error;
  return { hello, caller: r.value.admission, callee: done.value.admission };
}

describe('HELLO admission tag', () => {
  let first: { caller: AdmissionTokens; callee: AdmissionTokens };

  test('after a first call, the next HELLO from that contact is recognised before any signature', async () => {
    first = await call(alice, bob);
    const stranger = new CallerHandshake(identityFromSeed(), addressHash(bob.bundleBytes)).start();
    const bobsBook = [
      { contactId: 'carol', token: crypto.getRandomValues(new Uint8Array(32)) },
      { contactId: 'alice', token: first.callee.recv },
    ];
    const hello = new CallerHandshake(alice, addressHash(bob.bundleBytes), { admitToken: first.caller.send }).start();
    expect(recogniseHello(hello, bobsBook)).toBe('alice');
    expect(recogniseHello(stranger, bobsBook)).toBeNull();
    // …and the tagged HELLO still completes a normal handshake.
    const again = await call(alice, bob, first.caller.send);
    expect(recogniseHello(again.hello, bobsBook)).toBe('alice');
  });

  test('the callee can call back: the reverse direction has its own token', async () => {
    const hello = new CallerHandshake(bob, addressHash(alice.bundleBytes), { admitToken: first.callee.send }).start();
    expect(recogniseHello(hello, [{ contactId: 'bob', token: first.caller.recv }])).toBe('bob');
  });

  test('a reflected HELLO is not recognised: A never checks a tag made with its own send token', async () => {
    const toBob = new CallerHandshake(alice, addressHash(bob.bundleBytes), { admitToken: first.caller.send }).start();
    // The relay sends Alice's own HELLO back to Alice; Alice's book holds Bob's recv token.
    expect(recogniseHello(toBob, [{ contactId: 'bob', token: first.caller.recv }])).toBeNull();
  });

  test('the relay cannot link calls: every HELLO has the same length and a fresh tag', async () => {
    const tagged = [0, 1].map(() => new CallerHandshake(alice, addressHash(bob.bundleBytes), { admitToken: first.caller.send }).start());
    const untagged = new CallerHandshake(alice, addressHash(bob.bundleBytes)).start();
    expect(tagged[0]!.length).toBe(HELLO_LEN);
    expect(untagged.length).toBe(HELLO_LEN);
    expect(toHex(tagged[0]!.subarray(-32))).not.toBe(toHex(tagged[1]!.subarray(-32)));
  });

  test('a tag moved to another HELLO, or any changed byte, is not recognised', async () => {
    const book = [{ contactId: 'alice', token: first.callee.recv }];
    const a = new CallerHandshake(alice, addressHash(bob.bundleBytes), { admitToken: first.caller.send }).start();
    const b = new CallerHandshake(identityFromSeed(), addressHash(bob.bundleBytes)).start();
    const moved = new Uint8Array([...b.subarray(0, HELLO_LEN - 32), ...a.subarray(HELLO_LEN - 32)]);
    expect(recogniseHello(moved, book)).toBeNull();
    for (const at of [1, 5, 100, HELLO_LEN - 40, HELLO_LEN - 1]) {
      const c = a.slice();
      c[at]! ^= 1;
      expect(recogniseHello(c, book)).toBeNull();
    }
  });

  test('garbage, wrong lengths, bad tokens: null, never a throw', () => {
    const book = [{ contactId: 'x', token: new Uint8Array(5) }, { contactId: 'y', token: new Uint8Array(32) }];
    for (const len of [0, 1, 18, HELLO_LEN - 1, HELLO_LEN, HELLO_LEN + 1]) {
      expect(recogniseHello(crypto.getRandomValues(new Uint8Array(len)), book)).toBeNull();
    }
    expect(recogniseHello('nope' as unknown as Uint8Array, book)).toBeNull();
    expect(recogniseHello(new Uint8Array(HELLO_LEN), [])).toBeNull();
  });
});
