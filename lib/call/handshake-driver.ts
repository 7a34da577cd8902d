/**
 * The handshake of one call, as the session drives it: dial (HELLO), answer
 * a HELLO (RESPONSE), finish with CONFIRM (whose intent byte says
 * `invite`) and REVEAL (the callee's committed SAS nonce, protocol v2), and turn the call keys into what the call keeps: the sealed
 * signalling channel, this call's two frame secrets, the SAS and who the peer
 * is. The handshake itself (messages, keys, checks) is lib/crypto/handshake.ts;
 * this file never moves the call state: it reports, the session decides.
 *
 * Caveat: the keys are checked against the mailbox the relay says sent them
 * (`fromPeerMailbox`) only after they are installed, as before this split:
 * a mismatch ends the call with "handshake-failed".
 */
import { addressFromBundle, mailboxIdFromHash, mailboxIdOfBundle, parseAddress } from '../crypto/address';
import { toHex, wipe } from '../crypto/bytes';
import { wipeSessionSecrets } from '../crypto/key-schedule';
import { parseEnvelope } from '../crypto/envelope-format';
import { CalleeHandshake, CallerHandshake, directional, type AdmissionTokens, type CallKeys } from '../crypto/handshake';
import type { Identity } from '../crypto/identity';
import { SealedChannel } from '../crypto/sealed-channel';

/** What the call keeps from a completed handshake. The frame secrets go to the media engine once. */
export interface CallSecrets {
  channel: SealedChannel;
  frameSecrets: { send: Uint8Array; recv: Uint8Array };
  peerBundle: Uint8Array;
  peerAddress: string;
  /** The peer's keys belong to the mailbox the relay says sent them (false: not our peer). */
  fromPeerMailbox: boolean;
  /** The relays the peer signed into the handshake (canonical; lib/crypto/relay-list.ts). */
  peerRelays: string[];
}

/** Keep what the call needs from the handshake's keys, and wipe the raw secrets. */
async function install(keys: CallKeys, peerMailbox: string): Promise<CallSecrets> {
  const d = directional(keys);
  const channel = await SealedChannel.create(keys.callId, d.sendSignal, d.recvSignal);
  const frameSecrets = { send: d.sendFrame.slice(), recv: d.recvFrame.slice() };
  wipeSessionSecrets(keys.secrets);
  return {
    channel,
    frameSecrets,
    peerBundle: keys.peerBundleBytes,
    peerAddress: addressFromBundle(keys.peerBundleBytes),
    fromPeerMailbox: mailboxIdOfBundle(keys.peerBundleBytes) === peerMailbox,
    peerRelays: keys.peerRelays,
  };
}

export type CallerStep =
  | { kind: 'keys'; secrets: CallSecrets; confirm: Uint8Array }
  /** A RESPONSE when none is awaited (a duplicate): ignore it. */
  | { kind: 'stray' }
  | { kind: 'failed'; code: string };

/** The caller's side: HELLO out, RESPONSE in, CONFIRM out. */
export class CallerDriver {
  readonly callId: string;
  readonly peerMailbox: string;
  /** The address dialled, canonical. */
  readonly peerAddress: string;
  private readonly hs: CallerHandshake;

  /**
   * Throws ERR_BAD_ADDRESS for a typo. `admitToken`: the send token stored for
   * this contact (docs/protocol.md §5.4), so its HELLO is recognised before any signature.
   * `relays`: our current relays, signed into CONFIRM (docs/protocol.md §5).
   */
  constructor(identity: Identity, address: string, admitToken?: Uint8Array, relays: readonly string[] = []) {
    const { address: canonical, hash } = parseAddress(address);
    this.hs = new CallerHandshake(identity, hash, admitToken ? { admitToken, relays } : { relays });
    this.callId = toHex(this.hs.callId);
    this.peerMailbox = mailboxIdFromHash(hash);
    this.peerAddress = canonical;
  }

  /** Message 1. */
  hello(): Uint8Array {
    return this.hs.start();
  }

  async onResponse(bytes: Uint8Array): Promise<CallerStep> {
    const r = await this.hs.onResponse(bytes, 'invite');
    if (!r.ok) return r.error.code === 'ERR_HANDSHAKE_STATE' ? { kind: 'stray' } : { kind: 'failed', code: r.error.code };
    return { kind: 'keys', secrets: await install(r.value.keys, this.peerMailbox), confirm: r.value.confirm };
  }

  /** Message 4 (protocol v2): the callee's committed SAS nonce; the SAS exists from here on. */
  async onReveal(bytes: Uint8Array): Promise<RevealStep> {
    const r = await this.hs.onReveal(bytes);
    if (!r.ok) return r.error.code === 'ERR_HANDSHAKE_STATE' ? { kind: 'stray' } : { kind: 'failed', code: r.error.code };
    return { kind: 'sas', sas: r.value.sas, admission: r.value.admission };
  }
}

export type RevealStep =
  /** The SAS, and this call's admission tokens (the caller's to store if the peer is a contact). */
  | { kind: 'sas'; sas: string; admission: AdmissionTokens }
  | { kind: 'stray' }
  | { kind: 'failed'; code: string };

export type CalleeStep =
  | { kind: 'keys'; secrets: CallSecrets; admission: AdmissionTokens }
  /** CONFIRM did not check out (`code`) or did not carry an invitation (no code). */
  | { kind: 'refused'; code?: string };

/** The callee's side: HELLO in, RESPONSE out, CONFIRM in. */
export class CalleeDriver {
  readonly callId: string;
  private readonly hs: CalleeHandshake;

  constructor(
    identity: Identity,
    private readonly peerMailbox: string,
    private readonly helloBytes: Uint8Array,
    /** Our current relays, signed into RESPONSE (docs/protocol.md §5). */
    relays: readonly string[] = [],
  ) {
    this.callId = toHex(parseEnvelope(helloBytes).callId);
    this.hs = new CalleeHandshake(identity, { relays });
  }

  /** Message 2, or the error code the HELLO was refused with. */
  async respond(): Promise<{ ok: true; response: Uint8Array } | { ok: false; code: string }> {
    const r = await this.hs.onHello(this.helloBytes);
    return r.ok ? { ok: true, response: r.value } : { ok: false, code: r.error.code };
  }

  async onConfirm(bytes: Uint8Array): Promise<CalleeStep> {
    const r = await this.hs.onConfirm(bytes);
    if (!r.ok) return { kind: 'refused', code: r.error.code };
    if (r.value.intent !== 'invite') {
      wipe(r.value.admission.send, r.value.admission.recv);
      return { kind: 'refused' };
    }
    return { kind: 'keys', secrets: await install(r.value.keys, this.peerMailbox), admission: r.value.admission };
  }

  /** Message 4, sent once as the call starts ringing: reveals the SAS nonce committed in RESPONSE. */
  async reveal(): Promise<{ ok: true; reveal: Uint8Array; sas: string } | { ok: false; code: string }> {
    const r = await this.hs.reveal();
    return r.ok ? { ok: true, reveal: r.value.reveal, sas: r.value.sas } : { ok: false, code: r.error.code };
  }
}
