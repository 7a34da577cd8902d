/**
 * Call control: the JSON messages two extensions exchange inside SEALED
 * envelopes (and the invitation inside CONFIRM). One union, validated at
 * the boundary: anything else is dropped.
 */

export type Control =
  | { k: 'invite' } // CONFIRM payload: "I am calling you"
  | { k: 'ringing' } // callee → caller: the callee's device is ringing
  | { k: 'accept' } // callee answered
  /** callee → caller: Accept pressed, waiting for the callee's microphone permission (keep ringing). */
  | { k: 'answering' }
  /** `why: 'mic'`: the callee could not use its microphone (refused it, closed the prompt), not a "no". */
  | { k: 'decline'; why?: 'mic' }
  | { k: 'busy' }
  | { k: 'hangup' }
  /** `n` numbers the caller's offers; the answer echoes it, so a late answer to an older offer is ignored. */
  | { k: 'offer'; sdp: string; n: number; restart?: boolean; relay?: boolean; fresh?: boolean }
  | { k: 'restart'; relay: boolean; fresh?: boolean } // callee → caller: please restart ICE (relay-only or not; on a fresh connection)
  | { k: 'answer'; sdp: string; n: number }
  | { k: 'cand'; c: CandidateInit | null };

/** RTCIceCandidateInit, as plain JSON (null: end of candidates). */
export interface CandidateInit {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

const MAX_SDP = 32 * 1024;
const MAX_CAND = 1024;

export function encodeControl(c: Control): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(c));
}

export function decodeControl(bytes: Uint8Array): Control | null {
  let o: unknown;
  try {
    o = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return null;
  }
  if (typeof o !== 'object' || o === null) return null;
  const m = o as Record<string, unknown>;
  switch (m.k) {
    case 'invite':
    case 'ringing':
    case 'accept':
    case 'answering':
    case 'busy':
    case 'hangup':
      return { k: m.k };
    case 'decline':
      return m.why === 'mic' ? { k: 'decline', why: 'mic' } : { k: 'decline' };
    case 'offer':
      return typeof m.sdp === 'string' && m.sdp.length <= MAX_SDP
        ? { k: 'offer', sdp: m.sdp, n: seq(m.n), restart: m.restart === true, relay: m.relay === true, fresh: m.fresh === true }
        : null;
    case 'restart':
      return { k: 'restart', relay: m.relay === true, fresh: m.fresh === true };
    case 'answer':
      return typeof m.sdp === 'string' && m.sdp.length <= MAX_SDP ? { k: 'answer', sdp: m.sdp, n: seq(m.n) } : null;
    case 'cand': {
      if (m.c === null) return { k: 'cand', c: null };
      const c = m.c as Record<string, unknown> | undefined;
      if (!c || typeof c.candidate !== 'string' || c.candidate.length > MAX_CAND) return null;
      return {
        k: 'cand',
        c: {
          candidate: c.candidate,
          sdpMid: typeof c.sdpMid === 'string' ? c.sdpMid : null,
          sdpMLineIndex: typeof c.sdpMLineIndex === 'number' ? c.sdpMLineIndex : null,
          usernameFragment: typeof c.usernameFragment === 'string' ? c.usernameFragment : null,
        },
      };
    }
    default:
      return null;
  }
}

function seq(v: unknown): number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0;
}
