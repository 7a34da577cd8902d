/**
 * STUN message decoding (relay-server/src/stun/message.ts) and the attribute
 * value parsers the core runs on what it decoded: text attributes, XOR
 * addresses, ERROR-CODE, FINGERPRINT. Invariants: decodeStun never throws and
 * fails only with ERR_TRUNCATED/ERR_MALFORMED; what it accepts is a
 * well-formed message (length field, attribute bounds, MI/FINGERPRINT
 * placement) that StunWriter re-encodes to the same bytes.
 */
import { Attr, HEADER_LEN } from '../../../relay-server/src/stun/constants';
import { decodeErrorCode } from '../../../relay-server/src/stun/error-code';
import { fingerprintOk } from '../../../relay-server/src/stun/fingerprint';
import { decodeStun, looksLikeStun, messageType, readU16, StunWriter } from '../../../relay-server/src/stun/message';
import { MAX_USERNAME_BYTES, textAttr } from '../../../relay-server/src/stun/text-attrs';
import { decodeXorAddress } from '../../../relay-server/src/stun/xor-address';
import { fromHex, invariant, type FuzzTarget } from '../engine';
import { genStun, mutateStunStructure, typicalRequests } from './_stun-gen';

/** RFC 5769 §2.1-§2.4, byte for byte (as in stun/rfc5769.test.ts). */
export const RFC5769 = [
  '000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74002400046e0001ff80290008932ff9b151263b36' +
    '000600096576746a3a68367659202020000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a280280004e57a3bcf',
  '0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220002000080001a147e112a643' +
    '000800142b91f599fd9e90c38c7489f92af9ba53f06be7d780280004c07d4c96',
  '010100482112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d9' +
    '00080014a382954e4be67bf11784c97c8292c275bfe3ed4180280004c8fb0b4c',
  '000100602112a44278ad3433c6ad72c029da412e00060012e3839ee38388e383aae38383e382afe382b900000015001c662f2f3439396b3935346436' +
    '4f4c33346f4c394653547679363473410014000b6578616d706c652e6f72670000080014f67024656dd64a3e02b8e0712e85c9a28ca89666',
].map(fromHex);

const XOR_TYPES = new Set<number>([Attr.XorMappedAddress, Attr.XorPeerAddress, Attr.XorRelayedAddress]);

export async function stunDecodeTarget(): Promise<FuzzTarget> {
  return {
    name: 'stun-decode',
    about: 'decodeStun + attribute value parsers on arbitrary bytes: never throws, only ERR_TRUNCATED/ERR_MALFORMED, accepted messages are well-formed and re-encode identically',
    seeds: [...RFC5769, ...typicalRequests()],
    maxLen: 4096,
    dictionary: [
      fromHex('2112a442'),
      fromHex('00080014'), // MESSAGE-INTEGRITY header
      fromHex('80280004'), // FINGERPRINT header
      fromHex('00120008'), // XOR-PEER-ADDRESS v4 header
      fromHex('00120014'), // XOR-PEER-ADDRESS v6 header
      fromHex('00190004' + '11000000'), // REQUESTED-TRANSPORT udp
      fromHex('000c0004' + '40000000'), // CHANNEL-NUMBER
    ],
    generate: (rng) => genStun(rng),
    mutateStructured: mutateStunStructure,
    run(input) {
      const d = decodeStun(input);
      if (!d.ok) {
        invariant(d.code === 'ERR_TRUNCATED' || d.code === 'ERR_MALFORMED', `unexpected error code ${d.code}`);
        return `err:${d.message}`;
      }
      const m = d.value;
      invariant(looksLikeStun(input), 'accepted bytes that do not look like STUN');
      invariant(m.raw === input && input.length === HEADER_LEN + readU16(input, 2), 'length field does not match the message');
      invariant(messageType(m.method, m.cls) === readU16(input, 0), 'method/class do not re-encode to the type field');
      let last = HEADER_LEN;
      for (const a of m.attributes) {
        invariant(a.offset >= last + 4 && a.offset + a.length <= input.length, 'attribute outside the message');
        invariant(readU16(input, a.offset - 4) === a.type && readU16(input, a.offset - 2) === a.length, 'attribute header mismatch');
        last = a.offset + a.length;
      }
      if (m.integrityAt >= 0) invariant(readU16(input, m.integrityAt) === Attr.MessageIntegrity && m.integrityAt + 24 <= input.length, 'MESSAGE-INTEGRITY misplaced');
      if (m.fingerprintAt >= 0) invariant(readU16(input, m.fingerprintAt) === Attr.Fingerprint && m.fingerprintAt + 8 === input.length, 'FINGERPRINT not last');
      if (m.integrityAt < 0 && m.fingerprintAt < 0) {
        // Differential: StunWriter writes the same bytes (padding aside, which it zeroes).
        const w = new StunWriter(m.method, m.cls, m.transactionId);
        for (const a of m.attributes) w.add(a.type, input.subarray(a.offset, a.offset + a.length));
        const again = w.bytes();
        const expect = input.slice();
        for (const a of m.attributes) expect.fill(0, a.offset + a.length, a.offset + ((a.length + 3) & ~3));
        invariant(again.length === expect.length && again.every((b, i) => b === expect[i]), 'StunWriter does not re-encode the decoded message');
      }
      // The value parsers the TURN core runs on these attributes.
      const parts: string[] = [m.cls === 0 ? 'ok:request' : 'ok:other', m.integrityAt >= 0 ? 'mi' : '', m.fingerprintAt >= 0 ? (fingerprintOk(m) ? 'fp' : 'badfp') : ''];
      const u = textAttr(m, Attr.Username, MAX_USERNAME_BYTES);
      parts.push(u === undefined ? '' : u === null ? 'user-bad' : 'user');
      for (const a of m.attributes) {
        if (XOR_TYPES.has(a.type)) {
          const x = decodeXorAddress(input.subarray(a.offset, a.offset + a.length), m.transactionId);
          parts.push(x.ok ? 'xaddr' : 'xaddr-bad');
        } else if (a.type === Attr.ErrorCode) {
          parts.push(decodeErrorCode(input.subarray(a.offset, a.offset + a.length)) ? 'ec' : 'ec-bad');
        }
      }
      return [...new Set(parts.filter(Boolean))].sort().join(' ');
    },
  };
}
