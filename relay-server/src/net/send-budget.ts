/**
 * One bound on the bytes queued for readers that do not read (issue 22: a
 * stalled WebSocket reader holds ~2 MB, with no bound on how many). Each
 * connection already has its own high-water mark (1 MB for signalling,
 * 256 KiB for TURN over TCP/TLS) past which nothing more is queued for it;
 * this bounds their sum. `enforce` adds up what every registered source
 * reports and, past the budget, closes the readers holding the most until
 * the sum is back under it: the slowest readers go first, a reader keeping
 * up holds next to nothing and is never picked. The shell calls it every
 * second (relay.ts), and a stalled reader gains at most its high-water mark
 * in between, so memory stays under budget + one second of fill.
 */

/** A connection with bytes queued to it, as its shell sees it. */
export interface QueuedReader {
  readonly buffered: number;
  close(): void;
}

export class SendBudget {
  private readonly sources: Array<() => Iterable<QueuedReader>> = [];
  /** Readers closed for the budget, since start. */
  closed = 0;
  /** The sum at the last check, bytes. */
  lastTotal = 0;

  constructor(readonly limitBytes: number) {}

  add(source: () => Iterable<QueuedReader>): void {
    this.sources.push(source);
  }

  /** Close the most-buffered readers while the total is over the budget; the number closed. */
  enforce(): number {
    const heavy: QueuedReader[] = [];
    let total = 0;
    for (const source of this.sources) {
      for (const r of source()) {
        const b = r.buffered;
        if (b <= 0) continue;
        total += b;
        heavy.push(r);
      }
    }
    this.lastTotal = total;
    if (total <= this.limitBytes) return 0;
    heavy.sort((x, y) => y.buffered - x.buffered);
    let n = 0;
    for (const r of heavy) {
      if (total <= this.limitBytes) break;
      total -= r.buffered;
      r.close();
      n++;
    }
    this.closed += n;
    return n;
  }
}
