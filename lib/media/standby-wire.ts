/**
 * The standby connection's signalling (standby.ts): JSON text messages on the
 * main connection's data channel `hush-standby` (negotiated, id 0, both sides
 * create it before the first offer, RFC 8832 not needed).
 *
 *   caller ──{t:'offer', sdp}──────▶ callee
 *   caller ◀──{t:'answer', sdp}───── callee
 *   both   ──{t:'cand', c}─────────▶ both      trickled relay candidates; c null: gathering done
 *
 * Why not the sealed signalling channel: the data channel runs inside the main
 * connection's DTLS, whose peer is the one whose certificate fingerprint came
 * in the sealed, signed-transcript offer/answer: it reaches the same peer and
 * nobody else, without a round trip through the relays. It only exists while
 * the main connection works, which is when a standby is built (a P2P call).
 *
 * Every message is checked here; anything else is dropped by the caller
 * (`parseStandby` returns an Error naming what was wrong).
 */

export const STANDBY_CHANNEL = { label: 'hush-standby', id: 0 } as const;
/** An SDP or a candidate line is far shorter; a larger message is not ours. */
const MAX_MESSAGE = 64 * 1024;

export type StandbyMessage =
  | { t: 'offer'; sdp: string }
  | { t: 'answer'; sdp: string }
  | { t: 'cand'; c: RTCIceCandidateInit | null };

export function encodeStandby(m: StandbyMessage): string {
  return JSON.stringify(m);
}

export function parseStandby(data: unknown): StandbyMessage | Error {
  if (typeof data !== 'string') return new Error('standby message: not text');
  if (data.length > MAX_MESSAGE) return new Error(`standby message: ${data.length} bytes, at most ${MAX_MESSAGE}`);
  let m: unknown;
  try {
    m = JSON.parse(data);
  } catch {
    return new Error('standby message: not JSON');
  }
  if (typeof m !== 'object' || m === null) return new Error('standby message: not an object');
  const o = m as Record<string, unknown>;
  switch (o.t) {
    case 'offer':
    case 'answer':
      if (typeof o.sdp !== 'string' || !o.sdp.startsWith('v=0')) return new Error(`standby ${o.t}: no SDP`);
      return { t: o.t, sdp: o.sdp };
    case 'cand': {
      if (o.c === null) return { t: 'cand', c: null };
      const c = o.c as Record<string, unknown> | undefined;
      if (typeof c !== 'object' || c === null || typeof c.candidate !== 'string') return new Error('standby cand: no candidate');
      const out: RTCIceCandidateInit = { candidate: c.candidate };
      if (typeof c.sdpMid === 'string') out.sdpMid = c.sdpMid;
      if (typeof c.sdpMLineIndex === 'number') out.sdpMLineIndex = c.sdpMLineIndex;
      if (typeof c.usernameFragment === 'string') out.usernameFragment = c.usernameFragment;
      return { t: 'cand', c: out };
    }
    default:
      return new Error(`standby message: unknown type ${JSON.stringify(o.t)?.slice(0, 20)}`);
  }
}
