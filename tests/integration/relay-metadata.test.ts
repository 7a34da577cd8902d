/**
 * No metadata retention: run calls through the real CLI (signalling between
 * two mailboxes, TURN allocations made with the credentials it handed out,
 * media both ways, a uclient run), in a fresh empty working directory, then
 * check that nothing it printed and nothing it left on disk names a mailbox,
 * a TURN username, a client address:port or a relayed port.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identityFromSeed } from '../../lib/crypto/identity';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { SignalTestClient } from '../harness/signal-client';
import { TurnTestClient } from '../harness/turn-client';
import { runUclient } from '../harness/uclient';
import { waitFor } from '../harness/wait';

const SECRET = 'metadata-test-secret';
let relay: RelayProcess;
let cwd: string;

beforeAll(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'hush-relay-cwd-'));
  relay = await startRelayProcess(['--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8', '--stats-interval', '1'], { cwd });
});
afterAll(async () => {
  await relay?.stop();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

test('output and working directory hold no mailbox, username, address or port of a call', async () => {
  const secrets: string[] = [];
  const alice = await SignalTestClient.connect(relay.signalUrl);
  const bob = await SignalTestClient.connect(relay.signalUrl);
  const ra = await alice.auth(identityFromSeed(new Uint8Array(32).fill(7)));
  const rb = await bob.auth(identityFromSeed(new Uint8Array(32).fill(8)));
  secrets.push(ra.mailbox as string, rb.mailbox as string);
  for (const ws of [alice.ws, bob.ws]) {
    const s = (ws as unknown as { _socket: { localPort: number } })._socket;
    secrets.push(`127.0.0.1:${s.localPort}`, `:${s.localPort}`);
  }
  alice.send({ t: 'send', to: rb.mailbox, id: 1, data: Buffer.from('offer').toString('base64') });
  await bob.next((f) => f.t === 'deliver');

  // A call's media: two allocations with the credentials signalling handed out.
  const ta = ra.turn as { username: string; credential: string };
  const tb = rb.turn as { username: string; credential: string };
  const ca = new TurnTestClient({ host: '127.0.0.1', port: relay.turnPort }, ta.username, ta.credential);
  const cb = new TurnTestClient({ host: '127.0.0.1', port: relay.turnPort }, tb.username, tb.credential);
  const pa = await ca.open();
  const pb = await cb.open();
  const relA = await ca.allocate();
  const relB = await cb.allocate();
  await ca.channelBind(relB, 0x4000);
  await cb.channelBind(relA, 0x4000);
  const got = new Promise<void>((r) => (cb.onData = () => r()));
  for (let i = 0; i < 20; i++) ca.sendChannel(0x4000, Buffer.from(`frame ${i}`));
  await got;
  secrets.push(ta.username, tb.username, ta.username.split(':')[1]!, tb.username.split(':')[1]!);
  secrets.push(`127.0.0.1:${pa}`, `127.0.0.1:${pb}`, `:${pa}`, `:${pb}`, `:${relA.port}`, `:${relB.port}`);

  const u = await runUclient(['-c', '-y', '-W', SECRET, '-u', 'metauser', '-m', '2', '-n', '20', '-z', '10', '-p', String(relay.turnPort), '127.0.0.1']);
  expect(u.lost).toBe(0);
  secrets.push('metauser');

  await waitFor(() => /^stats: allocations \d+/m.test(relay.output()), { timeout: 5_000, what: 'a periodic stats line while the calls are up' });
  ca.close();
  cb.close();
  alice.close();
  bob.close();
  await relay.stop();

  const out = relay.output();
  expect(out).toMatch(/^stats: allocations \d+/m);
  expect(out).toMatch(/^final: /m);
  for (const s of secrets) expect(out.includes(s), `output names ${s}:\n${out}`).toBe(false);
  expect(readdirSync(cwd, { recursive: true })).toEqual([]);
});
