/**
 * The operator endpoints (issue 20, exposure): /metrics is absent from the
 * public signal port unless a bearer token is set and presented; the
 * metrics port serves it (asking for the token when one is set); /healthz
 * is three words, 503 while the node cannot do its job.
 */
import { afterAll, describe, expect, test } from 'vitest';
import http from 'node:http';
import { serveOps, startOpsServer, type OpsPort, type OpsSource } from './ops-http';

const servers: http.Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));

async function serve(src: OpsSource, where: OpsPort): Promise<string> {
  const s = http.createServer((req, res) => {
    if (!serveOps(req, res, src, where)) res.writeHead(404).end('not found\n');
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as { port: number }).port}`;
}

const src = (o: Partial<OpsSource> = {}): OpsSource => ({ draining: () => false, metrics: () => 'hush_relay_allocations 1\n', ...o });

describe('operator endpoints', () => {
  test('signal port: /metrics is 404 without a token; with one, 401 unless presented', async () => {
    const open = await serve(src(), 'signal');
    expect((await fetch(`${open}/metrics`)).status).toBe(404);
    expect(await (await fetch(`${open}/healthz`)).text()).toBe('ok\n');
    const token = 'a-long-metrics-token-1234';
    const locked = await serve(src({ metricsToken: token }), 'signal');
    expect((await fetch(`${locked}/metrics`)).status).toBe(401);
    expect((await fetch(`${locked}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await fetch(`${locked}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('hush_relay_allocations 1\n');
  });

  test('metrics port: /metrics open without a token; a failing render answers 503, not a crash', async () => {
    const s = await startOpsServer('127.0.0.1', 0, src());
    expect((await fetch(`http://127.0.0.1:${s.port}/metrics`)).status).toBe(200);
    await s.close();
    const broken = await startOpsServer('127.0.0.1', 0, src({ metrics: () => { throw Object.assign(new Error('EMFILE'), { code: 'EMFILE' }); } }));
    expect((await fetch(`http://127.0.0.1:${broken.port}/metrics`)).status).toBe(503);
    await broken.close();
  });

  test('/healthz: 503 "unavailable" while unhealthy, "draining" while draining; nothing more', async () => {
    const u = await serve(src({ unhealthy: () => 'redis not reached' }), 'signal');
    const r = await fetch(`${u}/healthz`);
    expect([r.status, await r.text()]).toEqual([503, 'unavailable\n']);
    const d = await serve(src({ draining: () => true }), 'signal');
    expect(await (await fetch(`${d}/healthz`)).text()).toBe('draining\n');
  });
});
