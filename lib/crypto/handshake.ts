/**
 * The call handshake (docs/protocol.md §Handshake): three messages, a fresh
 * ML-KEM-1024 + X25519 key per call, both identities signing the transcript.
 *
 *   Caller A                                   Callee B
 *   HELLO    ek_A, x_A            ───────▶     (ephemeral keys only, no identity)
 *                                 ◀───────     RESPONSE ct_B = Encaps(ek_A), y_B,
 *                                              AEAD_hs_b2a(bundle_B ‖ Sig_B(TH2))
 *   CONFIRM  AEAD_hs_a2b(bundle_A ‖ ct_S = Encaps(B's static ek) ‖ Sig_A(TH3) ‖ payload)
 *                                 ───────▶
 *
 *   TH1 = H("hush/v1/th1" ‖ HELLO ‖ RESPONSE prefix ‖ ct_B ‖ y_B)
 *   TH2 = H("hush/v1/th2" ‖ TH1 ‖ bundle_B)                  signed by B
 *   TH3 = H("hush/v1/th3" ‖ TH2 ‖ sig_B ‖ bundle_A ‖ ct_S ‖ lp(payload))   signed by A
 *   THf = H("hush/v1/thf" ‖ TH3 ‖ sig_A)                     salts the master secret
 *
 * What this gives: forward secrecy (ephemeral KEM and DH, wiped after use);
 * mutual authentication (hybrid signatures over everything either side sent
 * or received); the callee's keys are also implicitly authenticated (only
 * the holder of B's static keys derives the session); the caller checks that
 * B's keys hash to the address it dialled; A's identity is revealed only to
 * the verified B. Any byte changed in transit fails the handshake with a
 * typed error: a tampered ciphertext yields a different KEM secret (implicit
 * rejection) and the AEAD fails; a swapped key fails a signature.
 *
 * Caveat: the callee learns the caller's identity only at CONFIRM, so it
 * answers HELLO from anyone (cheap, rate-limited by the relay).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, equalBytes, lp, utf8, wipe } from './bytes';
import {
  BUNDLE_LEN,
  HYBRID_SIG_LEN,
  MLKEM1024_CT_LEN,
  MLKEM1024_EK_LEN,
  SIG_CTX,
  X25519_PK_LEN,
} from './constants';
import { open, seal, importAesKey } from './aead';
import { addressHash } from './address';
import { CryptoError, attemptAsync, fail, type Result } from './errors';
import { decodeBundle, signHybrid, verifyHybrid, type Identity, type IdentityBundle } from './identity';
import {
  mlkemDecaps,
  mlkemEncaps,
  mlkemKeygen,
  systemRng,
  x25519Keygen,
  x25519Shared,
  type Rng,
} from './kem';
import { handshakeSecrets, sessionSecrets, type SessionSecrets } from './key-schedule';
import { sasFromBytes } from './sas';
import { CALL_ID_LEN, EnvelopeType, encodePrefix, parseEnvelope } from './envelope-format';

const ZERO_NONCE = new Uint8Array(12); // each handshake key seals exactly one message
const DS = {
  th1: utf8('hush/v1/th1'),
  th2: utf8('hush/v1/th2'),
  th3: utf8('hush/v1/th3'),
  thf: utf8('hush/v1/thf'),
};

export interface HandshakeOptions {
  /** Randomness source; injected by known-answer tests only. */
  rng?: Rng;
  /** Deterministic ML-DSA signing (known-answer tests only; hedged otherwise). */
  deterministic?: boolean;
}

/** What both sides hold once the handshake completed. */
export interface CallKeys {
  callId: Uint8Array;
  role: 'caller' | 'callee';
  peerBundle: IdentityBundle;
  peerBundleBytes: Uint8Array;
  /** Six digits to read aloud, equal on both sides. */
  sas: string;
  /** Raw secrets: hand the frame secrets to the frame worker, the signal secrets to a SealedChannel, then wipe. */
  secrets: SessionSecrets;
  /** THf, for known-answer tests and diagnostics (not secret). */
  transcriptHash: Uint8Array;
}

function stateError<T>(message: string): Result<T> {
  return { ok: false, error: new CryptoError('ERR_HANDSHAKE_STATE', message) };
}

