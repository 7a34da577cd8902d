#!/usr/bin/env node
// `npm run pack:relay [-- --out DIR]`: the relay as a self-contained tarball for
// air-gapped installs (docs/operators.md). Runs with nothing but Node.js (22 or
// 24 LTS; 20 still starts) on the target: no npm install, no network.
//
//   relay-server/dist/hush-relay-<version>.tar.gz (+ .sha256)
//   hush-relay-<version>/
//     bin/hush-relay              launcher: node lib/hush-relay.js "$@"
//     bin/hush-relay-reload       the unit's ExecReload: SIGHUP once the relay handles it
//     lib/hush-relay.js           the relay, one ES module (esbuild bundle, dependencies inside)
//     lib/verifier-worker.js      worker threads the relay starts next to itself
//     lib/turn-thread.js          (relay-server/src/net/ts-worker.ts loads ./<name>.js)
//     lib/package.json            {"type":"module"}
//     lib/early-signals.js        run first (node --import): a SIGHUP during start does not end it
//     lib/*.LEGAL.txt             licence comments esbuild found in the bundled code
//     LICENSE                     hush's licence, AGPL-3.0-only (the repository's LICENSE)
//     THIRD-PARTY-NOTICES.txt     every package bundled into lib/: name, version, licence, its licence file
//     README.md  OPERATORS.md (docs/operators.md)  hush-relay.service  hush-relay.sysusers
//     relay.json.example  turn-secrets.example  hush-relay.nft  Dockerfile  container.json
//     hush-relay-offload.conf     systemd drop-in: the capabilities --offload on needs (only then)
//     bpf/                        the kernel offload's sources; bpf/out/ its helper and XDP object, when built
//     native/                     the native forwarder's sources (--forwarder on); native/out/ its Node-API addon, when built
//
// The archive is reproducible: sorted names, owner 0, mtime of the last commit.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outIdx = args.indexOf('--out');
const outDir = resolve(outIdx >= 0 ? args[outIdx + 1] : join(root, 'relay-server/dist'));
const version = /export const VERSION = '([^']+)'/.exec(readFileSync(join(root, 'relay-server/src/relay.ts'), 'utf8'))?.[1];
if (!version) throw new Error('cannot read VERSION from relay-server/src/relay.ts');

const name = `hush-relay-${version}`;
const stage = join(outDir, name);
rmSync(stage, { recursive: true, force: true });
mkdirSync(join(stage, 'bin'), { recursive: true });
mkdirSync(join(stage, 'lib'), { recursive: true });

// One bundle per entry the relay runs: the CLI and the two worker-thread modules,
// side by side, so `new URL('./verifier-worker.js', import.meta.url)` finds them.
const built = await build({
  metafile: true,
  entryPoints: {
    'hush-relay': join(root, 'relay-server/src/cli.ts'),
    'verifier-worker': join(root, 'relay-server/src/net/verifier-worker.ts'),
    'turn-thread': join(root, 'relay-server/src/net/turn-thread.ts'),
  },
  outdir: join(stage, 'lib'),
  bundle: true,
  platform: 'node',
  target: 'node20', // the oldest Node the launcher still starts (22 and 24 are the LTS to run)
  format: 'esm',
  // CommonJS dependencies (the Redis client) call require() for Node's built-ins.
  banner: { js: "import { createRequire as __hushRequire } from 'node:module'; const require = __hushRequire(import.meta.url);" },
  legalComments: 'external',
  logLevel: 'warning',
});
// Run by the launcher before the bundle (node --import): a SIGHUP during start must not end the process.
writeFileSync(
  join(stage, 'lib/early-signals.js'),
  "// The first code node runs for hush-relay (bin/hush-relay: node --import): a SIGHUP's default action\n" +
    "// ends the process, and a reload racing the start would do so before the relay is loaded.\n" +
    "// The relay's own handlers (cli.ts) take over once it is; this one stays a no-op.\n" +
    "process.on('SIGHUP', () => {});\n",
);
writeFileSync(join(stage, 'lib/package.json'), JSON.stringify({ type: 'module', name: 'hush-relay', version, private: true, engines: { node: '^24 || ^22 || ^20' } }, null, 2) + '\n');

const deploy = join(root, 'relay-server/deploy');
for (const f of ['hush-relay', 'hush-relay-reload']) {
  copyFileSync(join(deploy, f), join(stage, 'bin', f));
  chmodSync(join(stage, 'bin', f), 0o755);
}
for (const f of ['README.md', 'container.json', 'hush-relay.service', 'hush-relay.sysusers', 'relay.json.example', 'turn-secrets.example', 'hush-relay.nft', 'Dockerfile']) {
  copyFileSync(join(deploy, f), join(stage, f));
}
copyFileSync(join(root, 'docs/operators.md'), join(stage, 'OPERATORS.md'));
copyFileSync(join(root, 'LICENSE'), join(stage, 'LICENSE'));
for (const f of ['hush-relay.rules.yml', 'hush-relay.dashboard.json']) copyFileSync(join(deploy, f), join(stage, f));

