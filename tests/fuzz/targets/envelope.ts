/**
 * The end-to-end signalling layer an extension runs on what the relay
 * delivers (docs/protocol.md §7):
 *
 *   envelope     parseEnvelope (lib/crypto/envelope-format.ts): throws only its
 *                documented typed errors; what it accepts splits exactly into
 *                version, known type, 16-byte call id and body;
 *   sealed-open  SealedChannel.open (lib/crypto/sealed-channel.ts) on mutated genuine
 *                SEALED envelopes and garbage: never throws; succeeds only on a byte-
 *                identical genuine envelope, once, with its plaintext (two opens of
 *                the same envelope racing: at most one wins);
 *   control      decodeControl (lib/call/control.ts), the JSON inside: never throws;
 *                returns null or a Control whose every field has its type and bound.
 */
import { isCryptoError, type CryptoErrorCode } from '../../../lib/crypto/errors';
import { CALL_ID_LEN, ENVELOPE_MAX, ENVELOPE_VERSION, EnvelopeType, encodePrefix, parseEnvelope } from '../../../lib/crypto/envelope-format';
import { SealedChannel } from '../../../lib/crypto/sealed-channel';
import { decodeControl, encodeControl } from '../../../lib/call/control';
import { enc, hexOf, invariant, textOf, type FuzzTarget } from '../engine';
import { genJsonFrame, jsonDictionary, shapeOf, type JsonShape } from './_json-gen';

const CALL_ID = new Uint8Array(CALL_ID_LEN).fill(0x5a);
const ENVELOPE_ERRORS = new Set<CryptoErrorCode>(['ERR_HANDSHAKE_FORMAT', 'ERR_UNSUPPORTED_VERSION']);

export async function envelopeTarget(): Promise<FuzzTarget> {
  const types = Object.values(EnvelopeType) as number[];
  return {
    name: 'envelope',
    about: 'parseEnvelope on arbitrary bytes: only ERR_HANDSHAKE_FORMAT/ERR_UNSUPPORTED_VERSION, and an accepted envelope splits exactly into prefix and body',
    seeds: types.map((t) => Buffer.concat([encodePrefix(t as EnvelopeType, CALL_ID), new Uint8Array(t === EnvelopeType.Hello ? 1632 : 40).fill(1)])),
    maxLen: ENVELOPE_MAX + 64,
    generate(rng) {
      const len = rng.chance(0.02) ? ENVELOPE_MAX - 2 + rng.int(5) : rng.int(200);
      const b = rng.bytes(Math.max(0, len));
      if (b.length > 1) {
        b[0] = rng.chance(0.9) ? ENVELOPE_VERSION : rng.int(256);
        b[1] = rng.chance(0.8) ? rng.pick(types) : rng.int(256);
      }
      return b;
    },
    run(input) {
      let env;
      try {
        env = parseEnvelope(input);
      } catch (e) {
        invariant(isCryptoError(e) && ENVELOPE_ERRORS.has(e.code), `parseEnvelope threw an undocumented error: ${String(e)}`);
        return `${e.code}:${e.message.replace(/\d+/g, 'N')}`;
      }
      invariant(input.length >= 18 && input.length <= ENVELOPE_MAX && input[0] === ENVELOPE_VERSION && types.includes(env.type), 'accepted a malformed envelope');
      invariant(hexOf(env.callId) === hexOf(input.subarray(2, 18)) && hexOf(env.prefix) === hexOf(input.subarray(0, 18)), 'prefix split');
      invariant(env.body.length === input.length - 18 && env.body.byteOffset === input.byteOffset + 18, 'body split');
      return `ok:${env.type}`;
    },
  };
}

const SEND_SECRET = new Uint8Array(32).fill(0x11);
const RECV_SECRET = new Uint8Array(32).fill(0x22);
const SEALED_ERRORS = new Set<CryptoErrorCode>(['ERR_HANDSHAKE_FORMAT', 'ERR_UNSUPPORTED_VERSION', 'ERR_HANDSHAKE_STATE', 'ERR_REPLAYED_FRAME', 'ERR_STALE_FRAME', 'ERR_DECRYPT']);

