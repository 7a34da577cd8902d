/**
 * Issue 17, long calls: renewed TURN credentials reach the call's media host (CallSession.turnRenewed
 * → MediaPort.setIceServers), so its next allocation (a standby path, an ICE restart on either
 * side, a fresh connection) is made with a username the relay still accepts. Only a call whose
 * media was started gets them (a renewal never starts or creates a media host), and an ended
 * call gets nothing.
 *
 * Two CallManagers through an in-memory relay (as in session-microphone.test.ts).
 */
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { addressFromBundle, mailboxIdOfBundle } from '../crypto/address';
import { identityFromSeed, type Identity } from '../crypto/identity';
import type { MediaPort } from '../media/port';
import { CallManager } from './manager';
import type { CallSession, MicAnswer } from './session';

class Media implements MediaPort {
  readonly log: string[] = [];
  readonly pushed: Array<{ callId: string; iceServers: RTCIceServer[] }> = [];
  async start() {
    this.log.push('start');
  }
  async createOffer() {
    return 'v=0 offer';
  }
  async acceptOffer() {
    return 'v=0 answer';
  }
  async setAnswer() {}
  async addCandidate() {}
  async setMuted() {}
  async stop() {}
  async setIceServers(callId: string, iceServers: RTCIceServer[]) {
    this.pushed.push({ callId, iceServers });
  }
}

interface Peer {
  address: string;
  manager: CallManager;
  media: Media;
  /** What the signalling client holds now (app.ts iceConfig reads it). */
  servers: RTCIceServer[];
  /** The microphone answer; undefined: the prompt stays open. */
  mic?: MicAnswer;
}

let ids: Identity[];
beforeAll(() => {
  ids = [1, 2].map((n) => identityFromSeed(new Uint8Array(32).fill(n)));
});
afterEach(() => vi.useRealTimers());

const turn = (username: string): RTCIceServer[] => [{ urls: ['turn:127.0.0.1:3478'], username, credential: 'c' }];

function setup(): [Peer, Peer] {
  vi.useFakeTimers({ shouldAdvanceTime: true });
  const boxes = new Map<string, Peer>();
  const peers = ids.map((id, i) => {
    const mailbox = mailboxIdOfBundle(id.bundleBytes);
    const p = { address: addressFromBundle(id.bundleBytes), media: new Media(), servers: turn(`100:first-${i}`), mic: 'granted' } as Omit<Peer, 'manager'> as Peer;
    p.manager = new CallManager({
      identity: id,
      send: async (to, env) => {
        const peer = boxes.get(to);
        if (!peer) return 'unreachable';
        setTimeout(() => peer.manager.onDeliver(mailbox, env), 0);
        return 'sent';
      },
      media: p.media,
      iceConfig: () => ({ iceServers: p.servers, relayOnly: false }),
      microphone: (_s: CallSession, asking: () => void) => (p.mic ? Promise.resolve(p.mic) : (asking(), new Promise<MicAnswer>(() => {}))),
      onChange: () => {},
      onEnded: () => {},
    });
    boxes.set(mailbox, p);
    return p;
  });
  return [peers[0]!, peers[1]!];
}

async function flush(times = 30) {
  for (let i = 0; i < times; i++) await new Promise((r) => setTimeout(r, 1));
}

describe('renewed TURN credentials during a call', () => {
  test('both sides of a connected call hand the newest servers to their media host', async () => {
    const [a, b] = setup();
    a.manager.dial(b.address);
    await flush();
    b.manager.accept();
    await flush();
    const callId = a.manager.current!.callId;
    for (const p of [a, b]) p.manager.onMediaEvent(callId, { type: 'state', connection: 'connected', ice: 'connected', path: 'p2p' });
    await flush();
    expect([a.manager.current!.state, b.manager.current!.state]).toEqual(['connected', 'connected']);
    expect(a.media.pushed).toEqual([]);

    a.servers = turn('160:renewed-a');
    b.servers = turn('161:renewed-b');
    a.manager.current!.turnRenewed();
    b.manager.current!.turnRenewed();
    await flush();
    expect(a.media.pushed).toEqual([{ callId, iceServers: turn('160:renewed-a') }]);
    expect(b.media.pushed).toEqual([{ callId, iceServers: turn('161:renewed-b') }]);

    a.manager.hangup();
    await flush();
    expect(a.manager.current!.state).toBe('ended');
    a.manager.current!.turnRenewed();
    await flush();
    expect(a.media.pushed.length).toBe(1); // an ended call's media host gets nothing
  }, 30_000); // two hybrid handshakes' worth of signatures: seconds on a loaded machine

  test('a call whose media has not started (the caller still at the microphone prompt) pushes nothing', async () => {
    const [a, b] = setup();
    a.mic = undefined;
    a.manager.dial(b.address);
    await flush();
    expect(a.manager.current!.state).toBe('dial-waiting-mic');
    a.servers = turn('160:renewed-a');
    a.manager.current!.turnRenewed();
    await flush();
    expect(a.media.log).not.toContain('start');
    expect(a.media.pushed).toEqual([]);
  }, 30_000);
});
