/**
 * Issue 17, long calls: calls outlive the TURN credentials they started with. A real relay with
 * `--credential-ttl 60` (the shortest it allows), four Chromiums with the extension (two calls at
 * once, so one wait for the expiry serves both), every call made through the popup's UI.
 *
 * - The relay itself (a TURN client of the harness, credentials from its own signalling login):
 *   once the username expired, the allocation it made is still refreshed, and a new Allocate
 *   with it is refused 401 — what a call's allocations meet an hour in.
 * - (a) A privacy-mode call (both sides relay-only) started before the expiry still carries audio
 *   both ways after it, on the relay.
 * - (b) A P2P call whose standby (make before break, lib/media/standby.ts) is rebuilt after the
 *   expiry gets a connected standby: the rebuild's Allocate uses the credentials the signalling
 *   client holds now (the background pushes each renewal: media-ice-servers). The standby is
 *   made to fail for real: an nft rule (a table of this test's own, on this relay's TURN port
 *   only) drops what the browsers send to the relay's TURN/UDP port until the caller gives its
 *   standby up; the rule is then removed and the caller builds the next one 10 s later
 *   (call-media.ts STANDBY_RETRY_MS). Before the renewals were pushed, that Allocate carried the
 *   call's first, expired username: the relay counted a 401 (turn_auth_failures_total) on every
 *   retry and the standby never connected again.
 *
 * Needs root (nft) and `npm run build` first. Wall time ~100 s: the launch, ~60 s for the first
 * credentials to expire, ~15 s for the standby's retry.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { identityFromSeed } from '../../lib/crypto/identity';
import { Class } from '../../relay-server/src/stun/constants';
import { waitForReading } from '../harness/audio';
import { callState, click, dialByUi, hangUpAll, hears, launchSide, request, stats, waitCallState, type HushSide } from '../harness/hush';
import { scrapeMetrics } from '../harness/metrics';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { SignalTestClient, type Frame } from '../harness/signal-client';
import { TurnTestClient } from '../harness/turn-client';
import { waitFor } from '../harness/wait';

const TTL_SEC = 60;
const A_HZ = 440;
const B_HZ = 880;
/** The nft table of this run: dropped in afterAll whatever happened. */
const NFT_TABLE = `hush_long_call_${process.pid}`;

let relay: RelayProcess;
let a: HushSide; // privacy mode, calls b
let b: HushSide; // privacy mode
let c: HushSide; // P2P, calls d
let d: HushSide;
let signal: SignalTestClient;
let turn: TurnTestClient;
let firstCreds: { username: string; credential: string };
/** When every first credential handed out (the harness's and the four browsers') has expired (ms). */
let allExpiredAt = 0;

const metric = async (name: string): Promise<number> => (await scrapeMetrics(`http://127.0.0.1:${relay.signalPort}`))[name] ?? 0;

