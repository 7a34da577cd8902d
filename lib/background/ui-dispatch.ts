/**
 * The background's answers to the extension pages' requests (UiRequest,
 * lib/messaging/protocol.ts): one `switch` over the union, each case a line or
 * two over the stores and the call controls; `failure` turns a typed error
 * into the response the page shows (a stable code and a sentence).
 */
import type { PageBridge } from '../page-api/bridge';
import { browser } from 'wxt/browser';
import * as book from '../contacts/book';
import { CallError, type CallManager } from '../call/manager';
import { CallState } from '../call/state';
import { parseAddress } from '../crypto/address';
import { isCryptoError } from '../crypto/errors';
import { IdentityFileError, exportIdentityFile, identityFileName, openIdentityFile, readIdentityFile } from '../crypto/identity-file';
import { t } from '../i18n/messages';
import { unreachable, type ExportedIdentity, type UiRequest, type UiResponse } from '../messaging/protocol';
import type { AppView, Contact, Settings } from '../messaging/view';
import type { AdmissionStore } from './admission-store';
import type { CallControls } from './call-controls';
import type { ContactsStore } from './contacts-store';
import type { HistoryStore } from './history-store';
import { readSeed } from './identity-store';
import { ManagedSettingError } from './managed-settings';
import { pingMediaHost } from './media-host-status';
import { testRelay } from './relay-test';

/** What the dispatch needs from the background (app.ts). */
export interface UiHost {
  readonly controls: CallControls;
  readonly contacts: ContactsStore;
  readonly history: HistoryStore;
  readonly admission: AdmissionStore;
  calls(): CallManager;
  /** This device's address. */
  address(): string;
  /** Which ML-DSA-87 the identity signs with (lib/crypto/native-mldsa.ts): the browser's, or noble's. */
  signer(): Promise<'webcrypto' | 'noble'>;
  view(): AppView;
  /** Something the view shows changed: push it. */
  changed(): void;
  dial(address: string): Promise<{ callId: string }>;
  /** The person is about to dial: the media host starts now, and closes again if no call follows. */
  aboutToDial(): void;
  /** Page-API consent (lib/page-api/bridge.ts): answered only from extension pages. */
  readonly pages: Pick<PageBridge, 'consent' | 'answerConsent'>;
  updateSettings(patch: Partial<Settings>): Promise<Settings>;
  replaceIdentity(seed: Uint8Array): Promise<string>;
  /** The identity was exported or imported: no more backup banner. */
  backedUp(): Promise<void>;
  reconnectRelay(): void;
  /** The media host's stats of a call (null if none). */
  mediaStats(callId: string): Promise<unknown>;
  /** Switch the current call's microphone or speaker (issue 12). */
  setCallDevice(device: 'input' | 'output', deviceId: string): Promise<void>;
  /** The permission page's answer: resumes (or leaves waiting) the call that needs the microphone. */
  micPermission(state: 'granted' | 'denied' | 'dismissed'): void;
}

