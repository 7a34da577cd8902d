/**
 * Over 300 lines because both sides of one protocol and its transcript hashes belong together:
 * splitting caller and callee would split each message's writer from its reader.
 *
 * The call handshake, protocol v2, envelope version 3 (docs/protocol.md §5):
 * three messages and a reveal, a fresh ML-KEM-1024 + X25519 key per call, both
 * identities signing the transcript, the callee committed to its SAS nonce,
 * each side's current relays (relay-list.ts) under its own signature.
 *
 *   Caller A                                   Callee B
 *   HELLO    ek_A, x_A, admit tag  ───────▶    (ephemeral keys and a MAC or random bytes: no identity)
 *                                  ◀───────    RESPONSE ct_B = Encaps(ek_A), y_B,
 *                                              AEAD_hs_b2a(bundle_B ‖ commit_B ‖ relays_B ‖ Sig_B(TH2))
 *   CONFIRM  AEAD_hs_a2b(bundle_A ‖ ct_S = Encaps(B's static ek) ‖ relays_A ‖ Sig_A(TH3) ‖ intent)
 *                                  ───────▶
 *                                  ◀───────    REVEAL AEAD_reveal(nonce_B)     (after B verified CONFIRM)
 *
 *   commit_B = H("hush/v2/sas/commit" ‖ nonce_B)
 *   TH1 = H("hush/v2/th1" ‖ HELLO ‖ RESPONSE prefix ‖ ct_B ‖ y_B)
 *   TH2 = H("hush/v2/th2" ‖ TH1 ‖ bundle_B ‖ commit_B ‖ relays_B)         signed by B
 *   TH3 = H("hush/v2/th3" ‖ TH2 ‖ sig_B ‖ bundle_A ‖ ct_S ‖ relays_A ‖ intent)  signed by A
 *   THf = H("hush/v2/thf" ‖ TH3 ‖ sig_A)                                   salts the master secret
 *   SAS = sas.ts(sas_secret from MS, nonce_B)
 *
 * What this gives: forward secrecy (ephemeral KEM and DH, wiped after use);
 * mutual authentication (hybrid signatures over everything either side sent
 * or received); the callee's keys are also implicitly authenticated (only
 * the holder of B's static keys derives the session); the caller checks that
 * B's keys hash to the address it dialled; A's identity is revealed only to
 * the verified B. Any byte changed in transit fails the handshake with a
 * typed error: a tampered ciphertext yields a different KEM secret (implicit
 * rejection) and the AEAD fails; a swapped key fails a signature; a revealed
 * nonce that does not match B's signed commitment fails with ERR_COMMITMENT.
 *
 * The SAS exists on neither side before REVEAL: the caller fixed CONFIRM
 * without knowing nonce_B, the callee fixed nonce_B without knowing CONFIRM,
 * and the callee accepts one CONFIRM and reveals once. Nobody can steer it.
 *
 * Caveat: the callee learns the caller's identity only at CONFIRM. A contact
 * is recognised earlier by HELLO's admission tag (admit-tag.ts); everyone
 * else is admitted or refused by lib/call/admission.ts before onHello signs.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, equalBytes, utf8, wipe } from './bytes';
import {
  ADMIT_TAG_LEN,
  BUNDLE_LEN,
  CONFIRM_INTENT,
  HYBRID_SIG_LEN,
  MLKEM1024_CT_LEN,
  MLKEM1024_EK_LEN,
  SAS_COMMIT_LEN,
  SAS_NONCE_LEN,
  SIG_CTX,
  X25519_PK_LEN,
} from './constants';
import { open, seal, importAesKey } from './aead';
import { addressHash } from './address';
import { helloTag } from './admit-tag';
import { CryptoError, attemptAsync, fail, type Result } from './errors';
import { decodeBundle, signHybridAsync, verifyHybridAsync, type Identity, type IdentityBundle } from './identity';
import {
  mlkemDecaps,
  mlkemEncaps,
  mlkemKeygen,
  systemRng,
  x25519Keygen,
  x25519Shared,
  type Rng,
} from './kem';
import {
  handshakeSecrets,
  sessionSecrets,
  wipeConfirmationSecrets,
  type ConfirmationSecrets,
  type SessionSecrets,
} from './key-schedule';
import { sasCode, sasCommitment } from './sas';
import { decodeRelayList, encodeRelayList, RELAY_LIST_MAX_BYTES } from './relay-list';
import { CALL_ID_LEN, EnvelopeType, encodePrefix, parseEnvelope } from './envelope-format';

const ZERO_NONCE = new Uint8Array(12); // each handshake key seals exactly one message
const DS = {
  th1: utf8('hush/v2/th1'),
  th2: utf8('hush/v2/th2'),
  th3: utf8('hush/v2/th3'),
  thf: utf8('hush/v2/thf'),
};
const HELLO_BODY_LEN = MLKEM1024_EK_LEN + X25519_PK_LEN + ADMIT_TAG_LEN;
/** RESPONSE and CONFIRM grow by their relay list: 1 byte (no relay) up to RELAY_LIST_MAX_BYTES. */
const RESPONSE_BODY_MIN = MLKEM1024_CT_LEN + X25519_PK_LEN + BUNDLE_LEN + SAS_COMMIT_LEN + 1 + HYBRID_SIG_LEN + 16;
const CONFIRM_INNER_MIN = BUNDLE_LEN + MLKEM1024_CT_LEN + 1 + HYBRID_SIG_LEN + 1;
const LIST_EXTRA_MAX = RELAY_LIST_MAX_BYTES - 1;
const REVEAL_BODY_LEN = SAS_NONCE_LEN + 16;

