/**
 * The relay's view of a call. Everything that crossed loopback to and from
 * the relay during a relay-only call is captured (tcpdump) and searched:
 *
 *  - audio: none of the Opus frames the caller's encoder produced appears in
 *    any packet the relay received or sent (the frames left encrypted, and
 *    the callee's decryptor authenticated every one it played: the payload
 *    inside SRTP was our AES-GCM ciphertext);
 *  - signalling: the WebSocket messages the relay received and sent carry no
 *    SDP, no ICE candidate, no address of either party and no SAS, neither in
 *    the JSON nor in the envelopes once base64-decoded; every envelope has
 *    one of the four documented types.
 *  - blindness (protocol v2, issue 15): no identity bundle (an auth frame is
 *    a mailbox, a 32-byte key and a 64-byte signature), no address and no
 *    address tag anywhere, no sender in any `deliver`, and the sender's own
 *    mailbox nowhere in what it sends; every delivery is one of the padded
 *    sizes (docs/relay-protocol.md, the table "What a relay sees").
 *
 * Needs root for tcpdump (CI runs as root); skipped with a reason otherwise.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { canCapture, contains, startCapture, websocketMessages, type Packet } from '../harness/capture';
import { waitForReading } from '../harness/audio';
import { click, dialByUi, hears, launchSide, request, stats, waitCallState, type HushSide } from '../harness/hush';
import { sleep } from '../harness/wait';
import { mailboxIdOf } from '../../lib/crypto/address';
import { relayMailboxId } from '../../lib/crypto/mailbox-auth';
import { canonicalForm } from '../../lib/signal/relay-url';
import { PAD_BUCKETS, unwrapDelivery } from '../../lib/signal/delivery';

const TAP = 40;
let relay: RelayProcess;
let a: HushSide;
let b: HushSide;

beforeAll(async () => {
  if (!canCapture()) return;
  relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
  [a, b] = await Promise.all([launchSide({ toneHz: 440, signalUrl: relay.signalUrl }), launchSide({ toneHz: 880, signalUrl: relay.signalUrl })]);
  for (const s of [a, b]) await request(s.popup, 'update-settings', { settings: { privacyMode: true } });
  const w = await a.hb.worker();
  await w.evaluate((n) => (globalThis as unknown as { chrome: { storage: { session: { set(v: object): Promise<void> } } } }).chrome.storage.session.set({ testTapFrames: n }), TAP);
});

afterAll(async () => {
  await Promise.allSettled([a?.close(), b?.close()]);
  await relay?.stop();
});

test.skipIf(!canCapture())('what the relay forwards is ciphertext; no SDP, candidate, address or SAS crosses its signalling', async () => {
  const capture = await startCapture(`udp or tcp port ${relay.signalPort}`);
  let packets: Packet[] = [];
  let sas = '';
  try {
    await dialByUi(a.popup, b.address);
    await click(b.popup, 'accept');
    await waitCallState(a.popup, 'connected');
    await waitCallState(b.popup, 'connected');
    sas = (await a.popup.$eval('[data-testid="sas"]', (e) => e.textContent)) ?? '';
    await waitForReading(() => hears(b), (r) => Math.abs(r.frequency - 440) < 10 && r.rmsDb > -40);
    await sleep(1000); // intent: a second of the call's media inside the capture
  } finally {
    packets = await capture.stop();
  }

  const sa = await stats(a);
  const sb = await stats(b);
  expect(sa.path).toBe('relay');
  const tap = (sa as unknown as { testTap?: { plain: string[]; sealed: string[] } }).testTap;
  expect(tap?.plain.length).toBe(TAP);

  // Audio: the relay carried the call…
  const udp = packets.filter((p) => p.proto === 'udp');
  const viaRelay = udp.filter((p) => p.srcPort === relay.turnPort || p.dstPort === relay.turnPort);
  expect(viaRelay.length).toBeGreaterThan(50);
  // …and no plaintext frame is anywhere in what it saw.
  const frames = tap!.plain.map((h) => Buffer.from(h, 'hex')).filter((f) => f.length >= 8);
  expect(frames.length).toBeGreaterThan(TAP / 2);
  for (const f of frames) for (const p of udp) expect(contains(p.payload, f)).toBe(false);
  // The callee played only frames that authenticated under the call's key: what arrived was ciphertext.
  expect(sb.frames.decrypted).toBeGreaterThan(50);
  expect(sb.frames.authFailed).toBe(0);

  // Signalling: look at every message the relay received and sent.
  const ws = websocketMessages(packets, relay.signalPort);
  const all = [...ws.toServer, ...ws.toClient];
  expect(ws.toServer.some((m) => m.includes('"t":"send"'))).toBe(true);
  expect(ws.toClient.some((m) => m.includes('"t":"deliver"'))).toBe(true);
  const envelopes: Buffer[] = [];
  const deliveries: Buffer[] = [];
  for (const m of all) {
    const j = JSON.parse(m) as { t: string; data?: string };
    if ((j.t === 'send' || j.t === 'deliver') && j.data) {
      const d = Buffer.from(j.data, 'base64');
      deliveries.push(d);
      // Every delivery is padded to a size class, so accept, decline, busy and hang-up look alike.
      expect(PAD_BUCKETS as readonly number[], `a delivery of ${d.length} bytes`).toContain(d.length);
      envelopes.push(Buffer.from(unwrapDelivery(d).envelope));
    }
    // `deliver` names no sender; `auth` carries no identity bundle (a bundle alone is 4,225 bytes).
    if (j.t === 'deliver') expect(Object.keys(j).sort()).toEqual(['data', 't']);
    if (j.t === 'auth') {
      expect(Object.keys(j).sort()).toEqual(['key', 'mailbox', 'sig', 't']);
      expect(m.length).toBeLessThan(300);
    }
  }
  expect(envelopes.length).toBeGreaterThan(5);
  // Measured, printed (docs/relay-protocol.md quotes it): the signalling bytes of this call as both
  // clients sent them, the envelopes alone (what protocol v1 sent) against the padded deliveries.
  let rawBytes = 0;
  let paddedBytes = 0;
  let sends = 0;
  for (const m of ws.toServer) {
    const j = JSON.parse(m) as { t: string; data?: string };
    if (j.t !== 'send' || !j.data) continue;
    const d = Buffer.from(j.data, 'base64');
    sends++;
    paddedBytes += d.length;
    rawBytes += unwrapDelivery(d).envelope.length;
  }
  console.log(`signalling per call: ${sends} deliveries, ${rawBytes} B of envelopes before padding, ${paddedBytes} B padded (×${(paddedBytes / rawBytes).toFixed(2)})`);
  // Neither address, nor its tag (what a v1 relay routed by), nor a sender's mailbox where the relay can read it.
  const url = canonicalForm(relay.signalUrl);
  const tags = [mailboxIdOf(a.address), mailboxIdOf(b.address)];
  const mailboxOf = { a: relayMailboxId(tags[0]!, url), b: relayMailboxId(tags[1]!, url) };
  const identifying = [a.address, b.address, ...tags];
  for (const text of all) for (const f of identifying) expect(text.includes(f), `"${f}" in a signalling message`).toBe(false);
  for (const d of deliveries) {
    for (const f of [...tags, mailboxOf.a, mailboxOf.b]) expect(contains(d, Buffer.from(f, 'hex')), `${f} inside a delivery`).toBe(false);
  }
  for (const m of ws.toServer) {
    const j = JSON.parse(m) as { t: string; to?: string };
    if (j.t === 'send') expect([mailboxOf.a, mailboxOf.b]).toContain(j.to); // sent to the peer's mailbox, naming no sender
  }
  const forbidden = ['v=0', 'a=ice-ufrag', 'a=fingerprint', 'candidate:', 'typ relay', 'typ host', 'm=audio', a.address, b.address, sas];
  for (const text of all) for (const f of forbidden) expect(text.includes(f), `"${f}" in a signalling message`).toBe(false);
  for (const env of envelopes) {
    expect([0x01, 0x02, 0x03, 0x04, 0x10]).toContain(env[1]); // HELLO, RESPONSE, CONFIRM, REVEAL (protocol v2), SEALED
    for (const f of forbidden) expect(contains(env, Buffer.from(f)), `"${f}" inside an envelope`).toBe(false);
  }
  // The audio frames never travel through signalling either.
  for (const f of frames) for (const env of envelopes) expect(contains(env, f)).toBe(false);
});
