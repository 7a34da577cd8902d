/**
 * The ICE servers of a call, from what the relay's signalling handed us
 * (lib/signal/wire.ts TurnCredentials): its STUN on both ports (the
 * second port is what tells a symmetric NAT apart, nat-type.ts), and its
 * TURN over UDP, TCP and TLS with short-lived credentials. No external STUN:
 * an operator's relay is the only server a call ever talks to.
 */
import type { TurnCredentials } from '../signal/wire';

export function iceServersFrom(t: TurnCredentials | undefined): RTCIceServer[] {
  if (!t) return [];
  const stun = t.urls.filter((u) => u.startsWith('stun:'));
  if (t.stunAlt && !stun.includes(t.stunAlt)) stun.push(t.stunAlt);
  const turn = t.urls.filter((u) => u.startsWith('turn:') || u.startsWith('turns:'));
  const out: RTCIceServer[] = [];
  if (stun.length) out.push({ urls: stun });
  if (turn.length) out.push({ urls: turn, username: t.username, credential: t.credential });
  return out;
}
