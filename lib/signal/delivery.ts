/**
 * What the relay carries in `send.data` / `deliver.data`, signalling
 * protocol v2 (docs/relay-protocol.md §Deliveries): the envelope
 * (lib/crypto/envelope-format.ts), the sender's reply route sealed inside,
 * and zero padding up to a size bucket.
 *
 *    0        1                3              3+r            7+r          7+r+n         bucket
 *   +--------+----------------+--------------+--------------+-------------+-------------+
 *   | 0x02   | route len r u16| route box (r)| env len n u32| envelope (n)| 0x00 …      |
 *   +--------+----------------+--------------+--------------+-------------+-------------+
 *
 *   route box = AES-256-GCM(key, nonce 0^12, aad = envelope prefix (18 bytes), tag(16) ‖ utf8(relay url))
 *   key       = HKDF-SHA256(ikm = recipient's address tag, salt = call id, info "hush/v2/route")
 *
 * Only a HELLO carries a route (r > 0): it is how the callee learns where to
 * answer, since `deliver` no longer says who sent it. Every later envelope of
 * the call is matched to its peer by call id (call-routes.ts). The key needs
 * the recipient's address tag, which the relay never has (it sees the
 * mailbox, a one-way hash of tag and relay URL); one key per call id, so the
 * fixed nonce is never reused with another plaintext.
 *
 * Padding: the whole delivery is padded to the smallest of PAD_BUCKETS that
 * holds it, so accept, decline, busy, hang-up, candidates and REVEAL are all
 * 1 KiB, and the relay learns a size class, never which control message.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { importAesKey, open, seal } from '../crypto/aead';
import { concat, fromHex, toHex, u16be, u32be, utf8, wipe } from '../crypto/bytes';
import { EnvelopeType, PREFIX_LEN, parseEnvelope } from '../crypto/envelope-format';

export const DELIVERY_FORMAT = 0x02;
/**
 * Padded sizes, bytes. 1 KiB: call control, candidates, REVEAL; 4 KiB: HELLO,
 * most SDP; 16 KiB: RESPONSE and CONFIRM (about 10.6 KB each). The largest
 * keeps the base64 `send` frame (4/3 of it plus ~80 bytes of JSON) under the
 * relay's 64 KiB frame limit; an envelope that does not fit is refused here
 * rather than closed by the relay (SDP is capped at 32 KiB, control.ts).
 */
export const PAD_BUCKETS = [1024, 4096, 16384, 47 * 1024] as const;
const HEADER = 1 + 2 + 4;
const ROUTE_INFO = utf8('hush/v2/route');
const TAG_LEN = 16;

/** Where to answer a HELLO: the caller's address tag and the canonical URL of its relay. */
export interface Route {
  tag: string;
  url: string;
}

export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  readonly code = 'ERR_BAD_DELIVERY';
}

function bad(message: string): never {
  throw new DeliveryError(message);
}

/** The padded size for `n` bytes of content; throws when it fits no bucket. */
export function bucketFor(n: number): number {
  for (const b of PAD_BUCKETS) if (n <= b) return b;
  return bad(`a delivery of ${n} bytes is larger than the largest size class (${PAD_BUCKETS[PAD_BUCKETS.length - 1]} bytes)`);
}

async function routeKey(recipientTag: string, callId: Uint8Array): Promise<CryptoKey> {
  const raw = hkdf(sha256, fromHex(recipientTag), callId, ROUTE_INFO, 32);
  try {
    return await importAesKey(raw);
  } finally {
    wipe(raw);
  }
}

/**
 * Wrap `envelope` for the relay. A HELLO must carry `route` (sealed to
 * `recipientTag`); any other envelope must not.
 */
export async function wrapDelivery(envelope: Uint8Array, opts: { route?: Route; recipientTag?: string } = {}): Promise<Uint8Array> {
  const env = parseEnvelope(envelope);
  let box: Uint8Array = new Uint8Array(0);
  if (env.type === EnvelopeType.Hello) {
    if (!opts.route || !opts.recipientTag) bad('a HELLO needs the sender route and the recipient tag');
    const key = await routeKey(opts.recipientTag, env.callId);
    box = await seal(key, new Uint8Array(12), env.prefix, concat(fromHex(opts.route.tag), utf8(opts.route.url)));
  } else if (opts.route) {
    bad('only a HELLO carries a route');
  }
  if (box.length > 0xffff) bad('route too long');
  const content = concat(new Uint8Array([DELIVERY_FORMAT]), u16be(box.length), box, u32be(envelope.length), envelope);
  const out = new Uint8Array(bucketFor(content.length));
  out.set(content);
  return out;
}

/** A delivery as read: the envelope, and for a HELLO the sender's still-sealed route. */
export interface Delivery {
  envelope: Uint8Array;
  routeBox?: Uint8Array;
}

/** Parse a padded delivery (sizes, format, zero padding). Throws DeliveryError. */
export function unwrapDelivery(bytes: Uint8Array): Delivery {
  if (!(bytes instanceof Uint8Array) || !(PAD_BUCKETS as readonly number[]).includes(bytes.length)) {
    bad('a delivery is not one of the padded sizes');
  }
  if (bytes[0] !== DELIVERY_FORMAT) bad(`unknown delivery format ${bytes[0]}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const r = dv.getUint16(1);
  if (HEADER + r > bytes.length) bad('route length past the end');
  const n = dv.getUint32(3 + r);
  const start = HEADER + r;
  if (n < PREFIX_LEN || start + n > bytes.length) bad('envelope length past the end');
  for (let i = start + n; i < bytes.length; i++) if (bytes[i] !== 0) bad('padding is not zero');
  const envelope = bytes.slice(start, start + n);
  const type = parseEnvelope(envelope).type;
  if ((type === EnvelopeType.Hello) !== r > 0) bad(r > 0 ? 'only a HELLO carries a route' : 'a HELLO without a route');
  return r > 0 ? { envelope, routeBox: bytes.slice(3, 3 + r) } : { envelope };
}

/** Open a HELLO's route with our own address tag. Throws DeliveryError (or ERR_DECRYPT's CryptoError). */
export async function openRoute(myTag: string, envelope: Uint8Array, box: Uint8Array): Promise<Route> {
  const env = parseEnvelope(envelope);
  const key = await routeKey(myTag, env.callId);
  const plain = await open(key, new Uint8Array(12), env.prefix, box);
  if (plain.length <= TAG_LEN) bad('route too short');
  const url = new TextDecoder('utf-8', { fatal: true }).decode(plain.subarray(TAG_LEN));
  return { tag: toHex(plain.subarray(0, TAG_LEN)), url };
}