export async function handleUiRequest(host: UiHost, req: UiRequest): Promise<UiResponse> {
  switch (req.kind) {
    case 'status':
      return ok({ version: browser.runtime.getManifest().version, offscreen: await pingMediaHost(), signer: await host.signer() });
    case 'get-view':
      return ok(host.view());
    case 'page-consent':
      return ok(host.pages.consent(String(req.token)));
    case 'page-consent-answer':
      await host.pages.answerConsent(String(req.token), req.answer);
      return ok(null);
    case 'dial':
      return ok(await host.dial(req.address));
    case 'about-to-dial':
      host.aboutToDial();
      return ok(null);
    case 'accept':
      host.controls.accept();
      return ok(null);
    case 'hangup':
      host.controls.hangup();
      return ok(null);
    case 'mute':
      host.controls.mute(req.muted);
      return ok(null);
    case 'dismiss-call':
      host.controls.dismiss();
      host.admission.dropPending();
      return ok(null);
    case 'add-contact': {
      const contact = await host.contacts.add(req.address, req.name, host.address());
      await host.admission.adopt(contact.address); // the call just made with them: its tokens stay
      return ok(contact);
    }
    case 'rename-contact':
      await host.contacts.rename(req.address, req.name);
      return ok(null);
    case 'delete-contact':
      await host.contacts.remove(req.address);
      await host.admission.forget(req.address);
      return ok(null);
    case 'change-contact-address': {
      const contact = await host.contacts.changeAddress(req.address, req.newAddress, host.address());
      await host.admission.forget(req.address); // the tokens were the old address's
      return ok(contact);
    }
    case 'block-address':
      await blockAddress(host, req.address);
      return ok(null);
    case 'unblock-address':
      await host.admission.unblock(req.address);
      host.changed();
      return ok(null);
    case 'clear-history':
      await host.history.clear();
      host.changed();
      return ok(null);
    case 'test-relay':
      return ok(await testRelay(req.url));
    case 'export-identity': {
      const seed = await readSeed();
      try {
        const file = await exportIdentityFile(seed, req.passphrase);
        await host.backedUp();
        return ok({ fileName: identityFileName(file.address), text: JSON.stringify(file, null, 2) } satisfies ExportedIdentity);
      } finally {
        seed.fill(0);
      }
    }
    case 'inspect-identity-file': {
      const { address } = readIdentityFile(req.text);
      if (req.passphrase === undefined) return ok({ address, current: host.address() });
      // Open it now (Argon2id, then AES-GCM) so a wrong passphrase is said before "Replace your identity?".
      const opened = await openIdentityFile(req.text, req.passphrase);
      opened.seed.fill(0);
      return ok({ address, current: host.address(), passphraseOk: true });
    }
    case 'import-identity': {
      if (host.calls().inCall) throw new CallError('ERR_IN_CALL', t('err.identity.inCall'));
      const { seed, address } = await openIdentityFile(req.text, req.passphrase);
      try {
        if (address === host.address()) {
          await host.backedUp();
          return ok({ address });
        }
        return ok({ address: await host.replaceIdentity(seed) });
      } finally {
        seed.fill(0);
      }
    }
    case 'verify-contact':
      return ok(await verifyContact(host, req.address, req.name));
    case 'reconnect-relay':
      host.reconnectRelay();
      return ok(null);
    case 'update-settings':
      return ok(await host.updateSettings(req.settings));
    case 'call-stats': {
      const s = host.calls().current;
      if (!s) return ok(null);
      const stats = (await host.mediaStats(s.callId)) as object | null;
      return ok(stats ? { ...stats, ice: s.iceReport } : null);
    }
    case 'set-call-device':
      await host.setCallDevice(req.device, req.deviceId);
      return ok(null);
    case 'mic-permission': // resume the call that waits for the microphone (mic-gate.ts)
      host.micPermission(req.state);
      return ok(null);
    default:
      return unreachable(req);
  }
}

/** Block an address; if its call is ringing here now, decline it at once (the prompt's "Block"). */
async function blockAddress(host: UiHost, address: string): Promise<void> {
  await host.admission.block(address);
  const s = host.calls().current;
  if (s && s.peerAddress === parseAddress(address).address && s.state === CallState.Incoming) host.controls.hangup();
  host.changed();
}

/** Mark the current call's peer verified (after the two people compared the SAS). */
/**
 * The codes match: only while connected to that address (both people have heard each other read the
 * code), never while Calling… or Incoming. A peer who is not a contact yet needs a name.
 */
async function verifyContact(host: UiHost, address: string, name?: string): Promise<Contact> {
  const s = host.calls().current;
  const talking = s?.state === CallState.Connected || (s?.state === CallState.Reconnecting && !!s.connectedAt);
  if (!s?.sas || s.peerAddress !== address || !s.peerBundle || !talking) {
    throw new CallError('ERR_NO_CALL', t('err.verify.notConnected'));
  }
  if (!host.contacts.find(address)) {
    if (!name?.trim()) throw new CallError('ERR_NO_CALL', t('err.verify.needsName'));
    await host.contacts.add(address, name.trim(), host.address());
  }
  const contact = await host.contacts.markVerified(address, s.peerBundle, host.address());
  await host.admission.adopt(contact.address); // verifying may have added them
  return contact;
}

function ok<T>(value: T): UiResponse<T> {
  return { ok: true, value };
}

/** A typed error as the page shows it; anything else as one generic sentence (no internals leak). */
export function failure(e: unknown): UiResponse {
  if (e instanceof CallError || isCryptoError(e) || e instanceof IdentityFileError || e instanceof book.ContactError || e instanceof ManagedSettingError) {
    return { ok: false, code: e.code, message: e.message };
  }
  return { ok: false, code: 'ERR_INTERNAL', message: 'Something went wrong in Hush. Try again.' };
}