export async function sealedOpenTarget(): Promise<FuzzTarget> {
  // The peer seals with its send secret; we open with the same secret as our receive secret.
  const peer = await SealedChannel.create(CALL_ID, SEND_SECRET, RECV_SECRET);
  const genuine = new Map<string, string>(); // envelope hex -> plaintext hex
  const seeds: Uint8Array[] = [];
  for (let i = 0; i < 300; i++) {
    const plain = encodeControl(i % 3 === 0 ? { k: 'cand', c: { candidate: `candidate:${i} 1 udp 2122260223 198.51.100.7 ${40000 + i} typ host` } } : { k: 'ringing' });
    const env = await peer.seal(plain);
    genuine.set(hexOf(env), hexOf(plain));
    seeds.push(env);
  }
  let me = await SealedChannel.create(CALL_ID, RECV_SECRET, SEND_SECRET);
  let accepted = new Set<string>();
  const open = async (input: Uint8Array): Promise<string> => {
    const r = await me.open(input);
    if (!r.ok) {
      invariant(SEALED_ERRORS.has(r.error.code), `undocumented error ${r.error.code}`);
      return r.error.code;
    }
    const h = hexOf(input);
    const plain = genuine.get(h);
    invariant(plain !== undefined, `open() accepted an envelope the peer never sealed: ${h.slice(0, 80)}`);
    invariant(plain === hexOf(r.value), 'open() returned another plaintext');
    invariant(!accepted.has(h), 'open() accepted the same envelope twice (replay)');
    accepted.add(h);
    return 'opened';
  };
  return {
    name: 'sealed-open',
    about: 'SealedChannel.open on mutated genuine SEALED envelopes and garbage: never throws, opens only byte-identical genuine envelopes, each once, even when two opens race',
    seeds,
    maxLen: 2048,
    async run(input, rng) {
      if (rng.chance(0.05)) {
        // Two opens of one envelope at once: the replay window must let one through at most.
        const [a, b] = await Promise.all([open(input), open(input)]);
        return [a, b].sort().join('+');
      }
      return open(input);
    },
    async reset() {
      // A fresh receiver, so genuine envelopes open again (and replays are tested again).
      me = await SealedChannel.create(CALL_ID, RECV_SECRET, SEND_SECRET);
      accepted = new Set();
    },
    resetEvery: 20_000,
  };
}

const CONTROL_FIELDS: Record<string, string[]> = {
  offer: ['sdp', 'n', 'restart', 'relay', 'fresh'],
  answer: ['sdp', 'n'],
  restart: ['relay', 'fresh'],
  cand: ['c'],
  decline: ['why'],
};

const CONTROL_SHAPE: JsonShape = {
  tag: 'k',
  tags: ['invite', 'ringing', 'accept', 'answering', 'decline', 'busy', 'hangup', 'offer', 'restart', 'answer', 'cand'],
  keys: ['why', 'sdp', 'n', 'restart', 'relay', 'fresh', 'c', 'candidate', 'sdpMid', 'sdpMLineIndex', 'usernameFragment'],
  fields: CONTROL_FIELDS,
};

export async function controlTarget(): Promise<FuzzTarget> {
  const str = (v: unknown) => typeof v === 'string';
  const optBool = (v: unknown) => v === undefined || typeof v === 'boolean';
  return {
    name: 'control',
    about: 'decodeControl on arbitrary bytes: never throws; null or a Control with every field of its type and within its bound',
    seeds: [
      { k: 'invite' },
      { k: 'hangup' },
      { k: 'offer', sdp: 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n', n: 1, restart: true, relay: false, fresh: true },
      { k: 'answer', sdp: 'v=0\r\n', n: 1 },
      { k: 'restart', relay: true },
      { k: 'cand', c: { candidate: 'candidate:1 1 udp 2122260223 198.51.100.7 40000 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'abcd' } },
      { k: 'cand', c: null },
    ].map((c) => encodeControl(c as never)),
    maxLen: 4096,
    dictionary: [...jsonDictionary(CONTROL_SHAPE), enc('\xff'), enc('\\ud800')],
    generate: (rng) => genJsonFrame(rng, CONTROL_SHAPE),
    run(input) {
      const c = decodeControl(input);
      if (c === null) return 'null';
      switch (c.k) {
        case 'invite':
        case 'ringing':
        case 'accept':
        case 'answering':
        case 'busy':
        case 'hangup':
          invariant(Object.keys(c).length === 1, 'extra fields passed through');
          break;
        case 'decline':
          invariant(Object.keys(c).length === (c.why === 'mic' ? 2 : 1), 'decline: only why "mic" passes');
          break;
        case 'offer':
        case 'answer':
          invariant(str(c.sdp) && c.sdp.length <= 32 * 1024 && Number.isSafeInteger(c.n) && c.n >= 0, `${c.k} fields`);
          if (c.k === 'offer') invariant(optBool(c.restart) && optBool(c.relay) && optBool(c.fresh), 'offer flags');
          break;
        case 'restart':
          invariant(typeof c.relay === 'boolean' && optBool(c.fresh), 'restart flags');
          break;
        case 'cand':
          if (c.c !== null) {
            const x = c.c;
            invariant(str(x.candidate) && x.candidate.length <= 1024, 'candidate');
            invariant(x.sdpMid === null || str(x.sdpMid), 'sdpMid');
            invariant(x.sdpMLineIndex === null || typeof x.sdpMLineIndex === 'number', 'sdpMLineIndex');
            invariant(x.usernameFragment === null || str(x.usernameFragment), 'usernameFragment');
          }
          break;
        default: {
          const never: never = c;
          invariant(false, `unknown control ${JSON.stringify(never)}`);
        }
      }
      return `ok:${c.k} ${shapeOf(textOf(input), CONTROL_FIELDS[c.k] ?? [])}`;
    },
  };
}
