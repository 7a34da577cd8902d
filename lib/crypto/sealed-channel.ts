/**
 * Sealed signalling after the handshake: call control, SDP and ICE candidates
 * travel as SEALED envelopes, AES-256-GCM under the per-direction signal
 * secrets of the call. The relay sees the 18-byte prefix (version, type,
 * random call id), a sequence number and the length, nothing else.
 *
 *   prefix (18) ‖ seq (u32 BE) ‖ AES-GCM(key, nonce = 0^8 ‖ seq, aad = prefix ‖ seq, message) ‖ tag (16)
 *
 * Each key seals one direction of one call, so the sequence number alone
 * makes nonces unique. Receivers reject replays with the same 128-wide
 * window as frames (signalling may reorder across relay failover).
 */
import { concat, equalBytes, u32be } from './bytes';
import { importAesKey, open, seal } from './aead';
import { attemptAsync, fail, type Result } from './errors';
import { EnvelopeType, PREFIX_LEN, encodePrefix, parseEnvelope } from './envelope-format';
import { ReplayWindow } from './replay-window';

const MAX_SEQ = 2 ** 32 - 1;

export class SealedChannel {
  private seq = 0;
  private readonly window = new ReplayWindow();

  private constructor(
    readonly callId: Uint8Array,
    private readonly sendKey: CryptoKey,
    private readonly recvKey: CryptoKey,
  ) {}

  /** Import both directions' secrets (the caller wipes its copies afterwards). */
  static async create(callId: Uint8Array, sendSecret: Uint8Array, recvSecret: Uint8Array): Promise<SealedChannel> {
    return new SealedChannel(callId.slice(), await importAesKey(sendSecret), await importAesKey(recvSecret));
  }

  async seal(message: Uint8Array): Promise<Uint8Array> {
    if (this.seq > MAX_SEQ) fail('ERR_KEY_EXHAUSTED', 'signalling sequence exhausted');
    const seq = this.seq++;
    const head = concat(encodePrefix(EnvelopeType.Sealed, this.callId), u32be(seq));
    return concat(head, await seal(this.sendKey, nonceFor(seq), head, message));
  }

  /** The message, or a typed error (wrong call, tampered, replayed). Never throws. */
  async open(envelope: Uint8Array): Promise<Result<Uint8Array>> {
    return attemptAsync(async () => {
      const env = parseEnvelope(envelope);
      if (env.type !== EnvelopeType.Sealed) fail('ERR_HANDSHAKE_STATE', 'not a sealed message');
      if (!equalBytes(env.callId, this.callId)) fail('ERR_HANDSHAKE_STATE', 'sealed message for another call');
      if (env.body.length < 4 + 16) fail('ERR_HANDSHAKE_FORMAT', 'sealed message truncated');
      const seq = new DataView(env.body.buffer, env.body.byteOffset, 4).getUint32(0);
      const verdict = this.window.check(seq);
      if (verdict !== 'fresh') fail(verdict === 'replayed' ? 'ERR_REPLAYED_FRAME' : 'ERR_STALE_FRAME', `sealed message ${verdict}`);
      const head = envelope.subarray(0, PREFIX_LEN + 4);
      const plain = await open(this.recvKey, nonceFor(seq), head, env.body.subarray(4));
      if (this.window.check(seq) !== 'fresh') fail('ERR_REPLAYED_FRAME', 'sealed message replayed');
      this.window.accept(seq);
      return plain;
    }, 'ERR_HANDSHAKE_FORMAT');
  }
}

function nonceFor(seq: number): Uint8Array {
  const n = new Uint8Array(12);
  n.set(u32be(seq), 8);
  return n;
}
