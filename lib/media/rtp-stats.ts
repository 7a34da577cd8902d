/**
 * The audio RTP counters of a call, read from a getStats() report (W3C
 * webrtc-stats: RTCInboundRtpStreamStats, RTCOutboundRtpStreamStats). Pure,
 * unit-tested on recorded reports like path.ts.
 *
 * audioLevel is the level of the audio *played out* (0..1, linear), measured
 * after decoding: with frames dropped by the decryptor it falls to 0, which is
 * how the tests hear that a wrong key gives silence.
 *
 * The receive-quality counters (issue 17, the quality indicator in
 * lib/ui/call-quality.ts) are cumulative, as the browser keeps them:
 * packetsLost (RFC 3550 §6.4.1 cumulative loss, may go negative with
 * duplicates), concealedSamples / silentConcealedSamples /
 * totalSamplesReceived (samples the decoder invented / of them silent / all
 * played), jitter (RFC 3550 interarrival jitter, seconds, current), and
 * remote-inbound-rtp roundTripTime (from our RTCP sender reports the peer
 * answered, seconds, current). The classifier works on their differences
 * between two samples.
 *
 * Audio energy (webrtc-stats totalAudioEnergy / totalSamplesDuration, cumulative):
 * of the microphone we send (media-source) and of the audio played
 * (inbound-rtp). Between two samples, sqrt(Δenergy / Δseconds) is the RMS level
 * (0..1) over that interval: how the DTX measurement tells speech from pauses
 * at the sender and reads the envelope the receiver heard.
 */
import { statsById, type StatsReportLike } from './path';

export interface RtpAudioStats {
  bytesSent: number;
  /** Audio packets sent (outbound-rtp): with bytesSent, the size of what leaves (RED about doubles it). */
  packetsSent: number;
  bytesReceived: number;
  packetsReceived: number;
  audioLevel: number;
  packetsLost: number;
  /** Interarrival jitter of the received audio, ms (current value). */
  jitterMs: number;
  concealedSamples: number;
  silentConcealedSamples: number;
  totalSamplesReceived: number;
  /** RTCP round trip (remote-inbound-rtp), ms; absent before the first RTCP report came back. */
  rtcpRoundTripMs?: number;
  /**
   * The codec we send with, as negotiated: "mimeType fmtp" of outbound-rtp's codec (the fmtp is the
   * peer's, from its description: where opus-sdp.ts's settings show up). No address, no key.
   */
  sendCodec?: string;
  /** Microphone (media-source) totalAudioEnergy and totalSamplesDuration (s), when the report has them. */
  sourceEnergy?: number;
  sourceSeconds?: number;
  /** Played audio (inbound-rtp) totalAudioEnergy and totalSamplesDuration (s), when the report has them. */
  playedEnergy?: number;
  playedSeconds?: number;
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

export function rtpAudioStats(report: StatsReportLike): RtpAudioStats {
  const out: RtpAudioStats = {
    bytesSent: 0,
    packetsSent: 0,
    bytesReceived: 0,
    packetsReceived: 0,
    audioLevel: 0,
    packetsLost: 0,
    jitterMs: 0,
    concealedSamples: 0,
    silentConcealedSamples: 0,
    totalSamplesReceived: 0,
  };
  const stats = statsById(report);
  for (const s of stats.values()) {
    // `kind` is the current name; `mediaType` the one older reports used.
    const audio = s.kind === 'audio' || s.mediaType === 'audio';
    if (!audio) continue;
    if (s.type === 'outbound-rtp') {
      out.bytesSent += num(s.bytesSent);
      out.packetsSent += num(s.packetsSent);
      const codec = typeof s.codecId === 'string' ? stats.get(s.codecId) : undefined;
      if (codec && typeof codec.mimeType === 'string') out.sendCodec = `${codec.mimeType} ${typeof codec.sdpFmtpLine === 'string' ? codec.sdpFmtpLine : ''}`.trim();
    } else if (s.type === 'inbound-rtp') {
      out.bytesReceived += num(s.bytesReceived);
      out.packetsReceived += num(s.packetsReceived);
      out.audioLevel = Math.max(out.audioLevel, num(s.audioLevel));
      out.packetsLost += num(s.packetsLost);
      out.jitterMs = Math.max(out.jitterMs, num(s.jitter) * 1000);
      out.concealedSamples += num(s.concealedSamples);
      out.silentConcealedSamples += num(s.silentConcealedSamples);
      out.totalSamplesReceived += num(s.totalSamplesReceived);
      if (typeof s.totalAudioEnergy === 'number') {
        out.playedEnergy = (out.playedEnergy ?? 0) + num(s.totalAudioEnergy);
        out.playedSeconds = (out.playedSeconds ?? 0) + num(s.totalSamplesDuration);
      }
    } else if (s.type === 'media-source' && typeof s.totalAudioEnergy === 'number') {
      out.sourceEnergy = (out.sourceEnergy ?? 0) + num(s.totalAudioEnergy);
      out.sourceSeconds = (out.sourceSeconds ?? 0) + num(s.totalSamplesDuration);
    } else if (s.type === 'remote-inbound-rtp' && typeof s.roundTripTime === 'number' && Number.isFinite(s.roundTripTime)) {
      out.rtcpRoundTripMs = Math.max(out.rtcpRoundTripMs ?? 0, s.roundTripTime * 1000);
    }
  }
  return out;
}
