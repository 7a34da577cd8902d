/**
 * What this context can do for a call: the WebRTC and encoded-transform APIs
 * the frame worker needs. Read once, reported to the background and the tests.
 */
import type { MediaCapabilities } from '../messaging/protocol';

export function mediaCapabilities(): MediaCapabilities {
  const g = globalThis as Record<string, unknown>;
  const sender = g.RTCRtpSender as { prototype?: object } | undefined;
  return {
    peerConnection: typeof g.RTCPeerConnection === 'function',
    scriptTransform: typeof g.RTCRtpScriptTransform === 'function',
    encodedStreams: !!sender?.prototype && 'createEncodedStreams' in sender.prototype,
    getUserMedia: typeof navigator !== 'undefined' && !!navigator.mediaDevices?.getUserMedia,
  };
}
