/**
 * Issue 17: Hush signs and checks transcripts with the browser's ML-DSA-87 where WebCrypto has
 * it (lib/crypto/native-mldsa.ts). Chromium's is BoringSSL's; Node 24's WebCrypto has the same
 * API on OpenSSL 3.5, an independent implementation, so the native path is checked here against
 * noble (its fallback and the other truth): native signatures verify with noble and noble's
 * natively, every forgery is refused, and a whole handshake on the native path agrees on the SAS.
 * (Node 20, which runs the unit tests, has no ML-DSA in WebCrypto: there the fallback runs.)
 */
import { beforeAll, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { node24 } from '../harness/node24';
import { REPO_ROOT } from '../harness/relay';

let node: string;
beforeAll(() => {
  node = node24();
}, 360_000);

test('the native ML-DSA-87 path (Node 24, OpenSSL) against noble: signatures cross, forgeries fail, a handshake agrees', () => {
  const r = spawnSync(node, ['--no-warnings', '--import', 'tsx', join(REPO_ROOT, 'tests/integration/native-mldsa.fixture.ts')], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.status, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  console.log(`native ML-DSA-87 on Node 24: ${JSON.stringify(out)}`);
  expect(out.signer).toEqual(['webcrypto', 'webcrypto', 'webcrypto']);
  expect(out.crossed).toEqual(Array(9).fill(true));
  expect(out.refused).toEqual(Array(18).fill(false));
  expect(out.nativeSigLen).toBe(out.nobleSigLen);
  expect(out.handshake).toBe('same SAS');
});