export interface HandshakeOptions {
  /** Randomness source; injected by known-answer tests only. */
  rng?: Rng;
  /** Deterministic ML-DSA signing (known-answer tests only; hedged otherwise). */
  deterministic?: boolean;
  /**
   * Caller only: the admission token stored for the contact dialled (its
   * `send` token, §5.4). Without one, HELLO's tag is 32 random bytes.
   */
  admitToken?: Uint8Array;
  /**
   * This side's current relays (canonical signalling URLs, at most 4), sent
   * signed to the peer so its contact entry follows a move. Default: none.
   */
  relays?: readonly string[];
}

/** Why the caller calls: CONFIRM's one-byte intent, decoded. */
export type ConfirmIntent = keyof typeof CONFIRM_INTENT;

/** What both sides hold once CONFIRM is through (the SAS comes with REVEAL). */
export interface CallKeys {
  callId: Uint8Array;
  role: 'caller' | 'callee';
  peerBundle: IdentityBundle;
  peerBundleBytes: Uint8Array;
  /** Raw secrets: hand the frame secrets to the frame worker, the signal secrets to a SealedChannel, then wipe. */
  secrets: SessionSecrets;
  /** THf, for known-answer tests and diagnostics (not secret). */
  transcriptHash: Uint8Array;
  /** The relays the peer signed into this handshake (canonical form; the wss rule is the caller's to apply). */
  peerRelays: string[];
}

/**
 * Admission tokens of this pair from this call, as this side stores them with
 * the contact (§5.4): `send` tags our HELLOs to them, `recv` recognises theirs.
 */
export interface AdmissionTokens {
  send: Uint8Array;
  recv: Uint8Array;
}

function stateError<T>(message: string): Result<T> {
  return { ok: false, error: new CryptoError('ERR_HANDSHAKE_STATE', message) };
}

function h(...parts: Uint8Array[]): Uint8Array {
  return sha256(concat(...parts));
}

/** The closed list of intents a callee accepts, fixed when this module loads. */
const INTENT_BY_BYTE: ReadonlyMap<number, ConfirmIntent> = new Map(
  Object.entries(CONFIRM_INTENT).map(([name, code]) => [code, name as ConfirmIntent]),
);