function h(...parts: Uint8Array[]): Uint8Array {
  return sha256(concat(...parts));
}

// ─── Caller ──────────────────────────────────────────────────────────────────

/**
 * Caller states:  Start ──hello()──▶ AwaitResponse ──onResponse()──▶ Done
 *                                         └──(any error)──▶ Failed
 */
export class CallerHandshake {
  private state: 'start' | 'await-response' | 'done' | 'failed' = 'start';
  private readonly rng: Rng;
  readonly callId: Uint8Array;
  private hello?: Uint8Array;
  private kem?: { ek: Uint8Array; dk: Uint8Array };
  private dh?: { pk: Uint8Array; sk: Uint8Array };

  constructor(
    private readonly me: Identity,
    /** Address hash (20 bytes) of the party dialled: its keys must hash to this. */
    private readonly peerAddressHash: Uint8Array,
    private readonly opts: HandshakeOptions = {},
  ) {
    this.rng = opts.rng ?? systemRng;
    this.callId = this.rng(CALL_ID_LEN);
  }

  /** Message 1: HELLO. */
  start(): Uint8Array {
    if (this.state !== 'start') fail('ERR_HANDSHAKE_STATE', 'handshake already started');
    this.kem = mlkemKeygen(this.rng);
    this.dh = x25519Keygen(this.rng);
    this.hello = concat(encodePrefix(EnvelopeType.Hello, this.callId), this.kem.ek, this.dh.pk);
    this.state = 'await-response';
    return this.hello;
  }

  /** Message 2 in, message 3 (CONFIRM, carrying `payload`) out, with the call keys. Never throws. */
  async onResponse(response: Uint8Array, payload: Uint8Array = new Uint8Array(0)): Promise<Result<{ confirm: Uint8Array; keys: CallKeys }>> {
    if (this.state !== 'await-response') return stateError('no handshake is waiting for a response');
    const r = await attemptAsync(() => this.respond(response, payload), 'ERR_HANDSHAKE_FORMAT');
    this.state = r.ok ? 'done' : 'failed';
    this.wipeEphemeral();
    return r;
  }

  private async respond(response: Uint8Array, payload: Uint8Array) {
    if (this.state !== 'await-response' || !this.kem || !this.dh || !this.hello) {
      fail('ERR_HANDSHAKE_STATE', 'no handshake is waiting for a response');
    }
    const env = parseEnvelope(response);
    if (env.type !== EnvelopeType.Response) fail('ERR_HANDSHAKE_STATE', 'expected a RESPONSE');
    if (!equalBytes(env.callId, this.callId)) fail('ERR_HANDSHAKE_STATE', 'RESPONSE for another call');
    const b = env.body;
    const minLen = MLKEM1024_CT_LEN + X25519_PK_LEN + BUNDLE_LEN + HYBRID_SIG_LEN + 16;
    if (b.length !== minLen) fail('ERR_HANDSHAKE_FORMAT', `RESPONSE body must be ${minLen} bytes, got ${b.length}`);
    const ctB = b.subarray(0, MLKEM1024_CT_LEN);
    const yB = b.subarray(MLKEM1024_CT_LEN, MLKEM1024_CT_LEN + X25519_PK_LEN);
    const sealedB = b.subarray(MLKEM1024_CT_LEN + X25519_PK_LEN);

    const ssE = mlkemDecaps(ctB, this.kem.dk);
    const ssX = x25519Shared(this.dh.sk, yB);
    const th1 = h(DS.th1, this.hello, env.prefix, ctB, yB);
    const hs = handshakeSecrets(th1, ssE, ssX);
    wipe(ssE, ssX);
    let ssS: Uint8Array | undefined;
    let ssXs: Uint8Array | undefined;
    try {
      const kB2a = await importAesKey(hs.b2a);
      const inner = await open(kB2a, ZERO_NONCE, concat(env.prefix, ctB, yB), sealedB);
      const bundleBBytes = inner.subarray(0, BUNDLE_LEN);
      const sigB = inner.subarray(BUNDLE_LEN);
      const bundleB = decodeBundle(bundleBBytes);
      if (!equalBytes(addressHash(bundleBBytes), this.peerAddressHash)) {
        fail('ERR_ADDRESS_MISMATCH', 'the answering keys do not belong to the address called');
      }
      const th2 = h(DS.th2, th1, bundleBBytes);
      if (!verifyHybrid(bundleB, SIG_CTX.handshakeCallee, th2, sigB)) {
        fail('ERR_BAD_SIGNATURE', "the callee's transcript signature does not verify");
      }

      // Implicit authentication of B: encapsulate to B's static keys.
      const { ct: ctS, ss } = mlkemEncaps(bundleB.mlkemEk, this.rng);
      ssS = ss;
      ssXs = x25519Shared(this.dh.sk, bundleB.x25519Pk);
      const th3 = h(DS.th3, th2, sigB, this.me.bundleBytes, ctS, lp(payload));
      const sigA = signHybrid(this.me, SIG_CTX.handshakeCaller, th3, { deterministic: this.opts.deterministic });
      const thf = h(DS.thf, th3, sigA);
      const secrets = sessionSecrets(thf, hs.hs, ssS, ssXs);

      const prefix = encodePrefix(EnvelopeType.Confirm, this.callId);
      const kA2b = await importAesKey(hs.a2b);
      const sealedA = await seal(kA2b, ZERO_NONCE, prefix, concat(this.me.bundleBytes, ctS, sigA, payload));
      const keys: CallKeys = {
        callId: this.callId,
        role: 'caller',
        peerBundle: bundleB,
        peerBundleBytes: bundleBBytes.slice(),
        sas: sasFromBytes(secrets.sas),
        secrets,
        transcriptHash: thf,
      };
      return { confirm: concat(prefix, sealedA), keys };
    } finally {
      wipe(hs.hs, hs.a2b, hs.b2a, ssS, ssXs);
    }
  }