function nft(...args: string[]): void {
  try {
    execFileSync('nft', args, { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`nft ${args.join(' ')} failed (needs root and apt-get install -y nftables): ${(e as Error).message}`);
  }
}

function cutTurnUdp(): void {
  nft('add', 'table', 'ip', NFT_TABLE);
  nft('add', 'chain', 'ip', NFT_TABLE, 'out', '{ type filter hook output priority 0; }');
  nft('add', 'rule', 'ip', NFT_TABLE, 'out', 'ip', 'daddr', '127.0.0.1', 'udp', 'dport', String(relay.turnPort), 'drop');
}

function restoreTurnUdp(): void {
  try {
    nft('delete', 'table', 'ip', NFT_TABLE);
  } catch {
    // not there: nothing to restore
  }
}

async function connectCall(caller: HushSide, callee: HushSide): Promise<void> {
  await dialByUi(caller.popup, callee.address);
  await waitCallState(callee.popup, 'incoming');
  await click(callee.popup, 'accept');
  await waitCallState(caller.popup, 'connected');
  await waitCallState(callee.popup, 'connected');
}

beforeAll(async () => {
  restoreTurnUdp();
  relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8', '--credential-ttl', String(TTL_SEC)]);
  signal = await SignalTestClient.connect(relay.signalUrl);
  const ready = (await signal.auth(identityFromSeed(new Uint8Array(32).fill(77)))) as Frame & { turn: { username: string; credential: string; ttl: number } };
  expect(ready.t).toBe('ready');
  expect(ready.turn.ttl).toBe(TTL_SEC);
  firstCreds = ready.turn;
  turn = new TurnTestClient({ host: '127.0.0.1', port: relay.turnPort }, firstCreds.username, firstCreds.credential);
  await turn.open();
  await turn.allocate();

  [a, b, c, d] = await Promise.all([
    launchSide({ toneHz: A_HZ, signalUrl: relay.signalUrl }),
    launchSide({ toneHz: B_HZ, signalUrl: relay.signalUrl }),
    launchSide({ toneHz: A_HZ, signalUrl: relay.signalUrl }),
    launchSide({ toneHz: B_HZ, signalUrl: relay.signalUrl }),
  ]);
  // Each side got its first credentials when it logged in, before launchSide saw "Connected".
  allExpiredAt = Date.now() + TTL_SEC * 1000 + 1500;
  await Promise.all([
    request(a.popup, 'update-settings', { settings: { privacyMode: true } }),
    request(b.popup, 'update-settings', { settings: { privacyMode: true } }),
  ]);
  await Promise.all([connectCall(a, b), connectCall(c, d)]);
}, 90_000);

afterAll(async () => {
  restoreTurnUdp();
  turn?.close();
  signal?.close();
  await Promise.allSettled([a, b, c, d].filter(Boolean).map((s) => hangUpAll(s)));
  await Promise.allSettled([a?.close(), b?.close(), c?.close(), d?.close()]);
  await relay?.stop();
});

describe('calls longer than the TURN credentials', () => {
  test('after the first credentials expired: the relay refreshes their allocation and refuses a new one; a privacy-mode call still carries audio', async () => {
    // Before the expiry: the privacy call runs on the relay, the P2P call direct with a standby up.
    expect((await stats(a)).path).toBe('relay');
    expect((await stats(c)).path).toBe('p2p');
    await waitFor(async () => (await stats(c)).standby?.state === 'connected', { timeout: 20_000, what: "C's standby to connect" });
    expect(Date.now()).toBeLessThan(allExpiredAt - 20_000); // the calls really started before the expiry

    await waitFor(() => Date.now() >= allExpiredAt, { timeout: TTL_SEC * 1000 + 5000, interval: 500, what: 'the first TURN credentials to expire' });
    const expiredAt = Date.now();

    // The relay: the allocation made with the expired username is still served...
    const refreshed = await turn.refresh(600);
    expect(refreshed?.cls).toBe(Class.Success);
    // ...and a new allocation with it is refused (from another socket: another 5-tuple).
    const late = new TurnTestClient({ host: '127.0.0.1', port: relay.turnPort }, firstCreds.username, firstCreds.credential);
    try {
      await late.open();
      await expect(late.allocate()).rejects.toThrow(/allocate failed: 401/);
    } finally {
      late.close();
    }

    // (a) The privacy call, started with the first credentials, still carries audio both ways.
    const before = await stats(b);
    const atB = await waitForReading(() => hears(b), (r) => Math.abs(r.frequency - A_HZ) < 10 && r.rmsDb > -40);
    const atA = await waitForReading(() => hears(a), (r) => Math.abs(r.frequency - B_HZ) < 10 && r.rmsDb > -40);
    await waitFor(async () => (await stats(b)).frames.decrypted > before.frames.decrypted + 100, { timeout: 10_000, what: 'B to decrypt 100 more frames' });
    const [sa, sb] = await Promise.all([stats(a), stats(b)]);
    console.log(
      `${((Date.now() - expiredAt) / 1000).toFixed(1)} s after the expiry: B hears ${atB.frequency.toFixed(0)} Hz at ${atB.rmsDb.toFixed(1)} dBFS, ` +
        `A hears ${atA.frequency.toFixed(0)} Hz at ${atA.rmsDb.toFixed(1)} dBFS; B decrypted ${sb.frames.decrypted - before.frames.decrypted} more frames`,
    );
    expect([sa.path, sb.path]).toEqual(['relay', 'relay']);
    expect(sa.localType).toBe('relay');
    expect(sb.frames.authFailed).toBe(0);
    expect(await callState(a.popup)).toBe('connected');
  });

  test('after the expiry, a P2P call whose standby failed gets a new, connected standby', async () => {
    expect(Date.now()).toBeGreaterThanOrEqual(allExpiredAt);
    // The privacy call uses the same TURN port: end it before the cut.
    await hangUpAll(a, b);
    const s0 = await stats(c);
    expect(s0.path).toBe('p2p');
    expect(s0.standby?.state).toBe('connected');
    const failuresBefore = await metric('hush_relay_turn_auth_failures_total');
    const cutAt = Date.now();
    try {
      cutTurnUdp();
      // The caller gives its standby up (ICE consent unanswered: not connected → dropped, call-media.ts iceTick).
      await waitFor(async () => (await stats(c)).standby?.state !== 'connected', { timeout: 20_000, what: "C's standby to lose the relay" });
      await waitFor(
        async () => {
          const sb = (await stats(c)).standby;
          return !sb || sb.state === 'closed' || (sb.upMs ?? Infinity) < Date.now() - cutAt;
        },
        { timeout: 20_000, what: 'C to drop its standby' },
      );
    } finally {
      restoreTurnUdp();
    }
    const restoredAt = Date.now();
    // The retry (10 s after the drop) allocates anew: with the credentials of now, it connects.
    const rebuilt = await waitFor(
      async () => {
        const sb = (await stats(c)).standby;
        return sb?.state === 'connected' && (sb.upMs ?? Infinity) < Date.now() - cutAt && sb;
      },
      {
        timeout: 30_000,
        interval: 250,
        what: async () =>
          `C's rebuilt standby to connect (now: ${JSON.stringify((await stats(c)).standby)}; relay TURN auth failures ` +
          `${failuresBefore} → ${await metric('hush_relay_turn_auth_failures_total')})`,
      },
    );
    const failuresAfter = await metric('hush_relay_turn_auth_failures_total');
    const sd = await stats(d);
    console.log(
      `standby dropped ${((restoredAt - cutAt) / 1000).toFixed(1)} s after the cut, rebuilt and connected ${((Date.now() - restoredAt) / 1000).toFixed(1)} s after the restore ` +
        `(${rebuilt.upMs} ms old); D's standby ${sd.standby?.state}; relay TURN auth failures ${failuresBefore} → ${failuresAfter}`,
    );
    expect(rebuilt.path).toBe('relay');
    expect(sd.standby?.state).toBe('connected');
    expect(failuresAfter).toBe(failuresBefore); // no Allocate with an expired username
    // The main call went on direct throughout.
    expect((await stats(c)).path).toBe('p2p');
    expect(await callState(c.popup)).toBe('connected');
  });
});
