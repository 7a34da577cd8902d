/**
 * The standby path: a second RTCPeerConnection of the call, relay candidates
 * only (iceTransportPolicy 'relay'), connected beside a P2P call and kept
 * ready without media, so a dead direct path is replaced by a switch
 * (path-switch.ts), not by building one.
 *
 * - Its transceiver is made with addTrack (JSEP §5.10: only an addTrack
 *   transceiver is matched to the m= section of the peer's offer; an
 *   addTransceiver one would be left aside and a new one, without our
 *   transforms, made instead), then the track is taken off at once
 *   (replaceTrack(null)): the sender sends no RTP until CallMedia puts the
 *   microphone back on it, and takes it off when the call returns to the
 *   direct path.
 * - Both frame transforms of the call's one frame worker are attached at once
 *   (lab-notes TRAP: before negotiation), so its frames use the same keys,
 *   the same send counter and the same replay window as the main connection:
 *   the AES-GCM transform never resets, no nonce is reused.
 * - Negotiated over the main connection's data channel (standby-wire.ts), the
 *   caller offering. Both sides gather relay candidates only, so the standby
 *   pair goes through the TURN relay(s) and shares nothing with the direct path.
 *
 * What it costs while idle (docs/media.md): one TURN allocation per side
 * (UDP only: standbyIceServers; refreshed by the browser), ICE consent checks on its selected pair, and
 * RTCP; the lab measures the bytes per minute.
 *
 * TURN credentials: it is built with the newest the media host was given
 * (CallMedia.setIceServers: the background pushes each renewal of the
 * signalling client's, lib/signal/client.ts onTurn). Their expiry (the relay's
 * --credential-ttl, 1 h by default) does not end it: the relay refuses an
 * expired username only for a new allocation and goes on serving the
 * refreshes, permissions and channels of the allocation it made
 * (relay-server/src/turn/core.ts enforceExpiry), so a standby lives as long
 * as its path and the signalling connection its credentials came from (plus
 * the relay's --credential-grace). A standby rebuilt after it failed gets the
 * credentials of that moment; before the renewals were pushed it got the
 * call's first ones, and past their expiry its Allocate was refused (401) on
 * every retry: tests/e2e/long-call.test.ts.
 */
import type { FrameWorkerClient } from './frame-worker-client';
import { encodeStandby, type StandbyMessage } from './standby-wire';

/**
 * The standby's servers: TURN over UDP only, when the list has it. A standby exists only beside a
 * P2P call, so UDP gets through; each TURN transport is an allocation on the relay (its per-user
 * quota is 10 by default), and a standby that gathered on UDP, TCP and TLS held three for nothing.
 * No STUN: relay candidates only.
 */
export function standbyIceServers(servers: RTCIceServer[] | undefined): RTCIceServer[] {
  const out: RTCIceServer[] = [];
  for (const s of servers ?? []) {
    const urls = (Array.isArray(s.urls) ? s.urls : [s.urls]).filter((u) => u.startsWith('turn:'));
    const udp = urls.filter((u) => !/[?&]transport=(tcp|tls)\b/i.test(u));
    if (udp.length) out.push({ ...s, urls: udp });
  }
  return out.length ? out : (servers ?? []);
}

export interface StandbyPorts {
  /** Send on the main connection's data channel (dropped if it is closed). */
  send(text: string): void;
  /** The peer's audio on this connection: play it beside the main one's. */
  onTrack(track: MediaStreamTrack): void;
  /** Its connection state changed. */
  onState(): void;
  /** Our descriptions with the call's Opus settings (opus-sdp.ts opusForVoice), as the main connection's: a switch keeps RED and FEC. */
  shapeSdp(sdp: string): string;
  /** The peer's descriptions as our encoder should read them (opus-sdp.ts peerOpusForUs: our usedtx). */
  shapePeerSdp(sdp: string): string;
}