function intentOf(byte: number): ConfirmIntent {
  return INTENT_BY_BYTE.get(byte) ?? fail('ERR_HANDSHAKE_FORMAT', `unknown CONFIRM intent ${byte}`);
}

// ─── Caller ──────────────────────────────────────────────────────────────────

/**
 * Caller states:
 *   Start ──start()──▶ AwaitResponse ──onResponse()──▶ AwaitReveal ──onReveal()──▶ Done
 *                           └──────────(any error)──────────┴──▶ Failed
 */
export class CallerHandshake {
  private state: 'start' | 'await-response' | 'await-reveal' | 'done' | 'failed' = 'start';
  private readonly rng: Rng;
  readonly callId: Uint8Array;
  private hello?: Uint8Array;
  private kem?: { ek: Uint8Array; dk: Uint8Array };
  private dh?: { pk: Uint8Array; sk: Uint8Array };
  /** Between CONFIRM and REVEAL: B's signed commitment and the secrets the SAS and tokens need. */
  private awaiting?: { commit: Uint8Array; confirmation: ConfirmationSecrets };

  constructor(
    private readonly me: Identity,
    /** Address hash (20 bytes) of the party dialled: its keys must hash to this. */
    private readonly peerAddressHash: Uint8Array,
    private readonly opts: HandshakeOptions = {},
  ) {
    this.rng = opts.rng ?? systemRng;
    this.callId = this.rng(CALL_ID_LEN);
  }

  /** Message 1: HELLO, tagged with the admission token if we have one for this contact. */
  start(): Uint8Array {
    if (this.state !== 'start') fail('ERR_HANDSHAKE_STATE', 'handshake already started');
    this.kem = mlkemKeygen(this.rng);
    this.dh = x25519Keygen(this.rng);
    const untagged = concat(encodePrefix(EnvelopeType.Hello, this.callId), this.kem.ek, this.dh.pk);
    const tag = this.opts.admitToken ? helloTag(this.opts.admitToken, untagged) : this.rng(ADMIT_TAG_LEN);
    this.hello = concat(untagged, tag);
    this.state = 'await-response';
    return this.hello;
  }

  /**
   * Message 2 in, message 3 (CONFIRM) out, with the call keys. The SAS is not
   * known yet: it needs the callee's REVEAL (`onReveal`). Never throws.
   */
  async onResponse(response: Uint8Array, intent: ConfirmIntent = 'invite'): Promise<Result<{ confirm: Uint8Array; keys: CallKeys }>> {
    if (this.state !== 'await-response') return stateError('no handshake is waiting for a response');
    const r = await attemptAsync(() => this.respond(response, intent), 'ERR_HANDSHAKE_FORMAT');
    this.state = r.ok ? 'await-reveal' : 'failed';
    this.wipeEphemeral();
    return r;
  }

