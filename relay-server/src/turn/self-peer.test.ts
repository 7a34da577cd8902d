/**
 * The relay's own addresses as peers (self-peer.ts): denied except on its
 * relay ports, in every spelling of the address; allowSelfPeer opens them.
 */
import { describe, expect, test } from 'vitest';
import { SelfPeers } from './self-peer';
import { TurnCore } from './core';

const SELF = { addresses: ['203.0.113.5', '2001:db8::5', '127.0.0.1'], listenerPorts: [3478, 3479, 50001], minPort: 49152, maxPort: 65535 };

describe('SelfPeers', () => {
  const s = new SelfPeers(SELF);
  test.each([
    ['203.0.113.5', 3478, true, 'the TURN port'],
    ['203.0.113.5', 3479, true, 'the alternate STUN port'],
    ['203.0.113.5', 50001, true, 'a listener port inside the relay range'],
    ['203.0.113.5', 53, true, 'another service of the host'],
    ['::ffff:203.0.113.5', 3478, true, 'the IPv4-mapped spelling'],
    ['2001:db8:0:0:0:0:0:5', 3478, true, 'a long IPv6 spelling'],
    ['203.0.113.5', 50000, false, 'a relay port (another allocation of this relay)'],
    ['203.0.113.6', 3478, false, 'another host'],
    ['127.0.0.2', 3478, false, 'another loopback address (the deny table covers it)'],
  ])('%s:%i → denied %s (%s)', (address, port, denied) => {
    expect(s.denies(address, port)).toBe(denied);
  });
  test('no addresses: denies nothing', () => {
    expect(new SelfPeers({ ...SELF, addresses: [] }).denies('203.0.113.5', 3478)).toBe(false);
  });
});

describe('TurnCore.selfPeer', () => {
  test('denied once the shell set the addresses, unless allowSelfPeer', () => {
    const core = new TurnCore({ realm: 'hush', authSecret: 'x'.repeat(16) });
    expect(core.selfPeer('203.0.113.5', 3478)).toBe(false);
    core.setSelf(SELF);
    expect(core.selfPeer('203.0.113.5', 3478)).toBe(true);
    expect(core.selfPeer('203.0.113.5', 50000)).toBe(false);
    expect(core.isOwnAddress('::ffff:203.0.113.5')).toBe(true);
    const open = new TurnCore({ realm: 'hush', authSecret: 'x'.repeat(16), allowSelfPeer: true });
    open.setSelf(SELF);
    expect(open.selfPeer('203.0.113.5', 3478)).toBe(false);
  });
});
