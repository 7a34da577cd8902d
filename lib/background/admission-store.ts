/**
 * Who may ring this device, as the background keeps it (docs/protocol.md
 * §5.4–5.5): the admission tokens of each contact, the block list, and the
 * tokens of the last call with someone who is not (yet) a contact.
 *
 * Tokens: every completed call gives two (one per direction). For a contact
 * we keep the newest `send` token (it tags our HELLOs to them) and the last
 * ADMIT_RECV_KEPT `recv` tokens (theirs to us: the newest, plus older ones
 * for a contact whose last call with us completed on their side but not on
 * ours, for example REVEAL lost). Tokens are keys: they stay in this
 * file's memory and in their own storage key (storage.ts admissionItem), and
 * never go into the view pushed to pages.
 *
 * After a call with a stranger, its tokens are held in memory only, until
 * the next call or until the call card is dismissed, so that "Add to
 * contacts" during or right after the call can keep them.
 *
 * The block list is of mailbox ids, what the relay names as the sender: a
 * blocked address is refused before any signature, in every mode.
 */
import { base64 } from '@scure/base';
import { mailboxIdFromHash, parseAddress } from '../crypto/address';
import type { RecvToken } from '../crypto/admit-tag';
import { wipe } from '../crypto/bytes';
import type { AdmissionTokens } from '../crypto/handshake';
import { admissionItem, blockedItem, type StoredAdmission } from './storage';

/** `recv` tokens kept per contact: the newest call's, and two before it. */
export const ADMIT_RECV_KEPT = 3;

interface Entry {
  mailbox: string;
  send: Uint8Array;
  /** Newest first. */
  recv: Uint8Array[];
}

export class AdmissionStore {
  private readonly blockedMailboxes: Set<string>;
  private pending?: { address: string; tokens: AdmissionTokens };

  private constructor(
    private readonly tokens: Map<string, Entry>,
    private blockedList: { address: string; mailbox: string }[],
  ) {
    this.blockedMailboxes = new Set(blockedList.map((b) => b.mailbox));
  }

  static async load(): Promise<AdmissionStore> {
    const stored = await admissionItem.getValue();
    const tokens = new Map<string, Entry>();
    for (const [address, e] of Object.entries(stored)) {
      try {
        tokens.set(address, { mailbox: e.mailbox, send: base64.decode(e.send), recv: e.recv.map((r) => base64.decode(r)) });
      } catch {
        // A damaged entry: that contact's next call is admitted as a stranger's and stores new tokens.
      }
    }
    return new AdmissionStore(tokens, await blockedItem.getValue());
  }

  // ─── Tokens ────────────────────────────────────────────────────────────────

  /** The `recv` tokens of the stored contacts at this mailbox, for `recogniseHello` (contactId: the address). */
  recvTokens(mailbox: string, isContact: (address: string) => boolean): RecvToken[] {
    const out: RecvToken[] = [];
    for (const [address, e] of this.tokens) {
      if (e.mailbox !== mailbox || !isContact(address)) continue;
      for (const token of e.recv) out.push({ contactId: address, token });
    }
    return out;
  }

  sendToken(address: string): Uint8Array | undefined {
    return this.tokens.get(address)?.send;
  }

  /**
   * A call completed with `address` and gave these tokens (the store owns them now):
   * kept for a contact, held in memory for anyone else until `adopt` or `dropPending`.
   */
  async completed(address: string, tokens: AdmissionTokens, isContact: boolean): Promise<void> {
    this.dropPending();
    if (isContact) await this.keep(address, tokens);
    else this.pending = { address, tokens };
  }

  /** `address` became a contact: keep the tokens of the call just made with it, if any. */
  async adopt(address: string): Promise<void> {
    const p = this.pending;
    if (!p || p.address !== address) return;
    this.pending = undefined;
    await this.keep(address, p.tokens);
  }

  /** Forget the tokens held for a stranger's call (the call card was dismissed). */
  dropPending(): void {
    if (this.pending) wipe(this.pending.tokens.send, this.pending.tokens.recv);
    this.pending = undefined;
  }

  /** A contact was deleted (or moved to another address): its tokens go. */
  async forget(address: string): Promise<void> {
    const e = this.tokens.get(address);
    if (!e) return;
    this.tokens.delete(address);
    wipe(e.send, ...e.recv);
    await this.save();
  }

  private async keep(address: string, tokens: AdmissionTokens): Promise<void> {
    const old = this.tokens.get(address);
    const recv = [tokens.recv, ...(old?.recv ?? [])];
    wipe(old?.send, ...recv.slice(ADMIT_RECV_KEPT));
    this.tokens.set(address, { mailbox: mailboxIdFromHash(parseAddress(address).hash), send: tokens.send, recv: recv.slice(0, ADMIT_RECV_KEPT) });
    await this.save();
  }

  private async save(): Promise<void> {
    const out: Record<string, StoredAdmission> = {};
    for (const [address, e] of this.tokens) {
      out[address] = { mailbox: e.mailbox, send: base64.encode(e.send), recv: e.recv.map((r) => base64.encode(r)) };
    }
    await admissionItem.setValue(out);
  }

  // ─── Block list ────────────────────────────────────────────────────────────

  /** Blocked mailbox ids, what admission compares with the HELLO's sender. */
  get blocked(): ReadonlySet<string> {
    return this.blockedMailboxes;
  }

  /** Blocked addresses, for the options page's unblock list. */
  get blockedAddresses(): string[] {
    return this.blockedList.map((b) => b.address);
  }

  /** Block an address (ERR_BAD_ADDRESS for a typo). Idempotent. */
  async block(input: string): Promise<void> {
    const { address, hash } = parseAddress(input);
    const mailbox = mailboxIdFromHash(hash);
    if (this.blockedMailboxes.has(mailbox)) return;
    this.blockedList = [...this.blockedList, { address, mailbox }];
    this.blockedMailboxes.add(mailbox);
    await blockedItem.setValue(this.blockedList);
  }

  async unblock(input: string): Promise<void> {
    const mailbox = mailboxIdFromHash(parseAddress(input).hash);
    this.blockedList = this.blockedList.filter((b) => b.mailbox !== mailbox);
    this.blockedMailboxes.delete(mailbox);
    await blockedItem.setValue(this.blockedList);
  }
}