export class StandbyPath {
  readonly pc: RTCPeerConnection;
  readonly transceiver: RTCRtpTransceiver;
  private readonly pending: (RTCIceCandidateInit | null)[] = [];
  private closed = false;
  private chain: Promise<unknown> = Promise.resolve();
  readonly createdAt = Date.now();

  constructor(
    config: RTCConfiguration,
    local: { track: MediaStreamTrack; stream: MediaStream },
    frames: FrameWorkerClient,
    generation: number,
    private readonly ports: StandbyPorts,
  ) {
    this.pc = new RTCPeerConnection({ ...config, iceServers: standbyIceServers(config.iceServers), iceTransportPolicy: 'relay' });
    try {
      const sender = this.pc.addTrack(local.track, local.stream);
      const transceiver = this.pc.getTransceivers().find((t) => t.sender === sender);
      if (!transceiver) throw new Error('no transceiver');
      this.transceiver = transceiver;
      frames.attach(this.transceiver, generation, { standby: true });
      // Off the air before any negotiation step runs (they run after this, on `chain`).
      this.chain = sender.replaceTrack(null).catch(() => {});
    } catch (e) {
      this.pc.close();
      throw e;
    }
    this.pc.onicecandidate = (ev) => {
      if (!this.closed) this.ports.send(encodeStandby({ t: 'cand', c: ev.candidate ? ev.candidate.toJSON() : null }));
    };
    this.pc.ontrack = (ev) => !this.closed && ev.track.kind === 'audio' && this.ports.onTrack(ev.track);
    this.pc.onconnectionstatechange = () => !this.closed && this.ports.onState();
  }

  get sender(): RTCRtpSender {
    return this.transceiver.sender;
  }

  /** Connected (ICE and DTLS): ready to carry audio at once. */
  get ready(): boolean {
    return !this.closed && this.pc.connectionState === 'connected';
  }

  get failed(): boolean {
    return this.closed || this.pc.connectionState === 'failed' || this.pc.connectionState === 'closed';
  }

  /** Caller: start the negotiation. */
  offer(): void {
    this.step(async () => {
      const offer = await this.pc.createOffer();
      await this.pc.setLocalDescription({ type: 'offer', sdp: this.ports.shapeSdp(offer.sdp ?? '') });
      this.ports.send(encodeStandby({ t: 'offer', sdp: this.pc.localDescription!.sdp }));
    });
  }

  /** A message from the peer's StandbyPath (already parsed). */
  handle(m: StandbyMessage): void {
    this.step(async () => {
      switch (m.t) {
        case 'offer':
          await this.pc.setRemoteDescription({ type: 'offer', sdp: this.ports.shapePeerSdp(m.sdp) });
          await this.flush();
          const answer = await this.pc.createAnswer();
          await this.pc.setLocalDescription({ type: 'answer', sdp: this.ports.shapeSdp(answer.sdp ?? '') });
          this.ports.send(encodeStandby({ t: 'answer', sdp: this.pc.localDescription!.sdp }));
          return;
        case 'answer':
          if (this.pc.signalingState !== 'have-local-offer') return;
          await this.pc.setRemoteDescription({ type: 'answer', sdp: this.ports.shapePeerSdp(m.sdp) });
          await this.flush();
          return;
        case 'cand':
          if (!this.pc.remoteDescription) this.pending.push(m.c);
          else await this.add(m.c);
          return;
      }
    });
  }

  private async flush(): Promise<void> {
    for (const c of this.pending.splice(0)) await this.add(c);
  }

  private async add(c: RTCIceCandidateInit | null): Promise<void> {
    // A candidate this agent cannot use (or end-of-candidates where unsupported) loses nothing: skip it.
    await (c && c.candidate ? this.pc.addIceCandidate(c) : this.pc.addIceCandidate()).catch(() => {});
  }

  /** One negotiation step at a time; a failing step fails the standby (the call goes on without it). */
  private step(fn: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.closed) return;
      try {
        await fn();
      } catch {
        this.close();
        this.ports.onState();
      }
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pc.close();
  }
}
