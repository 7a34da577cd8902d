#!/usr/bin/env node
// `npm start`: build the extension for Chrome and Firefox, then run a local
// relay-server on its embedded defaults until Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';

for (const args of [['wxt', 'build'], ['wxt', 'build', '-b', 'firefox']]) {
  const r = spawnSync('npx', args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
console.log(`
Extension built:
  Chrome:  .output/chrome-mv3   (chrome://extensions → Developer mode → Load unpacked)
  Firefox: .output/firefox-mv2  (about:debugging → This Firefox → Load Temporary Add-on → manifest.json)
Starting the relay (Ctrl-C to stop)…
`);
const relay = spawn(process.execPath, ['--import', 'tsx', 'relay-server/src/cli.ts', ...process.argv.slice(2)], {
  stdio: 'inherit',
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => relay.kill(sig));
relay.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
