/**
 * The audio RTP counters of a call, read from a getStats() report (W3C
 * webrtc-stats: RTCInboundRtpStreamStats, RTCOutboundRtpStreamStats). Pure,
 * unit-tested on recorded reports like path.ts.
 *
 * audioLevel is the level of the audio *played out* (0..1, linear), measured
 * after decoding: with frames dropped by the decryptor it falls to 0, which is
 * how the tests hear that a wrong key gives silence.
 */
import { statsById, type StatsReportLike } from './path';

export interface RtpAudioStats {
  bytesSent: number;
  bytesReceived: number;
  packetsReceived: number;
  audioLevel: number;
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

export function rtpAudioStats(report: StatsReportLike): RtpAudioStats {
  const out: RtpAudioStats = { bytesSent: 0, bytesReceived: 0, packetsReceived: 0, audioLevel: 0 };
  for (const s of statsById(report).values()) {
    // `kind` is the current name; `mediaType` the one older reports used.
    const audio = s.kind === 'audio' || s.mediaType === 'audio';
    if (!audio) continue;
    if (s.type === 'outbound-rtp') {
      out.bytesSent += num(s.bytesSent);
    } else if (s.type === 'inbound-rtp') {
      out.bytesReceived += num(s.bytesReceived);
      out.packetsReceived += num(s.packetsReceived);
      out.audioLevel = Math.max(out.audioLevel, num(s.audioLevel));
    }
  }
  return out;
}
