/**
 * A throwaway self-signed certificate for TLS tests, made with the system's
 * openssl (Debian's openssl package; present wherever coturn is).
 */
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function selfSignedCert(dir = mkdtempSync(join(tmpdir(), 'hush-tls-'))): { cert: string; key: string; dir: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ], { stdio: 'ignore' });
  return { cert, key, dir };
}

/**
 * The base64 SHA-256 of a certificate's public key (SPKI): what Chromium's
 * `--ignore-certificate-errors-spki-list` takes to trust exactly this key for
 * TLS (a TLS-only switch: it grants no permission), the test's own CA-less cert.
 */
export function spkiSha256(certPem: string): string {
  const spki = new X509Certificate(readFileSync(certPem)).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}
