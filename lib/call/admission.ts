/**
 * Call admission (docs/protocol.md §5.5): which HELLOs the callee answers.
 * Answering costs a hybrid signature (~24 ms of CPU) and holds a handshake
 * slot until CONFIRM or the timeout; this decides before any of that, from
 * facts that cost nothing: the sending mailbox the relay names, whether the
 * HELLO's admission tag matched a contact (lib/crypto/admit-tag.ts), the
 * block list, the "only contacts may ring me" setting, and the current load.
 *
 *   blocked sender (or blocked contact)          → refuse, in every mode
 *   tag of a contact, sent from that contact's mailbox
 *                                                → admit, on the contacts' own slots (never refused for load:
 *                                                  the contact's or the oldest contact handshake is evicted)
 *   anyone else ("stranger")
 *       contacts-only setting                    → refuse
 *       same call id admitted recently           → refuse (a replayed HELLO)
 *       a handshake from this sender under way   → refuse (one at a time per sender)
 *       sender's bucket or everyone's bucket dry → refuse (rate per sender, and in total)
 *       stranger slots full                      → admit, evicting the oldest stranger handshake
 *
 * Refusing is silent: the caller sees "unreachable" after its handshake
 * timeout, exactly as if we were offline, and learns nothing else.
 *
 * Pure and sans-IO (the style guide's §8): the clock is injected, nothing is
 * sent or stored. The owner calls `decide` per HELLO, `completed` when a
 * handshake's CONFIRM checked out, `release` when one ends otherwise (failed,
 * timed out, evicted), and aborts the handshakes a decision names in `evict`.
 *
 * A stranger's own bucket bounds the work its unauthenticated HELLOs cause,
 * not its calls: a handshake that completes (the caller signed its CONFIRM,
 * as costly for it as our RESPONSE was for us, and the call now shows on this
 * device, where the person can block it) gives its HELLO back to the sender's
 * bucket, so a person redialling is not refused after 3 calls. The bucket of
 * all strangers is never refunded: it is also what bounds the SAS attempts a
 * man in the middle can make against this device (docs/protocol.md §5.2).
 *
 * Caveat: the relay names the sending mailbox. A lying relay can make a
 * stranger look like another stranger (it can always deny service anyway);
 * it cannot make a stranger look like a contact without that contact's token.
 */

/** Every bound of admission, with its reason (listed in docs/protocol.md §5.5). */
export const ADMISSION_LIMITS = {
  /**
   * A slot is freed by `release`, or after this long at the latest: the
   * caller gives up after its own 15 s handshake timeout (TIMEOUTS.handshakeMs),
   * so a slot held longer can never complete.
   */
  slotTtlMs: 15_000,
  /** Handshakes from contacts at once: several contacts calling together; beyond it the oldest is evicted, never the new one. */
  contactSlots: 8,
  /** Handshakes at once per contact: a redial while the previous attempt is still timing out. */
  perContact: 2,
  /** Handshakes from strangers at once: the 4 slots of protocol v1, now for strangers only. */
  strangerSlots: 4,
  /** Handshakes at once per stranger mailbox: one call at a time is all a person makes. */
  perStranger: 1,
  /** Per stranger mailbox: a burst of 3 HELLOs (a person redialling), then one per 20 s. */
  strangerBurst: 3,
  strangerRefillMs: 20_000,
  /**
   * All strangers together: a burst of 6, then one per 5 s. Bounds the
   * signatures strangers can make us compute: 24 ms every 5 s is under 0.5 %
   * of one core, whatever number of mailboxes a flooder uses.
   */
  globalBurst: 6,
  globalRefillMs: 5_000,
  /** Stranger mailboxes whose buckets we remember (oldest forgotten first): bounded memory under a flood. */
  trackedSenders: 1024,
  /** Call ids admitted recently, refused if seen again (a replayed HELLO): how many, and for how long. */
  replayMemory: 1024,
  replayMemoryMs: 60 * 60_000,
} as const;
export type AdmissionLimits = { [K in keyof typeof ADMISSION_LIMITS]: number };

/** What the callee knows about a HELLO before answering it. */
export interface HelloFacts {
  /** Call id from the envelope prefix (hex). */
  callId: string;
  /** Sending mailbox, as the relay delivered it. */
  from: string;
  /** The contact whose admission token made the HELLO's tag (`recogniseHello`), or null. */
  contact: { id: string; mailbox: string } | null;
}

/** The user's settings that admission reads. */
export interface AdmissionSettings {
  /** Blocked mailbox ids (a blocked contact is blocked by its mailbox id). */
  blocked: ReadonlySet<string>;
  /** "Only contacts may ring me". */
  contactsOnly: boolean;
}

export type RefuseReason =
  | 'blocked' // on the block list
  | 'contacts-only' // a stranger, and only contacts may ring
  | 'replayed' // this call id was admitted before
  | 'sender-busy' // this stranger already has a handshake under way
  | 'sender-rate' // this stranger's bucket is empty
  | 'stranger-rate'; // all strangers' bucket is empty

export type AdmissionDecision =
  | { admit: true; as: 'contact'; contactId: string; /** handshakes to abort now */ evict: string[] }
  | { admit: true; as: 'stranger'; evict: string[] }
  | { admit: false; reason: RefuseReason };

