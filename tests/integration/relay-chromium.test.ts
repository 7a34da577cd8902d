/**
 * Chromium's own TURN client against the real relay: two pages in one
 * headless Chromium, iceTransportPolicy 'relay', fake microphone, SDP passed
 * by the test. The call must connect on a candidate pair whose local side is
 * a relay candidate of the expected protocol (udp, then tcp with only a
 * `?transport=tcp` URL), and audio packets must keep arriving.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { BASE_FLAGS, chromiumPath } from '../harness/chromium';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { issueTurnCredential } from '../../relay-server/src/turn/credentials';
import { sleep, waitFor } from '../harness/wait';

const SECRET = 'chromium-test-secret';
let relay: RelayProcess;
let browser: Browser;
let profile: string;
let server: http.Server;
let origin: string;

beforeAll(async () => {
  relay = await startRelayProcess(['--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8']);
  // getUserMedia needs a secure context: http://127.0.0.1 is one.
  server = http.createServer((_q, r) => r.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>relay test</title>'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  profile = await mkdtemp(join(tmpdir(), 'hush-relay-chromium-'));
  browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    userDataDir: profile,
    args: [...BASE_FLAGS, '--allow-loopback-in-peer-connection'],
  });
  // The test page's microphone, granted as the browser records a person's Allow (CDP Browser.grantPermissions), not by a flag.
  await browser.defaultBrowserContext().overridePermissions(origin.slice(0, -1), ['microphone']);
});

afterAll(async () => {
  await browser?.close().catch(() => browser.process()?.kill('SIGKILL'));
  if (profile) await rm(profile, { recursive: true, force: true });
  server?.close();
  await relay?.stop();
});

interface Selected {
  state: string;
  localType: string;
  relayProtocol: string;
  remoteType: string;
}

async function setup(page: Page, url: string): Promise<void> {
  const cred = issueTurnCredential(SECRET, 600, Date.now());
  await page.goto(origin);
  await page.evaluate(
    async (url, username, credential) => {
      const w = window as unknown as { pc: RTCPeerConnection };
      w.pc = new RTCPeerConnection({ iceServers: [{ urls: url, username, credential }], iceTransportPolicy: 'relay' });
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      for (const t of stream.getTracks()) w.pc.addTrack(t, stream);
    },
    url,
    cred.username,
    cred.credential,
  );
}

/** Set the local description and wait for ICE gathering to finish; return the full SDP. */
async function describeLocal(page: Page, kind: 'offer' | 'answer'): Promise<string> {
  return page.evaluate(async (kind) => {
    const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
    const d = kind === 'offer' ? await pc.createOffer() : await pc.createAnswer();
    await pc.setLocalDescription(d);
    await new Promise<void>((r) => {
      if (pc.iceGatheringState === 'complete') return r();
      pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r());
      setTimeout(r, 10_000);
    });
    return pc.localDescription!.sdp;
  }, kind);
}

async function selected(page: Page): Promise<Selected | null> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
    const stats = await pc.getStats();
    let pairId: string | undefined;
    stats.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    });
    if (!pairId) return null;
    const pair = stats.get(pairId);
    const local = stats.get(pair.localCandidateId);
    const remote = stats.get(pair.remoteCandidateId);
    return { state: pair.state, localType: local.candidateType, relayProtocol: local.relayProtocol, remoteType: remote.candidateType };
  });
}

async function inbound(page: Page): Promise<{ packets: number; bytes: number }> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
    let packets = 0;
    let bytes = 0;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        packets += s.packetsReceived;
        bytes += s.bytesReceived;
      }
    });
    return { packets, bytes };
  });
}

async function call(url: string, protocol: 'udp' | 'tcp'): Promise<void> {
  const a = await browser.newPage();
  const b = await browser.newPage();
  try {
    await setup(a, url);
    await setup(b, url);
    const offer = await describeLocal(a, 'offer');
    expect(offer).toMatch(/ typ relay /);
    await b.evaluate((sdp) => (window as unknown as { pc: RTCPeerConnection }).pc.setRemoteDescription({ type: 'offer', sdp }), offer);
    const answer = await describeLocal(b, 'answer');
    await a.evaluate((sdp) => (window as unknown as { pc: RTCPeerConnection }).pc.setRemoteDescription({ type: 'answer', sdp }), answer);
    for (const p of [a, b]) {
      await p.waitForFunction(() => (window as unknown as { pc: RTCPeerConnection }).pc.connectionState === 'connected', { timeout: 20_000, polling: 100 });
    }
    for (const p of [a, b]) {
      // A selected pair shows 'in-progress' while a consent check is out: poll for 'succeeded'.
      const sel = await waitFor(
        async () => {
          const s = await selected(p);
          return s?.state === 'succeeded' && s;
        },
        { timeout: 5_000, interval: 100, what: "the selected candidate pair's state to be 'succeeded'" },
      );
      expect(sel).toMatchObject({ state: 'succeeded', localType: 'relay', relayProtocol: protocol, remoteType: 'relay' });
    }
    const before = await inbound(b);
    await sleep(1500); // intent: the window over which packets are counted
    const after = await inbound(b);
    expect(after.packets - before.packets).toBeGreaterThan(30); // 50 packets/s of Opus
    expect(after.bytes).toBeGreaterThan(before.bytes);
    const back = await inbound(a);
    expect(back.packets).toBeGreaterThan(0);
  } finally {
    await a.close();
    await b.close();
  }
}

describe('Chromium through hush-relay, relay-only', () => {
  test('over UDP', async () => {
    await call(`turn:127.0.0.1:${relay.turnPort}?transport=udp`, 'udp');
  });

  test('over TCP', async () => {
    await call(`turn:127.0.0.1:${relay.turnPort}?transport=tcp`, 'tcp');
  });
});
