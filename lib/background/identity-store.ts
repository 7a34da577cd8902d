/**
 * This device's identity as stored (lib/background/storage.ts identityItem):
 * created on first run, replaced by an import, read back for an export; and
 * whether it was backed up since it was created (the popup's backup banner).
 * The seed is only ever held long enough to derive keys or seal the export,
 * and wiped by the caller (ui-dispatch.ts) in `finally`.
 */
import { base64 } from '@scure/base';
import { identityFromSeed, type Identity } from '../crypto/identity';
import { backupItem, identityItem } from './storage';

/** The stored identity, or a new one on first run (or after storage was lost). */
export async function loadOrCreateIdentity(): Promise<Identity> {
  const stored = await identityItem.getValue();
  if (stored) return identityFromSeed(base64.decode(stored.seed));
  // First run, or storage was lost: a new identity, and the backup banner until it is exported.
  await backupItem.setValue({ done: false });
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const id = identityFromSeed(seed);
  await saveSeed(seed);
  seed.fill(0);
  return id;
}

/** Overwrite the stored seed (an imported identity). */
export async function saveSeed(seed: Uint8Array): Promise<void> {
  await identityItem.setValue({ v: 1, seed: base64.encode(seed), createdAt: Date.now() });
}

/** A copy of the stored seed, for an export: the caller wipes it. */
export async function readSeed(): Promise<Uint8Array> {
  return base64.decode((await identityItem.getValue())!.seed);
}

/** Whether the popup should ask for a backup (no export or import since the identity was created). */
export async function backupNeeded(): Promise<boolean> {
  return !(await backupItem.getValue()).done;
}

export async function markBackedUp(): Promise<void> {
  await backupItem.setValue({ done: true });
}
