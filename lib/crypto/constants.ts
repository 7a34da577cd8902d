/**
 * Wire and algorithm constants of the Hush protocol (docs/protocol.md).
 * Each says why it has its value. Changing any of them is a protocol change.
 */

// ── Identity ────────────────────────────────────────────────────────────────
/** Version byte that opens an encoded identity bundle. */
export const BUNDLE_VERSION = 1;
/** ML-DSA-87 public key (FIPS 204, category 5, matching ML-KEM-1024). */
export const MLDSA87_PK_LEN = 2592;
export const MLDSA87_SIG_LEN = 4627;
export const ED25519_PK_LEN = 32;
export const ED25519_SIG_LEN = 64;
/** ML-KEM-1024 encapsulation key and ciphertext (FIPS 203). */
export const MLKEM1024_EK_LEN = 1568;
export const MLKEM1024_CT_LEN = 1568;
export const X25519_PK_LEN = 32;
/** version ‖ ML-DSA-87 pk ‖ Ed25519 pk ‖ ML-KEM-1024 ek ‖ X25519 pk */
export const BUNDLE_LEN = 1 + MLDSA87_PK_LEN + ED25519_PK_LEN + MLKEM1024_EK_LEN + X25519_PK_LEN;
/** Hybrid signature: ML-DSA-87 ‖ Ed25519. Both must verify. */
export const HYBRID_SIG_LEN = MLDSA87_SIG_LEN + ED25519_SIG_LEN;
/** An identity is one 32-byte master seed; every key pair is derived from it. */
export const MASTER_SEED_LEN = 32;

// ── Address ─────────────────────────────────────────────────────────────────
/** Human-readable part of the bech32m address ("hush1…"). */
export const ADDRESS_HRP = 'hush';
/**
 * Address hash length: 160 bits. An attacker who wants keys matching a given
 * address needs a second preimage (2^160 work); 32 characters stay readable.
 */
export const ADDRESS_HASH_LEN = 20;
/** Mailbox id the relay routes by: 128 bits derived from the address hash. */
export const MAILBOX_ID_LEN = 16;

// ── Signature contexts (domain separation, FIPS 204 ctx ≤ 255 bytes) ──────────
// The handshake contexts moved to v2 with the SAS commitment (issue 14): a v1
// transcript signature can never verify as a v2 one. Mailbox proof (relay
// login, docs/relay-protocol.md) did not change and keeps its v1 context.
export const SIG_CTX = {
  handshakeCaller: 'hush/v2/handshake/caller',
  handshakeCallee: 'hush/v2/handshake/callee',
  /** Retired with signalling v1 (mailbox proofs are per-relay Ed25519 keys now, mailbox-auth.ts); kept so the label is never reused. */
  mailboxAuth: 'hush/v1/mailbox-auth',
} as const;

// ── Handshake v2 (docs/protocol.md §5) ──────────────────────────────────────
/**
 * The callee's SAS nonce, committed in RESPONSE and revealed after CONFIRM.
 * 32 bytes: the commitment must hide it (2^256 preimage) and no one may find
 * two nonces with one commitment (SHA-256 collision resistance, 2^128).
 */
export const SAS_NONCE_LEN = 32;
/** SHA-256 commitment to the SAS nonce. */
export const SAS_COMMIT_LEN = 32;
/**
 * CONFIRM's last field: one byte saying why the caller calls. Exact and
 * canonical (a fixed byte, not free-form JSON) so the caller has no bits to
 * vary in CONFIRM beyond what the protocol needs.
 */
export const CONFIRM_INTENT = { invite: 0x01 } as const;
/**
 * Admission token (per pair and direction, from a completed call) and HELLO's
 * tag = HMAC-SHA-256(token, HELLO without the tag). 32 bytes each: a full
 * HMAC tag, since a forged one would let a stranger use a contact's slots.
 */
export const ADMIT_TOKEN_LEN = 32;
export const ADMIT_TAG_LEN = 32;

// ── Frames ──────────────────────────────────────────────────────────────────
/** AES-256-GCM tag. Full 16 bytes: a truncated tag would buy 4-8 bytes at a real cost. */
export const FRAME_TAG_LEN = 16;
/** Header: 1 config byte + 1..4 counter bytes (docs/protocol.md §Frame format). */
export const FRAME_HEADER_MAX = 5;
/** Largest frame we accept (encoded audio frames are < 1.5 kB; video is out of scope). */
export const FRAME_MAX_LEN = 64 * 1024;
/** Key epochs are named mod 16 in the header (4-bit key id). */
export const FRAME_KID_MOD = 16;
/**
 * Rotate to the next key epoch after this many frames: 2^24 frames is 93 hours
 * of 20 ms audio, well before the 32-bit per-epoch counter could wrap.
 */
export const FRAME_REKEY_INTERVAL = 2 ** 24;
/** Hard ceiling of the per-epoch counter (4 header bytes). */
export const FRAME_COUNTER_MAX = 2 ** 32 - 1;
/** Replay window in frames (libsrtp's default; 2.56 s of 20 ms audio). */
export const REPLAY_WINDOW = 128;
/** Nonce length for AES-GCM. */
export const GCM_NONCE_LEN = 12;
