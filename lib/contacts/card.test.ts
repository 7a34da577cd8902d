/** Contact cards (card.ts): typed form, link, several relays, and clear refusals. */
import { describe, expect, test } from 'vitest';
import { identityFromSeed } from '../crypto/identity';
import { addressFromBundle } from '../crypto/address';
import { formatCard, hostOfRelayUrl, parseCard, relayUrlOfHost } from './card';

const A = addressFromBundle(identityFromSeed(new Uint8Array(32).fill(1)).bundleBytes);

describe('contact cards', () => {
  test('typed form and link: the address and its relays (wss://HOST/signal; ws:// on loopback)', () => {
    expect(parseCard(`${A}@relay.example`)).toEqual({ address: A, relays: ['wss://relay.example:443/signal'] });
    expect(parseCard(`web+hush:${A.toUpperCase()}@Relay.Example:8443,127.0.0.1:9000`)).toEqual({
      address: A,
      relays: ['wss://relay.example:8443/signal', 'ws://127.0.0.1:9000/signal'],
    });
    expect(parseCard(encodeURIComponent(`web+hush:${A}@relay.example`))).toEqual({ address: A, relays: ['wss://relay.example:443/signal'] });
  });

  test('a bare address (every card from before relays were named) has no hint', () => {
    expect(parseCard(` ${A} `)).toEqual({ address: A, relays: [] });
  });

  test('round trip through the typed form', () => {
    for (const relays of [['wss://relay.example:443/signal'], ['wss://relay.example:8443/signal', 'ws://127.0.0.1:9000/signal'], []]) {
      expect(parseCard(formatCard(A, relays))).toEqual({ address: A, relays });
    }
    expect(formatCard(A, ['wss://relay.example/other'])).toBe(A); // not the convention: left out
    expect(hostOfRelayUrl('wss://relay.example:443/signal')).toBe('relay.example');
  });

  test('refusals are sentences: a typo in the address, a host that is not one, too many relays', () => {
    expect(() => parseCard(`${A.slice(0, -1)}x@relay.example`)).toThrow(/typo/);
    expect(() => parseCard(`${A}@`)).toThrow(/host name/);
    expect(() => parseCard(`${A}@relay example`)).toThrow(/host name/);
    expect(() => parseCard(`${A}@a,b,c,d,e`)).toThrow(/at most 4/);
    expect(() => relayUrlOfHost('https://x')).toThrow(/host name/);
  });
});