  private async respond(response: Uint8Array, intent: ConfirmIntent) {
    if (this.state !== 'await-response' || !this.kem || !this.dh || !this.hello) {
      fail('ERR_HANDSHAKE_STATE', 'no handshake is waiting for a response');
    }
    const intentByte = CONFIRM_INTENT[intent];
    if (intentByte === undefined) fail('ERR_BAD_INPUT', `unknown CONFIRM intent ${String(intent)}`);
    const env = parseEnvelope(response);
    if (env.type !== EnvelopeType.Response) fail('ERR_HANDSHAKE_STATE', 'expected a RESPONSE');
    if (!equalBytes(env.callId, this.callId)) fail('ERR_HANDSHAKE_STATE', 'RESPONSE for another call');
    const b = env.body;
    if (b.length < RESPONSE_BODY_MIN || b.length > RESPONSE_BODY_MIN + LIST_EXTRA_MAX) {
      fail('ERR_HANDSHAKE_FORMAT', `RESPONSE body must be ${RESPONSE_BODY_MIN} to ${RESPONSE_BODY_MIN + LIST_EXTRA_MAX} bytes, got ${b.length}`);
    }
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
      const commitB = inner.slice(BUNDLE_LEN, BUNDLE_LEN + SAS_COMMIT_LEN);
      const list = decodeRelayList(inner, BUNDLE_LEN + SAS_COMMIT_LEN);
      const relaysB = inner.subarray(BUNDLE_LEN + SAS_COMMIT_LEN, list.end);
      const sigB = inner.subarray(list.end);
      if (sigB.length !== HYBRID_SIG_LEN) fail('ERR_HANDSHAKE_FORMAT', 'RESPONSE signature has the wrong length');
      const bundleB = decodeBundle(bundleBBytes);
      if (!equalBytes(addressHash(bundleBBytes), this.peerAddressHash)) {
        fail('ERR_ADDRESS_MISMATCH', 'the answering keys do not belong to the address called');
      }
      const th2 = h(DS.th2, th1, bundleBBytes, commitB, relaysB);
      if (!(await verifyHybridAsync(bundleB, SIG_CTX.handshakeCallee, th2, sigB))) {
        fail('ERR_BAD_SIGNATURE', "the callee's transcript signature does not verify");
      }

      // Implicit authentication of B: encapsulate to B's static keys.
      const { ct: ctS, ss } = mlkemEncaps(bundleB.mlkemEk, this.rng);
      ssS = ss;
      ssXs = x25519Shared(this.dh.sk, bundleB.x25519Pk);
      const intentField = Uint8Array.of(intentByte);
      const relaysA = encodeRelayList(this.opts.relays ?? []);
      const th3 = h(DS.th3, th2, sigB, this.me.bundleBytes, ctS, relaysA, intentField);
      const sigA = await signHybridAsync(this.me, SIG_CTX.handshakeCaller, th3, { deterministic: this.opts.deterministic });
      const thf = h(DS.thf, th3, sigA);
      const { session, confirmation } = sessionSecrets(thf, hs.hs, ssS, ssXs);

      const prefix = encodePrefix(EnvelopeType.Confirm, this.callId);
      const kA2b = await importAesKey(hs.a2b);
      const sealedA = await seal(kA2b, ZERO_NONCE, prefix, concat(this.me.bundleBytes, ctS, relaysA, sigA, intentField));
      this.awaiting = { commit: commitB, confirmation };
      const keys: CallKeys = {
        callId: this.callId,
        role: 'caller',
        peerBundle: bundleB,
        peerBundleBytes: bundleBBytes.slice(),
        secrets: session,
        transcriptHash: thf,
        peerRelays: list.relays,
      };
      return { confirm: concat(prefix, sealedA), keys };
    } finally {
      wipe(hs.hs, hs.a2b, hs.b2a, ssS, ssXs);
    }
  }

  /**
   * Message 4 in: the callee's SAS nonce. Checks it against the commitment B
   * signed in RESPONSE (ERR_COMMITMENT otherwise, and the handshake fails),
   * then gives the SAS and this call's admission tokens. Never throws.
   */
  async onReveal(reveal: Uint8Array): Promise<Result<{ sas: string; admission: AdmissionTokens }>> {
    if (this.state !== 'await-reveal' || !this.awaiting) return stateError('no handshake is waiting for a REVEAL');
    const a = this.awaiting;
    let env;
    try {
      env = parseEnvelope(reveal);
    } catch (e) {
      return { ok: false, error: e as CryptoError };
    }
    // Not ours: refused without disturbing the handshake under way.
    if (env.type !== EnvelopeType.Reveal) return stateError('expected a REVEAL');
    if (!equalBytes(env.callId, this.callId)) return stateError('REVEAL for another call');
    const r = await attemptAsync(async () => {
      if (env.body.length !== REVEAL_BODY_LEN) fail('ERR_HANDSHAKE_FORMAT', `REVEAL body must be ${REVEAL_BODY_LEN} bytes`);
      const nonce = await open(await importAesKey(a.confirmation.reveal), ZERO_NONCE, env.prefix, env.body);
      if (!equalBytes(sasCommitment(nonce), a.commit)) {
        fail('ERR_COMMITMENT', "the callee's revealed SAS nonce does not match its commitment");
      }
      const c = a.confirmation;
      return { sas: sasCode(c.sas, nonce), admission: { send: c.admitA2b.slice(), recv: c.admitB2a.slice() } };
    }, 'ERR_HANDSHAKE_FORMAT');
    this.state = r.ok ? 'done' : 'failed';
    wipeConfirmationSecrets(a.confirmation);
    this.awaiting = undefined;
    return r;
  }

  private wipeEphemeral(): void {
    wipe(this.kem?.dk, this.dh?.sk);
    this.kem = undefined;
    this.dh = undefined;
  }
}

