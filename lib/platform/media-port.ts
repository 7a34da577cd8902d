/**
 * The background's handle on the media engine (MediaPort / MediaHostPort, lib/media/port.ts).
 *
 * Chrome: media lives in the offscreen document; requests go there as
 * runtime messages and the document is created on demand and closed after
 * the call, which releases the microphone.
 * Firefox: no offscreen API, and its background page may not use the
 * microphone at all; the same MediaServer runs in a call window that the
 * background opens for the call and closes after it (call-window.ts,
 * docs/firefox.md). The messages are the same as Chrome's.
 */
import { browser } from 'wxt/browser';
import type { MediaHostPort, MediaPort } from '../media/port';
import type { CandidateInit } from '../call/control';
import type { MediaStartOptions } from '../media/types';
import type { OffscreenRequest, OffscreenResponse } from '../messaging/protocol';
import { closeOffscreen, ensureOffscreen, hasOffscreen, offscreenUses } from './offscreen';
import { startTone, type ToneName } from '../ui/ringtone';
import { closeCallWindow, ensureCallWindow, hasCallWindow } from './call-window';

type Requester = (req: OffscreenRequest) => Promise<OffscreenResponse>;

class MediaPortError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A media host's answer that must be ok, or the typed error it carries. */
function checked(r: OffscreenResponse | undefined): void {
  if (!r) throw new MediaPortError('ERR_WEBRTC', 'the media host did not answer');
  if (!r.ok) throw new MediaPortError(r.code, r.message);
}

/** What a stopped call releases: `mark()` when the stop begins, `release(mark)` once it is done. */
interface HostRelease {
  mark(): number;
  release(mark: number): Promise<void>;
}

function portOver(request: Requester, host?: HostRelease): MediaPort {
  const call = async <T>(req: OffscreenRequest): Promise<T> => {
    const r = await request(req);
    if (!r) throw new MediaPortError('ERR_WEBRTC', 'the media host did not answer');
    if (!r.ok) throw new MediaPortError(r.code, r.message);
    return r.value as T;
  };
  return {
    async start(o: MediaStartOptions) {
      const opts = {
        ...o,
        sendFrameSecret: Array.from(o.sendFrameSecret),
        recvFrameSecret: Array.from(o.recvFrameSecret),
      };
      try {
        await call({ target: 'offscreen', kind: 'media-start', opts });
      } finally {
        opts.sendFrameSecret.fill(0);
        opts.recvFrameSecret.fill(0);
      }
    },
    createOffer: (callId, opts = {}) => call({ target: 'offscreen', kind: 'media-offer', callId, opts }),
    acceptOffer: (callId, sdp, opts = {}) => call({ target: 'offscreen', kind: 'media-accept-offer', callId, sdp, fresh: opts.fresh }),
    setAnswer: (callId, sdp) => call({ target: 'offscreen', kind: 'media-set-answer', callId, sdp }),
    addCandidate: (callId, candidate: CandidateInit | null) =>
      call({ target: 'offscreen', kind: 'media-candidate', callId, candidate: candidate as RTCIceCandidateInit | null }),
    setMuted: (callId, muted) => call({ target: 'offscreen', kind: 'media-mute', callId, muted }),
    setIceServers: (callId, iceServers) => call({ target: 'offscreen', kind: 'media-ice-servers', callId, iceServers }),
    setDevice: (callId, device, deviceId) =>
      call({ target: 'offscreen', kind: device === 'input' ? 'media-set-input' : 'media-set-output', callId, deviceId }),
    async stop(callId) {
      const mark = host?.mark() ?? 0;
      await call({ target: 'offscreen', kind: 'media-stop', callId });
      await host?.release(mark);
    },
  };
}

/** The old name of MediaHostPort (lib/media/port.ts), kept while lib/background/app.ts imports it. */
export type HostPort = MediaHostPort;

/** Chrome: requests travel to the offscreen document. */
export function offscreenMediaPort(): HostPort {
  const request: Requester = async (req) => {
    // A clean-up's request (a stop, a tone off) or a stats read is no use of the document: it does not keep it open.
    // A credentials update is for a call that has media there already: it never opens the document.
    // (Not even in the moment between the check and the send: no ensureOffscreen for it at all.)
    if (req.kind === 'media-ice-servers') {
      if (!(await hasOffscreen())) return { ok: true, value: null };
    } else await ensureOffscreen(req.kind !== 'media-stop' && req.kind !== 'media-stats' && !(req.kind === 'ring' && !req.on));
    return (await browser.runtime.sendMessage(req)) as OffscreenResponse;
  };
  const port = portOver(request, { mark: offscreenUses, release: closeOffscreen });
  return {
    ...port,
    prewarm(hold) {
      void ensureOffscreen().catch(() => undefined);
      if (!hold) return;
      // Read now, right after this use: any later use (a dial, a ring, another warm-up) keeps it.
      const mark = offscreenUses();
      setTimeout(() => {
        if (hold.idle()) void closeOffscreen(mark);
      }, hold.ms);
    },
    async useMicrophone(callId: string) {
      checked(await request({ target: 'offscreen', kind: 'media-use-mic', callId }));
    },
    async prestart(opts) {
      checked(await request({ target: 'offscreen', kind: 'media-prestart', opts: { ...opts } }));
    },
    async setKeys(callId, send, recv) {
      const sendFrameSecret = Array.from(send);
      const recvFrameSecret = Array.from(recv);
      try {
        checked(await request({ target: 'offscreen', kind: 'media-keys', callId, sendFrameSecret, recvFrameSecret }));
      } finally {
        sendFrameSecret.fill(0);
        recvFrameSecret.fill(0);
      }
    },
    async stats(callId: string) {
      const r = await request({ target: 'offscreen', kind: 'media-stats', callId });
      return r.ok ? r.value : null;
    },
    async ring(on, release = false, tone = 'ringtone') {
      const mark = offscreenUses();
      if (!on && !(await hasOffscreen())) return;
      await request({ target: 'offscreen', kind: 'ring', on, tone }).catch(() => undefined);
      if (release) await closeOffscreen(mark);
    },
  };
}

/**
 * Firefox: requests travel to the call window, which `media-start` opens. A
 * request for a call whose window is gone fails like one to a closed
 * offscreen document, except `media-stop`, which has nothing left to stop.
 */
export function callWindowMediaPort(): HostPort {
  const request: Requester = async (req) => {
    if (req.kind === 'media-start') await ensureCallWindow();
    else if ((req.kind === 'media-stop' || req.kind === 'media-ice-servers') && !hasCallWindow()) return { ok: true, value: null };
    return (await browser.runtime.sendMessage(req)) as OffscreenResponse;
  };
  const port = portOver(request, { mark: () => 0, release: () => closeCallWindow() });
  return {
    ...port,
    async stats(callId: string) {
      if (!hasCallWindow()) return null;
      const r = await request({ target: 'offscreen', kind: 'media-stats', callId });
      return r?.ok ? r.value : null;
    },
    // The background page itself may play sound (no microphone involved): ring there.
    async ring(on, _release, tone = 'ringtone') {
      const next = on ? tone : null;
      if (next === playing) return;
      stopTone?.();
      stopTone = next ? startTone(next) : undefined;
      playing = next;
    },
  };
}

let stopTone: (() => void) | undefined;
let playing: ToneName | null = null;
