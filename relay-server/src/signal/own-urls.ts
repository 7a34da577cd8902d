/**
 * The URLs this relay answers mailbox proofs for (signalling protocol v2,
 * lib/crypto/mailbox-auth.ts): a proof signs the canonical URL the client
 * dialled (lib/signal/relay-url.ts), and the relay accepts it only for one of
 * its own. Never from the request's Host header: a relay that forwards our
 * challenge can send any Host it likes, but it cannot make the client sign
 * our URL instead of its own.
 *
 * - `--signal-url` (behind a TLS proxy, another port): exactly that URL;
 * - else `--public-host` (or a specific --listen) with our scheme and port;
 * - else the address the TCP connection arrived on (a wildcard listen), and
 *   `localhost` too when that address is loopback.
 */
import { canonicalForm, isLoopbackHost } from '../../../lib/signal/relay-url';

export interface OwnUrlInput {
  signalUrl: string | null;
  publicHost: string | null;
  tls: boolean;
  port: number;
  /** req.socket.localAddress: where this connection arrived. */
  localAddress: string;
}

function hostPart(h: string): string {
  const plain = h.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
  return plain.includes(':') && !plain.startsWith('[') ? `[${plain}]` : plain;
}

export function ownSignalUrls(o: OwnUrlInput): string[] {
  if (o.signalUrl) return [canonicalForm(o.signalUrl)];
  const scheme = o.tls ? 'wss' : 'ws';
  const hosts = o.publicHost ? [o.publicHost] : [o.localAddress];
  if (!o.publicHost && isLoopbackHost(hostPart(o.localAddress))) hosts.push('localhost');
  const out: string[] = [];
  for (const h of hosts) {
    try {
      out.push(canonicalForm(`${scheme}://${hostPart(h)}:${o.port}/signal`));
    } catch {
      /* not a host a client could dial: no URL */
    }
  }
  return out;
}
