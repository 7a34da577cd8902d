/**
 * The message unions between the extension's contexts, one per boundary.
 *
 * Every message carries a `target` so each context drops what is not its own
 * (runtime.sendMessage reaches every extension page at once), and a `kind`
 * that one `switch` per receiver handles exhaustively (style.md §6).
 *
 *   popup/options ──UiRequest──▶ background ──OffscreenRequest──▶ offscreen
 *   popup/options ◀──AppView (port "view")── background ◀──OffscreenEvent── offscreen
 *
 * Byte fields (frame secrets) travel as number arrays: extension messaging
 * is JSON, and arrays can be wiped after use, unlike strings.
 */
import type { CallStats, MediaEvent, OfferOptions, Role } from '../media/types';
import type { AppView, CallView, Settings } from './view';

/** What a context can do for a call (lib/media/capabilities.ts fills it). */
export interface MediaCapabilities {
  peerConnection: boolean;
  scriptTransform: boolean;
  encodedStreams: boolean;
  getUserMedia: boolean;
}

// ─── UI (popup, options) → background ─────────────────────────────────────────

export type UiRequest =
  | { target: 'background'; kind: 'status' }
  | { target: 'background'; kind: 'get-view' }
  | { target: 'background'; kind: 'page-consent'; token: string }
  | { target: 'background'; kind: 'page-consent-answer'; token: string; answer: 'once' | 'always' | 'deny' }
  | { target: 'background'; kind: 'dial'; address: string }
  /** Issue 17: the person is about to dial (types an address, points at a Call button): make the media host ready. */
  | { target: 'background'; kind: 'about-to-dial' }
  | { target: 'background'; kind: 'accept' }
  | { target: 'background'; kind: 'hangup' }
  | { target: 'background'; kind: 'mute'; muted: boolean }
  | { target: 'background'; kind: 'dismiss-call' }
  | { target: 'background'; kind: 'add-contact'; address: string; name: string }
  | { target: 'background'; kind: 'rename-contact'; address: string; name: string }
  | { target: 'background'; kind: 'delete-contact'; address: string }
  /** Only during a connected call with that address; `name` names a peer who is not a contact yet. */
  | { target: 'background'; kind: 'verify-contact'; address: string; name?: string }
  | { target: 'background'; kind: 'update-settings'; settings: Partial<Settings> }
  | { target: 'background'; kind: 'reconnect-relay' }
  | { target: 'background'; kind: 'call-stats' }
  // Issue 7: everyday features (options page, contacts, identity backup).
  | { target: 'background'; kind: 'change-contact-address'; address: string; newAddress: string }
  | { target: 'background'; kind: 'clear-history' }
  | { target: 'background'; kind: 'test-relay'; url: string }
  | { target: 'background'; kind: 'export-identity'; passphrase: string }
  /** With `passphrase`, the file is also opened (and the seed wiped) so a wrong passphrase is said before "Replace?". */
  | { target: 'background'; kind: 'inspect-identity-file'; text: string; passphrase?: string }
  | { target: 'background'; kind: 'import-identity'; text: string; passphrase: string }
  // Issue 14: who may ring. Blocking the caller of the call ringing now also declines it.
  | { target: 'background'; kind: 'block-address'; address: string }
  | { target: 'background'; kind: 'unblock-address'; address: string }
  // Issue 12: the person's answer on Hush's permission or welcome page (lib/ui/mic-permission.ts).
  | MicPermissionReport
  /** Issue 12: switch the current call's microphone or speaker ('' = the system default). */
  | { target: 'background'; kind: 'set-call-device'; device: 'input' | 'output'; deviceId: string };

/**
 * The microphone permission page's answer. 'dismissed': the prompt was closed
 * without a choice (the state is still 'prompt', Chrome will ask again);
 * 'denied': blocked, only the browser's settings lift it.
 */
export type MicPermissionReport = { target: 'background'; kind: 'mic-permission'; state: 'granted' | 'denied' | 'dismissed' };

/** Answer to `test-relay`. */
export interface RelayTestResult {
  url: string;
  reachable: boolean;
  latencyMs?: number;
}

/** Answer to `export-identity`: the file to save. */
export interface ExportedIdentity {
  fileName: string;
  text: string;
}

/** Every UI request answers with this. */
export type UiResponse<T = unknown> = { ok: true; value: T } | { ok: false; code: string; message: string };

/** Kept for the smoke test and diagnostics: the background and media host answer. */
export interface StatusResponse {
  ok: true;
  version: string;
  offscreen: OffscreenPong | { error: string };
}

export const VIEW_PORT = 'view';
/** What the background pushes on the "view" port. */
export type ViewPush = { kind: 'view'; view: AppView };

// ─── content script (in-page bar, Hush links, page API) ⇄ background ─────────
//
// One long-lived port named "page" per tab. The content script runs next to an
// untrusted page, so it gets a narrow view (PageView) and a narrow set of
// requests: never the address book, the identity or any key. The background
// takes the requesting origin from the port's sender, never from a message.

export const PAGE_PORT = 'page';

/** The call as the in-page bar shows it. */
export interface PageCallView {
  callId: string;
  direction: 'outgoing' | 'incoming';
  state: CallView['state'];
  /** The contact's name, else the address. */
  peer: string;
  peerIsContact: boolean;
  peerVerified: boolean;
  peerKeyChanged: boolean;
  path: CallView['path'];
  /** Issue 17: good / weak / bad, once measured. */
  quality?: CallView['quality'];
  muted: boolean;
  connectedAt?: number;
  endedAt?: number;
  endReason?: CallView['endReason'];
  endMessage?: string;
}