// ─── Callee ──────────────────────────────────────────────────────────────────

/**
 * Callee states:
 *   Start ──onHello()──▶ AwaitConfirm ──onConfirm()──▶ Confirmed ──reveal()──▶ Done
 *                             └───────(any error)───────┴──▶ Failed
 * One CONFIRM per RESPONSE: once one verified (or failed), any other is refused.
 */
export class CalleeHandshake {
  private state: 'start' | 'await-confirm' | 'confirmed' | 'done' | 'failed' = 'start';
  private readonly rng: Rng;
  callId?: Uint8Array;
  private pending?: { th2: Uint8Array; sigB: Uint8Array; hs: Uint8Array; a2b: Uint8Array; xA: Uint8Array; nonce: Uint8Array };
  private confirmed?: { nonce: Uint8Array; confirmation: ConfirmationSecrets };

  constructor(
    private readonly me: Identity,
    private readonly opts: HandshakeOptions = {},
  ) {
    this.rng = opts.rng ?? systemRng;
  }

  /** Message 1 in, message 2 (RESPONSE) out. Costs one hybrid signature. Never throws. */
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
    if (env.body.length !== HELLO_BODY_LEN) fail('ERR_HANDSHAKE_FORMAT', `HELLO body must be ${HELLO_BODY_LEN} bytes`);
    // The admission tag (last 32 bytes) was checked, if at all, before this call: here it is transcript only.
    const ekA = env.body.subarray(0, MLKEM1024_EK_LEN);
    const xA = env.body.slice(MLKEM1024_EK_LEN, MLKEM1024_EK_LEN + X25519_PK_LEN);
    this.callId = env.callId;

    const { ct: ctB, ss: ssE } = mlkemEncaps(ekA, this.rng);
    const dh = x25519Keygen(this.rng);
    const ssX = x25519Shared(dh.sk, xA);
    wipe(dh.sk);
    const nonce = this.rng(SAS_NONCE_LEN);
    const commit = sasCommitment(nonce);
    const prefix = encodePrefix(EnvelopeType.Response, env.callId);
    const th1 = h(DS.th1, hello, prefix, ctB, dh.pk);
    const hs = handshakeSecrets(th1, ssE, ssX);
    wipe(ssE, ssX);

