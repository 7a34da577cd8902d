/**
 * A Node 24 LTS binary for tests and benches that run the relay on it (the
 * machine's own Node may be older). It is the npm-packaged official build
 * (`node-<platform>-<arch>`, the package that npm's `node` package installs),
 * installed once with npm from the registry into node_modules/.cache, so it
 * needs nothing but the registry `npm ci` already uses.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './relay';

export const NODE24_PACKAGE = `node-${process.platform}-${process.arch}@24`;
const PREFIX = join(REPO_ROOT, 'node_modules/.cache/hush-node24');
const BIN = join(PREFIX, `node_modules/node-${process.platform}-${process.arch}/bin/node`);

/** Path of a Node 24 binary (installed on first use); throws with npm's output if it cannot be had. */
export function node24(): string {
  if (!existsSync(BIN)) {
    const r = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock', '--prefix', PREFIX, NODE24_PACKAGE], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    if (r.status !== 0 || !existsSync(BIN)) throw new Error(`could not install ${NODE24_PACKAGE} with npm (status ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  const v = spawnSync(BIN, ['--version'], { encoding: 'utf8' });
  if (!/^v24\./.test(v.stdout)) throw new Error(`${BIN} is not Node 24: ${v.stdout}${v.stderr}`);
  return BIN;
}
