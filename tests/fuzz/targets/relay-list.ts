/**
 * The relay list inside RESPONSE and CONFIRM (lib/crypto/relay-list.ts,
 * docs/protocol.md §5, envelope version 3): what a peer signed, read after
 * the handshake AEAD opened it.
 *
 *   relay-list  decodeRelayList on arbitrary bytes: throws only
 *               ERR_HANDSHAKE_FORMAT; what it accepts is at most 4 distinct
 *               canonical relay URLs, ends inside the input, and re-encodes to
 *               exactly the bytes read (one list, one encoding).
 */
import { isCryptoError } from '../../../lib/crypto/errors';
import { decodeRelayList, encodeRelayList, RELAY_LIST_MAX, RELAY_LIST_MAX_BYTES } from '../../../lib/crypto/relay-list';
import { canonicalForm } from '../../../lib/signal/relay-url';
import { enc, hexOf, invariant, type FuzzTarget } from '../engine';

const URLS = ['wss://r1.example:443/signal', 'ws://127.0.0.1:8080/signal', 'wss://[2001:db8::1]:8443/x', 'wss://relay.example:443/'];

export async function relayListTarget(): Promise<FuzzTarget> {
  return {
    name: 'relay-list',
    about: 'decodeRelayList on arbitrary bytes: only ERR_HANDSHAKE_FORMAT; an accepted list is ≤4 distinct canonical URLs and re-encodes byte for byte',
    seeds: [Uint8Array.of(0), encodeRelayList(URLS.slice(0, 1)), encodeRelayList(URLS), encodeRelayList(URLS.slice(1, 3))],
    dictionary: [...URLS.map(enc), enc('wss://'), enc('ws://'), enc(':443'), enc('/signal'), Uint8Array.of(0xff, 0xfe)],
    maxLen: RELAY_LIST_MAX_BYTES + 16,
    generate(rng) {
      const n = rng.int(RELAY_LIST_MAX + 2);
      const parts: number[] = [n];
      for (let i = 0; i < n; i++) {
        const u = rng.chance(0.7) ? enc(rng.pick(URLS)) : rng.bytes(rng.int(40));
        parts.push(rng.chance(0.9) ? u.length : rng.int(256), ...u);
      }
      return Uint8Array.from(parts);
    },
    run(input) {
      let r;
      try {
        r = decodeRelayList(input);
      } catch (e) {
        invariant(isCryptoError(e) && e.code === 'ERR_HANDSHAKE_FORMAT', `decodeRelayList threw an undocumented error: ${String(e)}`);
        return `${e.code}:${e.message.replace(/\d+/g, 'N')}`;
      }
      invariant(r.relays.length <= RELAY_LIST_MAX && r.end <= input.length, 'accepted too many relays or read past the end');
      invariant(new Set(r.relays).size === r.relays.length, 'accepted a relay twice');
      for (const u of r.relays) invariant(canonicalForm(u) === u, 'accepted a URL that is not canonical');
      invariant(hexOf(encodeRelayList(r.relays)) === hexOf(input.subarray(0, r.end)), 'one list, two encodings');
      return `ok:${r.relays.length}`;
    },
  };
}
