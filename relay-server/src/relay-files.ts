/**
 * The files the relay reads at start and again on SIGHUP (reload): the TLS
 * certificate and key, and the TURN shared secrets. Each reader checks
 * everything and throws a RelayError ('ERR_CONFIG') with a sentence an
 * operator can act on, so a reload that fails changes nothing. No secret
 * ever appears in a message.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileErrorText } from './config';
import { createSecureContext } from 'node:tls';
import type { RelayConfig } from './config';
import { RelayError } from './errors';

export type TlsMaterial = { cert: Buffer; key: Buffer };

/** Certificate and key from their files, checked to belong together. */
export function readTls(certFile: string, keyFile: string): TlsMaterial {
  const read = (what: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new RelayError('ERR_CONFIG', `cannot read the TLS ${what} ${file}: ${fileErrorText(e)}`);
    }
  };
  const m: TlsMaterial = { cert: read('certificate', certFile), key: read('key', keyFile) };
  try {
    createSecureContext({ cert: m.cert, key: m.key });
  } catch {
    throw new RelayError('ERR_CONFIG', 'the TLS certificate and key are not valid PEM or do not belong together');
  }
  return m;
}

/** One line about a certificate for the log: subject, expiry, fingerprint prefix. */
export function describeCert(cert: Buffer): string {
  try {
    const x = new X509Certificate(cert);
    return `certificate ${x.subject.replace(/\n/g, ', ')}, valid until ${new Date(x.validTo).toISOString().slice(0, 10)}, sha256 ${x.fingerprint256.slice(0, 23)}…`;
  } catch {
    return 'certificate loaded';
  }
}

/**
 * The TURN shared secrets, the one that signs new credentials first. From the
 * secrets file (one per line; blank lines and # comments skipped), else the
 * configured list, else one random secret for this run.
 */
export function readSecrets(cfg: Pick<RelayConfig, 'authSecret' | 'authSecretsFile'>): { secrets: string[]; source: string } {
  if (cfg.authSecretsFile) {
    let text: string;
    try {
      text = readFileSync(cfg.authSecretsFile, 'utf8');
    } catch (e) {
      throw new RelayError('ERR_CONFIG', `cannot read the TURN secrets file ${cfg.authSecretsFile}: ${fileErrorText(e)}`);
    }
    const secrets = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    if (secrets.length === 0) throw new RelayError('ERR_CONFIG', 'the TURN secrets file holds no secret (one per line)');
    if (secrets.some((x) => x.length < 8)) throw new RelayError('ERR_CONFIG', 'every secret in the TURN secrets file must be at least 8 characters');
    return { secrets, source: `${secrets.length} from the secrets file` };
  }
  if (cfg.authSecret.length > 0) return { secrets: [...cfg.authSecret], source: cfg.authSecret.length === 1 ? 'configured' : `${cfg.authSecret.length} configured` };
  return { secrets: [randomBytes(24).toString('base64url')], source: 'random per start' };
}