    const relaysB = encodeRelayList(this.opts.relays ?? []);
    const th2 = h(DS.th2, th1, this.me.bundleBytes, commit, relaysB);
    const sigB = await signHybridAsync(this.me, SIG_CTX.handshakeCallee, th2, { deterministic: this.opts.deterministic });
    const kB2a = await importAesKey(hs.b2a);
    wipe(hs.b2a);
    const sealed = await seal(kB2a, ZERO_NONCE, concat(prefix, ctB, dh.pk), concat(this.me.bundleBytes, commit, relaysB, sigB));
    this.pending = { th2, sigB, hs: hs.hs, a2b: hs.a2b, xA, nonce };
    this.state = 'await-confirm';
    return concat(prefix, ctB, dh.pk, sealed);
  }

  /**
   * Message 3 in: the caller's identity, its intent, the call keys and this
   * call's admission tokens. The SAS comes with `reveal()`. Never throws.
   */
  async onConfirm(confirm: Uint8Array): Promise<Result<{ keys: CallKeys; intent: ConfirmIntent; admission: AdmissionTokens }>> {
    if (this.state !== 'await-confirm') return stateError('no handshake awaits a CONFIRM');
    const r = await attemptAsync(() => this.finish(confirm), 'ERR_HANDSHAKE_FORMAT');
    if (r.ok) this.state = 'confirmed';
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
    // Exact and canonical: fixed parts, one relay list, one intent byte from a closed list, nothing else.
    if (inner.length < CONFIRM_INNER_MIN || inner.length > CONFIRM_INNER_MIN + LIST_EXTRA_MAX) {
      fail('ERR_HANDSHAKE_FORMAT', `CONFIRM must hold ${CONFIRM_INNER_MIN} to ${CONFIRM_INNER_MIN + LIST_EXTRA_MAX} bytes`);
    }
    const bundleABytes = inner.slice(0, BUNDLE_LEN);
    const ctS = inner.subarray(BUNDLE_LEN, BUNDLE_LEN + MLKEM1024_CT_LEN);
    const list = decodeRelayList(inner, BUNDLE_LEN + MLKEM1024_CT_LEN);
    const relaysA = inner.subarray(BUNDLE_LEN + MLKEM1024_CT_LEN, list.end);
    if (inner.length - list.end !== HYBRID_SIG_LEN + 1) fail('ERR_HANDSHAKE_FORMAT', 'CONFIRM signature and intent have the wrong length');
    const sigA = inner.subarray(list.end, inner.length - 1);
    const intentField = inner.subarray(inner.length - 1);
    const intent = intentOf(intentField[0]!);
    const bundleA = decodeBundle(bundleABytes);

    const th3 = h(DS.th3, p.th2, p.sigB, bundleABytes, ctS, relaysA, intentField);
    if (!(await verifyHybridAsync(bundleA, SIG_CTX.handshakeCaller, th3, sigA))) {
      fail('ERR_BAD_SIGNATURE', "the caller's transcript signature does not verify");
    }
    const ssS = mlkemDecaps(ctS, this.me.mlkemDk);
    const ssXs = x25519Shared(this.me.x25519Sk, p.xA);
    const thf = h(DS.thf, th3, sigA);
    const { session, confirmation } = sessionSecrets(thf, p.hs, ssS, ssXs);
    wipe(ssS, ssXs);
    this.confirmed = { nonce: p.nonce.slice(), confirmation };
    const keys: CallKeys = {
      callId: this.callId,
      role: 'callee',
      peerBundle: bundleA,
      peerBundleBytes: bundleABytes,
      secrets: session,
      transcriptHash: thf,
      peerRelays: list.relays,
    };
    const admission: AdmissionTokens = { send: confirmation.admitB2a.slice(), recv: confirmation.admitA2b.slice() };
    return { keys, intent, admission };
  }

  /**
   * Message 4 out, once, after a verified CONFIRM: REVEAL (the SAS nonce,
   * sealed) and the SAS this side shows. Never throws.
   */
  async reveal(): Promise<Result<{ reveal: Uint8Array; sas: string }>> {
    if (this.state !== 'confirmed' || !this.confirmed || !this.callId) return stateError('nothing to reveal: no verified CONFIRM, or revealed already');
    const c = this.confirmed;
    this.confirmed = undefined;
    this.state = 'done';
    try {
      return await attemptAsync(async () => {
        const prefix = encodePrefix(EnvelopeType.Reveal, this.callId!);
        const sealed = await seal(await importAesKey(c.confirmation.reveal), ZERO_NONCE, prefix, c.nonce);
        return { reveal: concat(prefix, sealed), sas: sasCode(c.confirmation.sas, c.nonce) };
      });
    } finally {
      wipe(c.nonce);
      wipeConfirmationSecrets(c.confirmation);
    }
  }

  private fail(keepState = false): void {
    if (!keepState) this.state = 'failed';
    if (this.pending) wipe(this.pending.hs, this.pending.a2b, this.pending.nonce);
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