  private wipeEphemeral(): void {
    wipe(this.kem?.dk, this.dh?.sk);
    this.kem = undefined;
    this.dh = undefined;
  }
}

// ─── Callee ──────────────────────────────────────────────────────────────────

/**
 * Callee states:  Start ──onHello()──▶ AwaitConfirm ──onConfirm()──▶ Done
 *                                          └──(any error)──▶ Failed
 */
export class CalleeHandshake {
  private state: 'start' | 'await-confirm' | 'done' | 'failed' = 'start';
  private readonly rng: Rng;
  callId?: Uint8Array;
  private pending?: { th2: Uint8Array; sigB: Uint8Array; hs: Uint8Array; a2b: Uint8Array; xA: Uint8Array };

  constructor(
    private readonly me: Identity,
    private readonly opts: HandshakeOptions = {},
  ) {
    this.rng = opts.rng ?? systemRng;
  }

  /** Message 1 in, message 2 (RESPONSE) out. Never throws. */
  async onHello(hello: Uint8Array): Promise<Result<Uint8Array>> {
    // A message in the wrong state is refused without disturbing the handshake under way.
    if (this.state !== 'start') return stateError('HELLO already answered');
    const r = await attemptAsync(() => this.answer(hello), 'ERR_HANDSHAKE_FORMAT');
    if (!r.ok) this.fail();
    return r;
  }

  private async answer(hello: Uint8Array): Promise<Uint8Array> {
    if (this.state !== 'start') fail('ERR_HANDSHAKE_STATE', 'HELLO already answered');
    const env = parseEnvelope(hello);
    if (env.type !== EnvelopeType.Hello) fail('ERR_HANDSHAKE_STATE', 'expected a HELLO');
    if (env.body.length !== MLKEM1024_EK_LEN + X25519_PK_LEN) {
      fail('ERR_HANDSHAKE_FORMAT', `HELLO body must be ${MLKEM1024_EK_LEN + X25519_PK_LEN} bytes`);
    }
    const ekA = env.body.subarray(0, MLKEM1024_EK_LEN);
    const xA = env.body.slice(MLKEM1024_EK_LEN);
    this.callId = env.callId;

    const { ct: ctB, ss: ssE } = mlkemEncaps(ekA, this.rng);
    const dh = x25519Keygen(this.rng);
    const ssX = x25519Shared(dh.sk, xA);
    wipe(dh.sk);
    const prefix = encodePrefix(EnvelopeType.Response, env.callId);
    const th1 = h(DS.th1, hello, prefix, ctB, dh.pk);
    const hs = handshakeSecrets(th1, ssE, ssX);
    wipe(ssE, ssX);

    const th2 = h(DS.th2, th1, this.me.bundleBytes);
    const sigB = signHybrid(this.me, SIG_CTX.handshakeCallee, th2, { deterministic: this.opts.deterministic });
    const kB2a = await importAesKey(hs.b2a);
    wipe(hs.b2a);
    const sealed = await seal(kB2a, ZERO_NONCE, concat(prefix, ctB, dh.pk), concat(this.me.bundleBytes, sigB));
    this.pending = { th2, sigB, hs: hs.hs, a2b: hs.a2b, xA };
    this.state = 'await-confirm';
    return concat(prefix, ctB, dh.pk, sealed);
  }

