/**
 * AppView: everything the popup (and options page, and in-page call bar)
 * shows, as one snapshot the background pushes whenever something changes.
 * Plain JSON. It holds the user's own data for their own UI: never keys.
 */
import type { CallState, EndReason } from '../call/state';
import type { PathKind } from '../media/types';
import type { Quality } from '../ui/call-quality';

export interface Contact {
  address: string;
  name: string;
  verified: boolean;
  /** SHA-256 of the identity keys last seen in a call with this contact (hex). */
  keysSeen?: string;
  /** The keys changed since they were verified (or last seen): warn. */
  keyChanged?: boolean;
  addedAt: number;
  /**
   * Where this contact is rung: canonical relay URLs from the card it was added or dialled
   * with, or signed by the contact in the last call (issue 15). Absent: our own relay.
   */
  relays?: string[];
}

export interface Settings {
  /** Signalling URLs of the relays, tried in order (ws:// or wss://…/signal). */
  relays: string[];
  /** Relay only: hides our IP address from the peer. */
  privacyMode: boolean;
  ringtone: boolean;
  inputDeviceId?: string;
  outputDeviceId?: string;
  /** Origins the user allowed "always" to start calls through the page API (docs/page-api.md). */
  pageOrigins?: string[];
  /** The in-page call bar on the tab that started the call (default on; docs/page-api.md). */
  pageIndicator?: boolean;
  /** Only contacts may ring this device: a stranger's call is never answered (docs/protocol.md §5.5). */
  contactsOnly?: boolean;
}

export interface CallView {
  callId: string;
  direction: 'outgoing' | 'incoming';
  peerAddress?: string;
  peerName?: string;
  peerVerified: boolean;
  peerKeyChanged: boolean;
  state: CallState;
  endReason?: EndReason;
  /** A sentence for the ended state, in the UI language. */
  endMessage?: string;
  path: PathKind;
  muted: boolean;
  sas?: string;
  startedAt: number;
  connectedAt?: number;
  endedAt?: number;
  /**
   * Issue 18: the caller hears the ringback (their device rings: state `ringing`). The
   * background always sets it; optional only so hand-made views (tests, page bar) may omit it.
   */
  ringback?: boolean;
  /**
   * Issue 18, call waiting: the latest caller told "busy" while this call was live
   * (set by the background, shown by the call screen; absent when nobody tried).
   */
  waiting?: { address: string; name?: string; at: number };
  /** Issue 12: the microphone in use went away and none is left; the call goes on, muted. */
  micGone?: boolean;
  /** Issue 12: the devices chosen in the call's picker (absent: the options' choice or the default). */
  inputDeviceId?: string;
  outputDeviceId?: string;
  /** Issue 17: receive quality of the connected call (lib/ui/call-quality.ts); absent until the first reading. */
  quality?: Quality;
}

export interface HistoryEntry {
  direction: 'outgoing' | 'incoming';
  address: string;
  at: number;
  durationMs?: number;
  outcome: EndReason;
  /** An incoming call turned away because we were busy. */
  busy?: boolean;
  /** The peer's relays: signed in this call's handshake, else the ones dialled (issue 15). Absent: our own. */
  relays?: string[];
}

export interface RelayStatus {
  state: 'offline' | 'connecting' | 'online';
  url?: string;
  error?: string;
}

export interface AppView {
  /** Settings the organisation sets through enterprise policy (lib/background/managed-settings.ts): shown locked. */
  managed?: Array<'relays' | 'privacyMode'>;
  address: string;
  relay: RelayStatus;
  contacts: Contact[];
  call: CallView | null;
  history: HistoryEntry[];
  /** Missed calls not yet seen in the popup. */
  unseenMissed: number;
  settings: Settings;
  /** The identity was never exported (or imported): show the backup banner. */
  backupNeeded?: boolean;
  /** Blocked callers' addresses (the options page's unblock list). Never in the content script's PageView. */
  blocked?: string[];
}
