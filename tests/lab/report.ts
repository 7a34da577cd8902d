/**
 * The lab's timing table: scenarios add rows, afterAll prints them. Times
 * are medians over the runs of a scenario (the runs are few: 2 cores shared
 * with other browser tests), in milliseconds.
 */
import type { PairInfo } from './webrtc-peer';
import { median as medianOf } from '../harness/median';

export interface TimingRow {
  scenario: string;
  relay: string;
  runs: number;
  /** Candidates handed over -> ICE connected (slower of the two sides). */
  connectMs: number | null;
  /** setLocalDescription -> gathering done (caller). */
  gatherMs: number | null;
  /** setLocalDescription -> first relay candidate (caller): the TURN allocation. */
  relayCandidateMs: number | null;
  /** What the caller selected. */
  pair: string;
  note?: string;
}

/** The median of a scenario's timings, or null when it produced none (a relay time without a relay). */
export function median(xs: number[]): number | null {
  return xs.length === 0 ? null : medianOf(xs);
}

export function describePair(p: PairInfo): string {
  // Only the local side's relay protocol is ours to know; Chromium reports one for remote relay candidates too.
  const local = `${p.local.type}${p.local.type === 'relay' && p.local.relayProtocol ? `(${p.local.relayProtocol})` : ''}`;
  return `${local} -> ${p.remote.type}`;
}

export class TimingTable {
  readonly rows: TimingRow[] = [];

  add(row: TimingRow): void {
    this.rows.push(row);
  }

  render(): string {
    const head = ['scenario', 'relay', 'runs', 'connect ms', 'gather ms', 'relay cand ms', 'caller pair', 'note'];
    const fmt = (n: number | null) => (n === null ? '-' : String(Math.round(n)));
    const body = this.rows.map((r) => [r.scenario, r.relay, String(r.runs), fmt(r.connectMs), fmt(r.gatherMs), fmt(r.relayCandidateMs), r.pair, r.note ?? '']);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
    return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
  }
}