export interface PageView {
  call: PageCallView | null;
  /** Show the in-page bar for this tab's own calls (Settings.pageIndicator). */
  indicator: boolean;
}

export type PageRequest =
  | { kind: 'dial'; reqId: number; address: string; via: 'link' | 'page' }
  | { kind: 'hangup' }
  | { kind: 'mute'; muted: boolean }
  | { kind: 'dismiss' };

export type PageEvent =
  | { kind: 'page-view'; view: PageView }
  | { kind: 'dial-result'; reqId: number; ok: true; callId: string }
  | { kind: 'dial-result'; reqId: number; ok: false; message: string };

// ─── background → offscreen (Chrome's media host) ─────────────────────────────

export interface WireStartOptions {
  callId: string;
  role: Role;
  iceServers: RTCIceServer[];
  relayOnly: boolean;
  sendFrameSecret: number[];
  recvFrameSecret: number[];
  inputDeviceId?: string;
  outputDeviceId?: string;
  corruptRecvKey?: boolean;
  testTapFrames?: number;
  testOpusShape?: string;
  /** Issue 17: prepared before Accept, microphone later (MediaStartOptions.deferMicrophone). */
  deferMicrophone?: boolean;
}

/** Issue 17: the caller's media host started at dial, keys later (MediaPrestartOptions). */
export type WirePrestartOptions = Omit<WireStartOptions, 'sendFrameSecret' | 'recvFrameSecret' | 'deferMicrophone'>;

export type OffscreenRequest =
  | { target: 'offscreen'; kind: 'ping'; nonce: string }
  | { target: 'offscreen'; kind: 'media-start'; opts: WireStartOptions }
  | { target: 'offscreen'; kind: 'media-offer'; callId: string; opts: OfferOptions }
  | { target: 'offscreen'; kind: 'media-accept-offer'; callId: string; sdp: string; fresh?: boolean }
  | { target: 'offscreen'; kind: 'media-set-answer'; callId: string; sdp: string }
  | { target: 'offscreen'; kind: 'media-candidate'; callId: string; candidate: RTCIceCandidateInit | null }
  | { target: 'offscreen'; kind: 'media-mute'; callId: string; muted: boolean }
  | { target: 'offscreen'; kind: 'media-stats'; callId: string }
  | { target: 'offscreen'; kind: 'media-stop'; callId: string }
  /** Issue 12: switch devices mid-call (CallMedia.setInputDevice/setOutputDevice); '' = the system default. */
  | { target: 'offscreen'; kind: 'media-set-input'; callId: string; deviceId: string }
  | { target: 'offscreen'; kind: 'media-set-output'; callId: string; deviceId: string }
  /**
   * A call-progress tone, played where nothing depends on a page being open: the incoming-call
   * ringtone (the default) or the caller's ringback (lib/ui/ringtone.ts). `on: false` stops either.
   */
  | { target: 'offscreen'; kind: 'ring'; on: boolean; tone?: 'ringtone' | 'ringback' }
  /** The microphone permission as the media host sees it (Permissions API): may a call start without asking? */
  | { target: 'offscreen'; kind: 'mic-state' }
  /** Firefox's call window: open the microphone now (its prompt shows there) and keep it for the call's media-start. */
  | { target: 'offscreen'; kind: 'mic-acquire'; inputDeviceId?: string }
  /** Release a microphone opened by mic-acquire that no call took (the call ended during the wait). */
  | { target: 'offscreen'; kind: 'mic-release' }
  /** Issue 17: a call prepared before Accept (deferMicrophone) opens its microphone now (CallMedia.useMicrophone). */
  | { target: 'offscreen'; kind: 'media-use-mic'; callId: string }
  /**
   * Issue 17, long calls: the signalling client renewed its TURN credentials; the call's next
   * allocation (a standby, an ICE restart, a fresh connection) uses these (CallMedia.setIceServers).
   */
  | { target: 'offscreen'; kind: 'media-ice-servers'; callId: string; iceServers: RTCIceServer[] }
  /** Issue 17, the caller: start the call's media at dial, without keys and microphone (CallMedia.prestart). */
  | { target: 'offscreen'; kind: 'media-prestart'; opts: WirePrestartOptions }
  /** Issue 17, the caller: the handshake's frame secrets for a call started at dial (CallMedia.importKeys); wiped after. */
  | { target: 'offscreen'; kind: 'media-keys'; callId: string; sendFrameSecret: number[]; recvFrameSecret: number[] };

export type OffscreenResponse<T = unknown> = { ok: true; value: T } | { ok: false; code: string; message: string };

export interface OffscreenPong {
  kind: 'pong';
  nonce: string;
  capabilities: MediaCapabilities;
}

/** offscreen → background: events of the running call. */
export type OffscreenEvent = { target: 'background'; kind: 'media-event'; callId: string; event: MediaEvent };

export type StatsResponse = CallStats | null;

// ─── helpers ──────────────────────────────────────────────────────────────────

/** Narrow an unknown runtime message to one addressed to `target`. */
export function isFor<T extends { target: string }>(msg: unknown, target: T['target']): msg is T {
  return (
    typeof msg === 'object' &&
    msg !== null &&
    (msg as { target?: unknown }).target === target &&
    typeof (msg as { kind?: unknown }).kind === 'string'
  );
}

/** The exhaustiveness check at the end of every message `switch`. */
export function unreachable(x: never): never {
  throw new Error(`unhandled message kind: ${JSON.stringify(x)}`);
}