interface Slot {
  callId: string;
  kind: 'contact' | 'stranger';
  /** Contact id or stranger mailbox. */
  owner: string;
  since: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class AdmissionControl {
  private readonly slots = new Map<string, Slot>(); // insertion order = age
  private readonly senders = new Map<string, Bucket>(); // insertion order = least recently used first
  private readonly global: Bucket;
  private readonly seen = new Map<string, number>(); // call id → admitted at
  private readonly limits: AdmissionLimits;

  constructor(
    private readonly clock: () => number,
    limits: Partial<AdmissionLimits> = {},
  ) {
    this.limits = { ...ADMISSION_LIMITS, ...limits };
    this.global = { tokens: this.limits.globalBurst, at: clock() };
  }

  /** Decide on one HELLO; an admitted one holds a slot until `release(callId)` or the slot's TTL. */
  decide(hello: HelloFacts, settings: AdmissionSettings): AdmissionDecision {
    const now = this.clock();
    this.expire(now);
    const L = this.limits;
    if (settings.blocked.has(hello.from) || (hello.contact && settings.blocked.has(hello.contact.mailbox))) {
      return { admit: false, reason: 'blocked' };
    }
    if (this.seen.has(hello.callId) || this.slots.has(hello.callId)) return { admit: false, reason: 'replayed' };

    // A tag only counts from the contact's own mailbox: a contact's HELLO replayed from elsewhere is a stranger's.
    const contact = hello.contact && hello.contact.mailbox === hello.from ? hello.contact : null;
    if (contact) {
      const evict: string[] = [];
      const mine = this.held('contact', contact.id);
      if (mine.length >= L.perContact) evict.push(mine[0]!.callId);
      else if (this.held('contact').length >= L.contactSlots) evict.push(this.held('contact')[0]!.callId);
      for (const id of evict) this.slots.delete(id);
      this.take(hello.callId, 'contact', contact.id, now);
      return { admit: true, as: 'contact', contactId: contact.id, evict };
    }

    if (settings.contactsOnly) return { admit: false, reason: 'contacts-only' };
    if (this.held('stranger', hello.from).length >= L.perStranger) return { admit: false, reason: 'sender-busy' };
    const bucket = this.senderBucket(hello.from, now);
    if (bucket.tokens < 1) return { admit: false, reason: 'sender-rate' };
    refill(this.global, now, L.globalBurst, L.globalRefillMs);
    if (this.global.tokens < 1) return { admit: false, reason: 'stranger-rate' };
    bucket.tokens -= 1;
    this.global.tokens -= 1;
    const evict: string[] = [];
    const strangers = this.held('stranger');
    if (strangers.length >= L.strangerSlots) evict.push(strangers[0]!.callId);
    for (const id of evict) this.slots.delete(id);
    this.take(hello.callId, 'stranger', hello.from, now);
    return { admit: true, as: 'stranger', evict };
  }

  /** A handshake ended without completing (failed, timed out or evicted): its slot is free. */
  release(callId: string): void {
    this.slots.delete(callId);
  }

  /**
   * A handshake completed (CONFIRM verified: the caller is authenticated): its slot is free,
   * and a stranger's HELLO is refunded to its own bucket (never to all strangers' bucket, §5.2).
   */
  completed(callId: string): void {
    const slot = this.slots.get(callId);
    this.slots.delete(callId);
    if (slot?.kind !== 'stranger') return;
    const L = this.limits;
    const b = this.senders.get(slot.owner);
    if (b) b.tokens = Math.min(L.strangerBurst, b.tokens + 1);
  }

  /** Handshakes held now, by kind (diagnostics, tests). */
  get load(): { contacts: number; strangers: number } {
    this.expire(this.clock());
    return { contacts: this.held('contact').length, strangers: this.held('stranger').length };
  }

  private held(kind: Slot['kind'], owner?: string): Slot[] {
    const out: Slot[] = [];
    for (const s of this.slots.values()) if (s.kind === kind && (owner === undefined || s.owner === owner)) out.push(s);
    return out;
  }

  private take(callId: string, kind: Slot['kind'], owner: string, now: number): void {
    this.slots.set(callId, { callId, kind, owner, since: now });
    this.seen.set(callId, now);
    if (this.seen.size > this.limits.replayMemory) this.seen.delete(this.seen.keys().next().value!);
  }

  private senderBucket(from: string, now: number): Bucket {
    const L = this.limits;
    let b = this.senders.get(from);
    if (b) this.senders.delete(from); // re-inserted below as most recently used
    else b = { tokens: L.strangerBurst, at: now };
    this.senders.set(from, b);
    if (this.senders.size > L.trackedSenders) this.senders.delete(this.senders.keys().next().value!);
    refill(b, now, L.strangerBurst, L.strangerRefillMs);
    return b;
  }

  private expire(now: number): void {
    for (const [id, s] of this.slots) if (now - s.since >= this.limits.slotTtlMs) this.slots.delete(id);
    for (const [id, at] of this.seen) {
      if (now - at < this.limits.replayMemoryMs) break; // insertion order = age
      this.seen.delete(id);
    }
  }
}

function refill(b: Bucket, now: number, size: number, refillMs: number): void {
  if (now <= b.at) return;
  b.tokens = Math.min(size, b.tokens + (now - b.at) / refillMs);
  b.at = now;
}
