/**
 * Stateless NONCE (RFC 8489 §9.2): the server keeps no per-client state
 * before a request carries valid MESSAGE-INTEGRITY, so the nonce carries its
 * own proof. Format, 28 ASCII characters:
 *
 *   | issue time: 8 hex digits (unix seconds) | tag: 20 chars base64url |
 *
 * tag = first 15 bytes of HMAC-SHA256(process key, time ‖ 0x00 ‖ client IP).
 * It is valid for `ttlSec` from issue (expired → 438 Stale Nonce) and only
 * from the IP it was issued to. The key is random per process: a restart
 * invalidates nonces and clients simply retry after a 438/401.
 */
import { createHmac, randomBytes } from 'node:crypto';

export class NonceIssuer {
  private readonly key: Uint8Array;
  constructor(
    private readonly ttlSec: number,
    key?: Uint8Array,
  ) {
    this.key = key ?? randomBytes(32);
  }

  issue(clientIp: string, nowMs: number): string {
    const t = Math.floor(nowMs / 1000).toString(16).padStart(8, '0');
    return t + this.tag(t, clientIp);
  }

  /** 'ok', 'stale' (ours but expired) or 'invalid' (not ours, malformed or for another IP). */
  check(nonce: string, clientIp: string, nowMs: number): 'ok' | 'stale' | 'invalid' {
    if (nonce.length !== 28 || !/^[0-9a-f]{8}$/.test(nonce.slice(0, 8))) return 'invalid';
    const t = nonce.slice(0, 8);
    if (nonce.slice(8) !== this.tag(t, clientIp)) return 'invalid';
    const age = nowMs / 1000 - parseInt(t, 16);
    if (age < -5) return 'invalid';
    return age > this.ttlSec ? 'stale' : 'ok';
  }

  private tag(t: string, ip: string): string {
    return createHmac('sha256', this.key).update(`${t}\0${ip}`).digest().subarray(0, 15).toString('base64url');
  }
}
