/**
 * The on-device call history (the last HISTORY_MAX calls) and the count of
 * missed calls nobody has seen yet, shown as the toolbar button's badge until
 * a Hush page opens (drawn by toolbar-badge.ts: a live microphone takes the
 * badge during a call). Both live in extension storage (storage.ts).
 */
import type { CallSession } from '../call/session';
import type { EndReason } from '../call/state';
import type { HistoryEntry } from '../messaging/view';
import { HISTORY_MAX, historyItem, unseenMissedItem } from './storage';

export class HistoryStore {
  private constructor(
    private history: HistoryEntry[],
    private unseen: number,
    private readonly onUnseen: () => void,
  ) {}

  /** `onUnseen`: the unseen count changed (the badge redraws). */
  static async load(onUnseen: () => void = () => {}): Promise<HistoryStore> {
    const store = new HistoryStore(await historyItem.getValue(), await unseenMissedItem.getValue(), onUnseen);
    store.onUnseen();
    return store;
  }

  get entries(): HistoryEntry[] {
    return this.history;
  }

  get unseenMissed(): number {
    return this.unseen;
  }

  /**
   * A call ended: one entry (none for a call that never learnt its peer). A
   * missed call counts on the badge when no Hush page was open to show it.
   */
  async record(s: CallSession, busy: boolean, seenNow: boolean, relays: readonly string[] = []): Promise<void> {
    if (!s.peerAddress) return;
    const outcome: EndReason = busy ? 'missed' : (s.reason ?? 'hangup');
    const entry: HistoryEntry = {
      direction: s.role === 'caller' ? 'outgoing' : 'incoming',
      address: s.peerAddress,
      at: s.startedAt,
      durationMs: s.connectedAt ? (s.endedAt ?? Date.now()) - s.connectedAt : undefined,
      outcome,
      busy: busy || undefined,
    };
    if (relays.length) entry.relays = [...relays];
    this.history = [entry, ...this.history].slice(0, HISTORY_MAX);
    await historyItem.setValue(this.history);
    if (outcome === 'missed' && !seenNow) {
      this.unseen++;
      await unseenMissedItem.setValue(this.unseen);
      this.onUnseen();
    }
  }

  /** A Hush page opened: the missed calls are seen, the badge goes. */
  markSeen(): void {
    if (this.unseen === 0) return;
    this.unseen = 0;
    void unseenMissedItem.setValue(0);
    this.onUnseen();
  }

  async clear(): Promise<void> {
    this.history = [];
    this.unseen = 0;
    await historyItem.setValue([]);
    await unseenMissedItem.setValue(0);
    this.onUnseen();
  }
}
