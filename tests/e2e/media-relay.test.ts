/**
 * The media engine in privacy mode (relayOnly → iceTransportPolicy 'relay'),
 * in real Chromium, through a real TURN server: Debian's coturn on loopback.
 * Both sides of the self-test loopback call are relay-only, so every frame
 * goes caller → TURN → TURN → callee. The engine must say 'relay' and name
 * how it reaches the TURN server (relayProtocol udp / tcp), and the audio must
 * still arrive, decrypted.
 *
 * coturn is an outside truth here on purpose: Hush's own relay-server is
 * tested by its own suite; this file tests the engine against the reference.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freeTcpUdpPort } from '../harness/ports';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launchWithExtension, type HushBrowser } from '../harness/chromium';
import { makeTone, waitForReading } from '../harness/audio';
import { openSelfTest, type SelfTest } from '../harness/selftest';
import { waitFor } from '../harness/wait';
import type { CallStats, Role } from '../../lib/media/types';
import type { LoopbackOptions } from '../../lib/media/loopback';

const TONE_HZ = 440;
const USER = 'hush-test';
const PASS = 'hush-test-pass';

let hb: HushBrowser;
let selfTest: SelfTest;
let turn: ChildProcess | undefined;
let port = 0;

async function waitForTcp(p: number, timeoutMs = 5_000): Promise<void> {
  const accepts = () =>
    new Promise<boolean>((resolve) => {
      const c = connect(p, '127.0.0.1', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
  await waitFor(accepts, { timeout: timeoutMs, what: `coturn to listen on 127.0.0.1:${p}` });
}

beforeAll(async () => {
  port = await freeTcpUdpPort(); // coturn listens on TCP and UDP: a port free for TCP only made its UDP bind fail (errno 98) and every call time out
  turn = spawn(
    'turnserver',
    [
      '-n', '-L', '127.0.0.1', '-E', '127.0.0.1', '--listening-port', String(port),
      '--no-cli', '--no-tls', '--no-dtls', '--allow-loopback-peers',
      '--lt-cred-mech', '--user', `${USER}:${PASS}`, '--realm', 'hush.test',
      '--min-port', '49400', '--max-port', '49600', '--log-file', 'stdout',
    ],
    { stdio: 'ignore' },
  );
  const spawned = new Promise<void>((resolve, reject) => {
    turn!.once('error', (e) => reject(new Error(`coturn did not start (apt-get install -y coturn): ${e.message}`)));
    turn!.once('spawn', () => resolve());
  });
  await spawned;
  await waitForTcp(port);
  hb = await launchWithExtension({ args: [`--use-file-for-fake-audio-capture=${makeTone(TONE_HZ)}`] });
  selfTest = await openSelfTest(await hb.browser.newPage(), `chrome-extension://${hb.extensionId}/selftest.html`);
});

afterAll(async () => {
  await hb?.close();
  if (turn?.pid) turn.kill('SIGTERM');
});

const hears: SelfTest['hears'] = (role) => selfTest.hears(role);

describe.each(['udp', 'tcp'] as const)('relay only, TURN over %s', (transport) => {
  let connectMs = 0;
  beforeAll(async () => {
    const opts: LoopbackOptions = {
      relayOnly: true,
      iceServers: [{ urls: `turn:127.0.0.1:${port}?transport=${transport}`, username: USER, credential: PASS }],
    };
    ({ connectMs } = await selfTest.start(opts));
  });
  afterAll(async () => {
    await selfTest.stop();
  });

  test('both ends report a relayed path and how they reach the relay', async () => {
    // Chromium may answer getStats() from a report cached just before the pair was selected, and the
    // peer's relay can first be learned from its check as prflx (RFC 8445 §7.3.1.3) until its
    // signalled candidate arrives. Both settle within a moment: wait for that, briefly.
    const settled = (x: Record<Role, CallStats>) => (['caller', 'callee'] as const).every((r) => x[r].path === 'relay' && x[r].remoteType === 'relay');
    const s = await waitFor(async () => {
      const x = await selfTest.stats();
      return settled(x) && x;
    }, { timeout: 3_000, interval: 100, what: 'both ends to report a relayed path to a relay candidate' });
    // The engine told its owner too: the latest state event says relay.
    const events = await selfTest.stateEvents();
    for (const role of ['caller', 'callee'] as const) expect(events[role].at(-1), role).toMatchObject({ connection: 'connected', path: 'relay' });
    console.info(`relay/${transport}: createOffer → connected in ${connectMs.toFixed(0)} ms`);
    for (const role of ['caller', 'callee'] as const) {
      expect(s[role]).toMatchObject({ path: 'relay', localType: 'relay', remoteType: 'relay', relayProtocol: transport });
    }
  });

  test('the audio arrives through the relay, decrypted', async () => {
    const heard = await waitForReading(hears('callee'), (r) => Math.abs(r.frequency - TONE_HZ) <= 10 && r.rmsDb > -40);
    expect(Math.abs(heard.frequency - TONE_HZ)).toBeLessThanOrEqual(10);
    expect(heard.rmsDb).toBeGreaterThan(-40);
    const s = await selfTest.stats();
    expect(s.callee.frames.decrypted).toBeGreaterThan(10);
    expect(s.callee.frames.dropped).toBe(0);
  });
});
