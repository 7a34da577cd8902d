/**
 * RFC 5769 ("Test Vectors for STUN") replayed byte for byte, as pion's
 * rfc5769_test.go does: MESSAGE-INTEGRITY (short- and long-term keys),
 * FINGERPRINT and XOR-MAPPED-ADDRESS for IPv4 and IPv6. The bytes below are
 * copied from RFC 5769 §2.1-§2.4; if one were mistyped, its integrity or
 * fingerprint check would fail, so the vectors check themselves too.
 */
import { describe, expect, test } from 'vitest';
import { Attr, Class, Method } from './constants';
import { fingerprintOk } from './fingerprint';
import { integrityOk, longTermKey } from './integrity';
import { attrValue, decodeStun, getAttr, StunWriter } from './message';
import { decodeXorAddress, encodeXorAddress } from './xor-address';
import { fingerprintOf } from './fingerprint';
import { integrityWith } from './integrity';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// §2.1 Sample Request (short-term credential, password "VOkJxbRl1RmTxUk/WvJxBt")
const REQUEST = hex(`
  00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
  00 24 00 04 6e 00 01 ff
  80 29 00 08 93 2f f9 b1 51 26 3b 36
  00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
  00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
  80 28 00 04 e5 7a 3b cf`);

// §2.2 Sample IPv4 Response: mapped address 192.0.2.1 port 32853
const RESPONSE_V4 = hex(`
  01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 08 00 01 a1 47 e1 12 a6 43
  00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
  80 28 00 04 c0 7d 4c 96`);

// §2.3 Sample IPv6 Response: mapped address 2001:db8:1234:5678:11:2233:4455:6677 port 32853
const RESPONSE_V6 = hex(`
  01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
  00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
  80 28 00 04 c8 fb 0b 4c`);

// §2.4 Sample Request with Long-Term Authentication: username "マトリックス",
// password "TheMatrIX" (after SASLprep), realm "example.org"
const REQUEST_LONG_TERM = hex(`
  00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
  00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00
  00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41
  00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
  00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66`);

const SHORT_TERM_KEY = new TextEncoder().encode('VOkJxbRl1RmTxUk/WvJxBt');

function decoded(b: Uint8Array) {
  const d = decodeStun(b);
  if (!d.ok) throw new Error(d.message);
  return d.value;
}

describe('RFC 5769 test vectors', () => {
  test('2.1 sample request: decodes, integrity (short-term) and fingerprint verify', () => {
    const m = decoded(REQUEST);
    expect(m.method).toBe(Method.Binding);
    expect(m.cls).toBe(Class.Request);
    expect(Buffer.from(attrValue(m, getAttr(m, Attr.Username)!)).toString()).toBe('evtj:h6vY');
    expect(integrityOk(m, SHORT_TERM_KEY)).toBe(true);
    expect(fingerprintOk(m)).toBe(true);
    expect(integrityOk(m, new TextEncoder().encode('wrong'))).toBe(false);
  });

  test('2.1 one flipped bit breaks integrity and fingerprint', () => {
    const bad = REQUEST.slice();
    bad[30] = bad[30]! ^ 0x01; // inside SOFTWARE
    const m = decoded(bad);
    expect(integrityOk(m, SHORT_TERM_KEY)).toBe(false);
    expect(fingerprintOk(m)).toBe(false);
  });

  test('2.2 IPv4 response: XOR-MAPPED-ADDRESS is 192.0.2.1:32853', () => {
    const m = decoded(RESPONSE_V4);
    expect(m.cls).toBe(Class.Success);
    expect(integrityOk(m, SHORT_TERM_KEY)).toBe(true);
    expect(fingerprintOk(m)).toBe(true);
    const x = decodeXorAddress(attrValue(m, getAttr(m, Attr.XorMappedAddress)!), m.transactionId);
    expect(x).toEqual({ ok: true, value: { family: 4, address: '192.0.2.1', port: 32853 } });
    // And our encoder produces the same attribute bytes.
    expect(Buffer.from(encodeXorAddress({ family: 4, address: '192.0.2.1', port: 32853 }, m.transactionId)).toString('hex')).toBe('0001a147e112a643');
  });

  test('2.3 IPv6 response: XOR-MAPPED-ADDRESS is 2001:db8:1234:5678:11:2233:4455:6677 port 32853', () => {
    const m = decoded(RESPONSE_V6);
    expect(integrityOk(m, SHORT_TERM_KEY)).toBe(true);
    expect(fingerprintOk(m)).toBe(true);
    const x = decodeXorAddress(attrValue(m, getAttr(m, Attr.XorMappedAddress)!), m.transactionId);
    expect(x).toEqual({ ok: true, value: { family: 6, address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 } });
    expect(Buffer.from(encodeXorAddress({ family: 6, address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 }, m.transactionId)).toString('hex')).toBe(
      '0002a1470113a9faa5d3f179bc25f4b5bed2b9d9',
    );
  });

  test('2.4 long-term credentials: key = MD5(username:realm:password)', () => {
    const m = decoded(REQUEST_LONG_TERM);
    const key = longTermKey('\u30de\u30c8\u30ea\u30c3\u30af\u30b9', 'example.org', 'TheMatrIX');
    expect(integrityOk(m, key)).toBe(true);
    expect(integrityOk(m, longTermKey('\u30de\u30c8\u30ea\u30c3\u30af\u30b9', 'example.org', 'TheMatrix'))).toBe(false);
  });

  test('our writer reproduces the 2.2 response byte for byte', () => {
    const src = decoded(RESPONSE_V4);
    const w = new StunWriter(Method.Binding, Class.Success, src.transactionId);
    w.add(Attr.Software, new TextEncoder().encode('test vector'));
    w.add(Attr.XorMappedAddress, encodeXorAddress({ family: 4, address: '192.0.2.1', port: 32853 }, src.transactionId));
    const out = w.finish({ integrity: integrityWith(SHORT_TERM_KEY), fingerprint: fingerprintOf });
    // RFC 5769 pads SOFTWARE with spaces (0x20), we pad with zeros, so compare after the padding.
    const ours = Buffer.from(out);
    const theirs = Buffer.from(RESPONSE_V4);
    expect(ours.subarray(0, 20 + 4 + 11)).toEqual(theirs.subarray(0, 20 + 4 + 11));
    expect(ours.subarray(36, 48)).toEqual(theirs.subarray(36, 48));
    // Integrity and fingerprint are over our own bytes and must verify.
    const m = decoded(out);
    expect(integrityOk(m, SHORT_TERM_KEY)).toBe(true);
    expect(fingerprintOk(m)).toBe(true);
  });
});
