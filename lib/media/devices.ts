/**
 * Which microphone and which speaker a running call should use, decided from
 * the browser's device list (Media Capture and Streams §9.2,
 * `enumerateDevices`) alone: pure, so every case is a unit test
 * (devices.test.ts). The media host asks again on each `devicechange`, when
 * the track in use ends, and when the person picks a device mid-call
 * (device-follower.ts applies the answer).
 *
 * The rules (issue 12):
 *   - the device chosen in the options (or in the call) when it is present;
 *   - else the system default: Chromium lists it first as the pseudo-device
 *     `default`, whose groupId is the physical default's; Firefox lists no
 *     pseudo-device and puts the default first;
 *   - no microphone at all: none (the call goes on muted, and resumes when
 *     one comes back).
 * Caveats: groupId is the only stable way to tell which physical device a
 * `default` track opened; where a browser gives no groupId, a track opened on
 * `default` is kept (Hush cannot tell it moved). The lists carry ids and
 * labels only after the microphone was allowed, which is true in the media
 * host during a call.
 */

/** The fields of a MediaDeviceInfo these rules read. */
export interface DeviceEntry {
  kind: MediaDeviceKind;
  deviceId: string;
  groupId: string;
}

/** The microphone the call sends now; null when it sends silence because none exists. */
export interface InputInUse {
  /** The id the track was opened with (getSettings().deviceId; 'default' for the system default in Chromium). */
  deviceId?: string;
  /** The physical device's group (getSettings().groupId). */
  groupId?: string;
  /** false once the track ended (the device was unplugged). */
  live: boolean;
}

export type InputDecision =
  | { action: 'keep' }
  /** Open this device; `deviceId` undefined: the system default. */
  | { action: 'open'; deviceId?: string }
  /** No microphone exists: send silence, say so. */
  | { action: 'none' };

export type OutputDecision = { action: 'keep' } | { action: 'sink'; sinkId: string };

/** The pseudo-device Chromium lists for the system default. */
export const DEFAULT_DEVICE_ID = 'default';

function present(devices: readonly DeviceEntry[], kind: MediaDeviceKind): DeviceEntry[] {
  // An empty id means the list is hidden (no permission): such an entry cannot be opened.
  return devices.filter((d) => d.kind === kind && d.deviceId !== '');
}

/** The microphone the call should use, given the device list, the chosen id and the one in use. */
export function decideInput(devices: readonly DeviceEntry[], chosenId: string | undefined, inUse: InputInUse | null): InputDecision {
  const inputs = present(devices, 'audioinput');
  if (inputs.length === 0) return inUse === null ? { action: 'keep' } : { action: 'none' };

  const live = inUse?.live ? inUse : null;
  if (chosenId && chosenId !== DEFAULT_DEVICE_ID && inputs.some((d) => d.deviceId === chosenId)) {
    return live?.deviceId === chosenId ? { action: 'keep' } : { action: 'open', deviceId: chosenId };
  }

  // The system default.
  const def = inputs.find((d) => d.deviceId === DEFAULT_DEVICE_ID) ?? inputs[0]!;
  if (live && onDefault(live, def)) return { action: 'keep' };
  return { action: 'open' };
}

function onDefault(inUse: InputInUse, def: DeviceEntry): boolean {
  if (inUse.groupId && def.groupId) return inUse.groupId === def.groupId;
  if (inUse.deviceId === DEFAULT_DEVICE_ID || inUse.deviceId === undefined) return true;
  return inUse.deviceId === def.deviceId;
}

/**
 * The speaker the call should play on: the chosen one when present, else the
 * system default (sink id '': HTMLMediaElement.setSinkId's default, which
 * follows the system's default device).
 */
export function decideOutput(devices: readonly DeviceEntry[], chosenId: string | undefined, currentSinkId: string): OutputDecision {
  const outputs = present(devices, 'audiooutput');
  const target = chosenId && chosenId !== DEFAULT_DEVICE_ID && outputs.some((d) => d.deviceId === chosenId) ? chosenId : '';
  return target === currentSinkId ? { action: 'keep' } : { action: 'sink', sinkId: target };
}
