/** Contact links (link.ts, issue 18): the https form of a card, and what the content script recognises. */
import { describe, expect, test } from 'vitest';
import { identityFromSeed } from '../crypto/identity';
import { addressFromBundle } from '../crypto/address';
import { addressFromLink, cardFromContactHref, contactLink, qrPayload } from './link';
import { isContactHrefLoose } from '../page-api/loader';

const A = addressFromBundle(identityFromSeed(new Uint8Array(32).fill(1)).bundleBytes);

describe('contact links', () => {
  test('the https link of a card is on its first relay, the card in the fragment; loopback uses http', () => {
    expect(contactLink(`${A}@relay.example`)).toBe(`https://relay.example/c#${A}@relay.example`);
    expect(contactLink(`web+hush:${A}@relay.example:8443,b.example`)).toBe(`https://relay.example:8443/c#${A}@relay.example:8443,b.example`);
    expect(contactLink(`${A}@127.0.0.1:9000`)).toBe(`http://127.0.0.1:9000/c#${A}@127.0.0.1:9000`);
    expect(contactLink(A)).toBeNull(); // no relay: no page to link to
  });

  test('round trip: the link gives back its card', () => {
    for (const card of [`${A}@relay.example`, `${A}@relay.example:8443,b.example`, `${A}@127.0.0.1:9000`]) {
      const href = contactLink(card)!;
      expect(cardFromContactHref(href)).toBe(card);
      expect(isContactHrefLoose(href)).toBe(true);
    }
  });

  test('recognised forms: percent-encoding, a web+hush: fragment, the default port written, a relative href', () => {
    expect(cardFromContactHref(`https://relay.example/c#${encodeURIComponent(`${A}@relay.example`)}`)).toBe(`${A}@relay.example`);
    expect(cardFromContactHref(`https://relay.example/c#web+hush:${A}@relay.example`)).toBe(`${A}@relay.example`);
    expect(cardFromContactHref(`https://relay.example/c#${A}@relay.example:443`)).toBe(`${A}@relay.example:443`);
    expect(cardFromContactHref(`/c#${A}@relay.example`, 'https://relay.example/c#x')).toBe(`${A}@relay.example`);
    expect(isContactHrefLoose(`https://relay.example/c#web%2Bhush:${A}@relay.example`)).toBe(true);
  });

  test('refused: another host than the card\'s relays, another path, a query, http off loopback, a bad address', () => {
    const bad = [
      `https://evil.example/c#${A}@relay.example`,
      `https://relay.example/contact#${A}@relay.example`,
      `https://relay.example/c/#${A}@relay.example`,
      `https://relay.example/c?x=1#${A}@relay.example`,
      `http://relay.example/c#${A}@relay.example`,
      `https://relay.example/c#${A}`,
      `https://relay.example/c#${A.slice(0, -1)}q@relay.example`,
      `https://relay.example:8443/c#${A}@relay.example`,
      'https://relay.example/c#',
      'web+hush:x',
      'not a url',
    ];
    for (const href of bad) expect(cardFromContactHref(href), href).toBeNull();
    for (const href of bad.slice(0, 5)) expect(isContactHrefLoose(href), href).toBe(false);
    expect(cardFromContactHref(null)).toBeNull();
    expect(isContactHrefLoose(undefined)).toBe(false);
  });

  test('a scanned or pasted contact link gives its address; the QR code carries the contact link on an https relay', () => {
    expect(addressFromLink(`https://relay.example/c#${A}@relay.example`)).toBe(A);
    expect(qrPayload(A, `${A}@relay.example`, 'wss://relay.example:443/signal')).toBe(`https://relay.example/c#${A}@relay.example`);
    expect(qrPayload(A, `${A}@127.0.0.1:9000`, 'ws://127.0.0.1:9000/signal')).toBe(`WEB+HUSH:${A.toUpperCase()}`);
    expect(qrPayload(A)).toBe(`WEB+HUSH:${A.toUpperCase()}`);
  });
});