  /** Message 3 in: the caller's identity, its payload and the call keys. Never throws. */
  async onConfirm(confirm: Uint8Array): Promise<Result<{ keys: CallKeys; payload: Uint8Array }>> {
    if (this.state !== 'await-confirm') return stateError('no handshake awaits a CONFIRM');
    const r = await attemptAsync(() => this.finish(confirm), 'ERR_HANDSHAKE_FORMAT');
    if (r.ok) this.state = 'done';
    this.fail(r.ok);
    return r;
  }

  private async finish(confirm: Uint8Array) {
    const p = this.pending;
    if (this.state !== 'await-confirm' || !p || !this.callId) fail('ERR_HANDSHAKE_STATE', 'no handshake awaits a CONFIRM');
    const env = parseEnvelope(confirm);
    if (env.type !== EnvelopeType.Confirm) fail('ERR_HANDSHAKE_STATE', 'expected a CONFIRM');
    if (!equalBytes(env.callId, this.callId)) fail('ERR_HANDSHAKE_STATE', 'CONFIRM for another call');
    const kA2b = await importAesKey(p.a2b);
    const inner = await open(kA2b, ZERO_NONCE, env.prefix, env.body);
    const fixed = BUNDLE_LEN + MLKEM1024_CT_LEN + HYBRID_SIG_LEN;
    if (inner.length < fixed) fail('ERR_HANDSHAKE_FORMAT', 'CONFIRM too short');
    const bundleABytes = inner.slice(0, BUNDLE_LEN);
    const ctS = inner.subarray(BUNDLE_LEN, BUNDLE_LEN + MLKEM1024_CT_LEN);
    const sigA = inner.subarray(BUNDLE_LEN + MLKEM1024_CT_LEN, fixed);
    const payload = inner.slice(fixed);
    const bundleA = decodeBundle(bundleABytes);

    const th3 = h(DS.th3, p.th2, p.sigB, bundleABytes, ctS, lp(payload));
    if (!verifyHybrid(bundleA, SIG_CTX.handshakeCaller, th3, sigA)) {
      fail('ERR_BAD_SIGNATURE', "the caller's transcript signature does not verify");
    }
    const ssS = mlkemDecaps(ctS, this.me.mlkemDk);
    const ssXs = x25519Shared(this.me.x25519Sk, p.xA);
    const thf = h(DS.thf, th3, sigA);
    const secrets = sessionSecrets(thf, p.hs, ssS, ssXs);
    wipe(ssS, ssXs);
    const keys: CallKeys = {
      callId: this.callId,
      role: 'callee',
      peerBundle: bundleA,
      peerBundleBytes: bundleABytes,
      sas: sasFromBytes(secrets.sas),
      secrets,
      transcriptHash: thf,
    };
    return { keys, payload };
  }

  private fail(keepState = false): void {
    if (!keepState) this.state = 'failed';
    if (this.pending) wipe(this.pending.hs, this.pending.a2b);
    this.pending = undefined;
  }
}

/** Which direction's secrets this side sends and receives with. */
export function directional(keys: CallKeys): { sendFrame: Uint8Array; recvFrame: Uint8Array; sendSignal: Uint8Array; recvSignal: Uint8Array } {
  const s = keys.secrets;
  return keys.role === 'caller'
    ? { sendFrame: s.frameA2b, recvFrame: s.frameB2a, sendSignal: s.signalA2b, recvSignal: s.signalB2a }
    : { sendFrame: s.frameB2a, recvFrame: s.frameA2b, sendSignal: s.signalB2a, recvSignal: s.signalA2b };
}
