/**
 * The contact page (relay-server/src/net/contact-page.ts, issue 18): GET /c
 * and /c.js on the signal port, with a strict CSP, no referrer, nosniff; the
 * same bytes whatever the link's fragment; nothing about the requests in the
 * relay's output; --contact-install-url puts the operator's link in the page.
 */
import { afterAll, describe, expect, test } from 'vitest';
import net from 'node:net';
import { identityFromSeed } from '../../lib/crypto/identity';
import { addressFromBundle } from '../../lib/crypto/address';
import { startRelayProcess, type RelayProcess } from '../harness/relay';

const relays: RelayProcess[] = [];
afterAll(async () => {
  await Promise.all(relays.map((r) => r.stop()));
});

const A = addressFromBundle(identityFromSeed(new Uint8Array(32).fill(7)).bundleBytes);

function httpBase(r: RelayProcess): string {
  return r.signalUrl.replace(/^ws/, 'http').replace(/\/signal$/, '');
}

/** A raw request line, as a careless client could send one (a fragment in the path). */
function raw(port: number, host: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host, () => s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

describe('relay contact page /c', () => {
  test('served with its headers; the same bytes for every card; nothing logged', async () => {
    const r = await startRelayProcess([]);
    relays.push(r);
    const base = httpBase(r);
    const card = `${A}@${new URL(base).host}`;
    const page = await fetch(`${base}/c#${card}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/https?:|\*/); // nothing from elsewhere
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    expect(html).toContain('To call this person, install Hush.');
    expect(html).toContain('Pour appeler cette personne, installez Hush.');
    expect(html).toContain('Chrome Web Store');
    expect(html).not.toMatch(/(?:src|href)="https?:/); // no external resources
    expect(html).not.toContain('hush1');
    expect(await (await fetch(`${base}/c#web+hush:other`)).text()).toBe(html);
    expect(await (await fetch(`${base}/c?x=1`)).text()).toBe(html);

    const js = await fetch(`${base}/c.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await js.text()).toContain('location.hash');

    const head = await fetch(`${base}/c`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect((await fetch(`${base}/c`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${base}/c/x`)).status).toBe(404);

    // A client that sends the fragment anyway: not the page, and not logged.
    const { hostname, port } = new URL(base);
    expect(await raw(Number(port), hostname, `/c#${card}`)).toMatch(/^HTTP\/1\.1 (400|404)/);
    await new Promise((res) => setTimeout(res, 200));
    expect(r.output()).not.toContain(A);
    expect(r.output()).not.toMatch(/\/c[#?]/);
  });

  test('--contact-install-url: the page links there; a non-https URL is refused', async () => {
    const r = await startRelayProcess(['--contact-install-url', 'https://hush.example/install?a=1&b=2']);
    relays.push(r);
    const html = await (await fetch(`${httpBase(r)}/c`)).text();
    expect(html).toContain('<a href="https://hush.example/install?a=1&#38;b=2" rel="noreferrer">Install Hush</a>');
    expect(html).not.toContain('Chrome Web Store');
    await expect(startRelayProcess(['--contact-install-url', 'http://hush.example/'], { timeoutMs: 5000 })).rejects.toThrow(/https URL/);
  });
});
