/**
 * `hush-relay --healthcheck`: GET this relay's own /healthz with the same
 * settings it runs with (the same config file and HUSH_RELAY_* variables),
 * so a container HEALTHCHECK follows the configuration instead of a
 * hard-wired address: the metrics port when there is one, else the signal
 * port (https with a certificate; the check skips verification, it only
 * asks "are you up"). A wildcard listen address is asked on loopback.
 * true: 200 within 3 s.
 */
import http from 'node:http';
import https from 'node:https';
import type { RelayConfig } from './config';

const TIMEOUT_MS = 3000;

function local(ip: string): string {
  if (ip === '0.0.0.0') return '127.0.0.1';
  if (ip === '::') return '::1';
  return ip;
}

export function healthTarget(cfg: RelayConfig): { url: string; tls: boolean } | null {
  const host = (ip: string) => (ip.includes(':') ? `[${local(ip)}]` : local(ip));
  if (cfg.metricsPort) return { url: `http://${host(cfg.metricsListen)}:${cfg.metricsPort}/healthz`, tls: false };
  if (cfg.signalPort) {
    const tls = !!cfg.tlsCert;
    return { url: `${tls ? 'https' : 'http'}://${host(cfg.signalListen ?? cfg.listen)}:${cfg.signalPort}/healthz`, tls };
  }
  return null;
}

export function healthcheck(cfg: RelayConfig): Promise<boolean> {
  const t = healthTarget(cfg);
  if (!t) {
    process.stderr.write('hush-relay: --healthcheck needs a metrics port or a signal port\n');
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const get = t.tls ? https.get : http.get;
    const req = get(t.url, { timeout: TIMEOUT_MS, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
