/**
 * The operator endpoints, served on the signal port and, with
 * --metrics-port, alone on a plain-HTTP port of their own:
 *
 *   GET /healthz   200 "ok" while serving; 503 "draining" while shutting down;
 *                  503 "unavailable" while the node cannot do its job (a cluster
 *                  node that has not reached Redis since start, or shares its
 *                  node id with another node: the log says which)
 *   GET /health    the same (older name)
 *   GET /metrics   Prometheus text format (metrics.ts), aggregate counts only
 *
 * /metrics is traffic metadata (allocation and packet counters readable every
 * second), so the public signal port does not serve it unless a bearer token
 * is configured (--metrics-token) and presented; the metrics port (loopback
 * by default) serves it, and asks for the token too when one is set.
 * /healthz says nothing beyond those three words.
 */
import http from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { RelayError } from '../errors';
import { PROMETHEUS_CONTENT_TYPE } from '../metrics';

export interface OpsSource {
  draining(): boolean;
  /** The rendered exposition text. */
  metrics(): string;
  /** Why this node cannot do its job (for the log), or null; /healthz fails while it is set. */
  unhealthy?(): string | null;
  /** Bearer token /metrics requires; null: open on the metrics port, absent from the signal port. */
  metricsToken?: string | null;
}

/** Where the request arrived: the public signal port or the operator's metrics port. */
export type OpsPort = 'signal' | 'metrics';

function tokenOk(req: http.IncomingMessage, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  if (!m) return false;
  // Equal-length digests: the comparison takes the same time whatever was sent.
  const a = createHash('sha256').update(m[1]!).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/** Answer an operator request; false if `req` is not one (the caller answers it). */
export function serveOps(req: http.IncomingMessage, res: http.ServerResponse, src: OpsSource, where: OpsPort = 'signal'): boolean {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (path === '/healthz' || path === '/health') {
    const draining = src.draining();
    const problem = draining ? null : safe(() => src.unhealthy?.() ?? null, 'unavailable');
    const body = draining ? 'draining\n' : problem ? 'unavailable\n' : 'ok\n';
    res.writeHead(draining || problem ? 503 : 200, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end(body);
    return true;
  }
  if (path === '/metrics') {
    const token = src.metricsToken ?? null;
    if (token === null && where === 'signal') return false; // not served here: 404 like any other path
    if (token !== null && !tokenOk(req, token)) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="hush-relay metrics"' }).end('token required\n');
      return true;
    }
    let text: string;
    try {
      text = src.metrics();
    } catch {
      // Out of file descriptors or memory: say so rather than take the process down.
      res.writeHead(503, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      return true;
    }
    res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' }).end(text);
    return true;
  }
  return false;
}

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}

/** --metrics-port: a plain-HTTP server with the operator endpoints and nothing else. */
export async function startOpsServer(listen: string, port: number, src: OpsSource): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (!serveOps(req, res, src, 'metrics')) res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    const onErr = (e: NodeJS.ErrnoException) => reject(new RelayError('ERR_LISTEN', `cannot listen for metrics on ${listen} port ${port}: ${e.code ?? 'error'}`));
    server.once('error', onErr);
    server.listen({ port, host: listen, exclusive: true }, () => {
      server.off('error', onErr);
      // After listening, an error is a failed accept (EMFILE when out of descriptors): that
      // connection is lost, the server goes on. Without a listener it would end the process.
      server.on('error', () => undefined);
      resolve();
    });
  });
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