// The kernel offload (--offload on; docs/operators.md, "Kernel offload"): its C sources and Makefile,
// the systemd drop-in that grants its capabilities, and, built here when clang and libbpf-dev are
// present, bpf/out/hush-xdp-helper (this machine's architecture, needs libbpf1) and hush_xdp.bpf.o,
// so an air-gapped host needs no compiler. Without them the relay says why and stays in userspace.
mkdirSync(join(stage, 'bpf'));
for (const f of ['Makefile', 'hush_xdp.bpf.c', 'hush_xdp.h', 'hush_xdp_helper.c']) copyFileSync(join(root, 'relay-server/bpf', f), join(stage, 'bpf', f));
copyFileSync(join(deploy, 'hush-relay-offload.conf'), join(stage, 'hush-relay-offload.conf'));
const make = spawnSync('make', ['-s', '-C', join(root, 'relay-server/bpf')], { encoding: 'utf8' });
if (make.status === 0) {
  mkdirSync(join(stage, 'bpf/out'));
  for (const f of ['hush-xdp-helper', 'hush_xdp.bpf.o']) copyFileSync(join(root, 'relay-server/bpf/out', f), join(stage, 'bpf/out', f));
  chmodSync(join(stage, 'bpf/out/hush-xdp-helper'), 0o755);
} else console.log(`  kernel offload not built (make -C relay-server/bpf: ${(make.stderr || make.error?.message || '').trim().split('\n').pop()}): the tarball carries its sources only`);

// The native forwarder (--forwarder on; docs/relay.md, "The native forwarder"): its C source and
// Makefile, and, built here when a C compiler is present, native/out/hush_forward.node (this
// machine's architecture and C library; Node-API, so any Node from 18 on loads it). It needs no
// capability: the unit and the container run it as they are. Without it the relay says why and
// relays in JavaScript.
mkdirSync(join(stage, 'native'));
for (const f of ['Makefile', 'hush_forward.c']) copyFileSync(join(root, 'relay-server/native', f), join(stage, 'native', f));
const makeNative = spawnSync('make', ['-s', '-C', join(root, 'relay-server/native')], { encoding: 'utf8' });
if (makeNative.status === 0) {
  mkdirSync(join(stage, 'native/out'));
  copyFileSync(join(root, 'relay-server/native/out/hush_forward.node'), join(stage, 'native/out/hush_forward.node'));
} else console.log(`  native forwarder not built (make -C relay-server/native: ${(makeNative.stderr || makeNative.error?.message || '').trim().split('\n').pop()}): the tarball carries its sources only`);

// Third-party notices: every npm package whose code esbuild put in the bundle, with its licence text.
const packages = new Map();
for (const input of Object.keys(built.metafile.inputs)) {
  const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (!m) continue;
  const dir = join(root, input.slice(0, m.index + m[0].length));
  if (!packages.has(m[1])) packages.set(m[1], dir);
}
const notices = [
  `hush-relay ${version} bundles the following third-party packages into lib/*.js.`,
  'Each is listed with its version, its licence as it declares it, and its licence file.',
  '',
];
for (const [pkgName, dir] of [...packages].sort(([a], [b]) => a.localeCompare(b))) {
  const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const licenseFile = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
  if (!pj.license) throw new Error(`${pkgName} declares no licence: check it before shipping`);
  notices.push('='.repeat(78), `${pkgName} ${pj.version} (${pj.license})${pj.repository ? ' ' + (pj.repository.url ?? pj.repository) : ''}`, '='.repeat(78));
  notices.push(licenseFile ? readFileSync(join(dir, licenseFile), 'utf8').trimEnd() : `(no licence file in the package; it declares ${pj.license})`, '');
}
writeFileSync(join(stage, 'THIRD-PARTY-NOTICES.txt'), notices.join('\n') + '\n');

// Nothing in the bundle may need a package from outside.
for (const f of readdirSync(join(stage, 'lib')).filter((x) => x.endsWith('.js'))) {
  const text = readFileSync(join(stage, 'lib', f), 'utf8');
  const bare = [...text.matchAll(/^import .* from ["']([^"']+)["'];?$/gm)].map((m) => m[1]).filter((s) => !s.startsWith('node:') && !s.startsWith('.'));
  if (bare.length) throw new Error(`${f} imports ${bare.join(', ')}: not bundled`);
}

// Reproducible archive: GNU tar with fixed order, owners and times; gzip without a timestamp.
const gitTime = spawnSync('git', ['log', '-1', '--format=%ct'], { cwd: root, encoding: 'utf8' }).stdout.trim();
const mtime = process.env.SOURCE_DATE_EPOCH ?? (gitTime || '0');
const tar = spawnSync(
  'tar',
  ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', `--mtime=@${mtime}`, '--mode=u+rwX,go+rX,go-w', '-C', outDir, '-cf', '-', name],
  { maxBuffer: 256 * 1024 * 1024 },
);
if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);
const tarball = join(outDir, `${name}.tar.gz`);
const gz = gzipSync(tar.stdout, { level: 9 });
writeFileSync(tarball, gz);
const sum = createHash('sha256').update(gz).digest('hex');
writeFileSync(`${tarball}.sha256`, `${sum}  ${name}.tar.gz\n`);

const size = (p) => (statSync(p).size / 1024).toFixed(0) + ' KiB';
console.log(`${tarball} (${size(tarball)}), sha256 ${sum}`);
console.log(`  lib/hush-relay.js ${size(join(stage, 'lib/hush-relay.js'))}, verifier-worker.js ${size(join(stage, 'lib/verifier-worker.js'))}, turn-thread.js ${size(join(stage, 'lib/turn-thread.js'))}`);
console.log(`  third-party packages bundled: ${[...packages.keys()].sort().join(', ')}`);
console.log(`  unpacked in ${stage}; run it with: ${join(stage, 'bin/hush-relay')} --help`);
