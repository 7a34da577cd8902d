/**
 * The operator endpoints, served on the signal port and, with
 * --metrics-port, alone on a plain-HTTP port of their own:
 *
 *   GET /healthz   200 "ok" while serving; 503 "draining" while shutting down
 *   GET /health    the same (older name)
 *   GET /metrics   Prometheus text format (metrics.ts), aggregate counts only
 */
import http from 'node:http';
import { RelayError } from '../errors';
import { PROMETHEUS_CONTENT_TYPE } from '../metrics';

export interface OpsSource {
  draining(): boolean;
  /** The rendered exposition text. */
  metrics(): string;
}

/** Answer an operator request; false if `req` is not one (the caller answers it). */
export function serveOps(req: http.IncomingMessage, res: http.ServerResponse, src: OpsSource): boolean {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (path === '/healthz' || path === '/health') {
    const draining = src.draining();
    res.writeHead(draining ? 503 : 200, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end(draining ? 'draining\n' : 'ok\n');
    return true;
  }
  if (path === '/metrics') {
    res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' }).end(src.metrics());
    return true;
  }
  return false;
}

/** --metrics-port: a plain-HTTP server with the operator endpoints and nothing else. */
export async function startOpsServer(listen: string, port: number, src: OpsSource): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (!serveOps(req, res, src)) res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    const onErr = (e: NodeJS.ErrnoException) => reject(new RelayError('ERR_LISTEN', `cannot listen for metrics on port ${port}: ${e.code ?? 'error'}`));
    server.once('error', onErr);
    server.listen({ port, host: listen, exclusive: true }, () => {
      server.off('error', onErr);
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
