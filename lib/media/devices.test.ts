import { describe, expect, test } from 'vitest';
import { decideInput, decideOutput, type DeviceEntry } from './devices';

// Lists shaped as Chromium gives them: the `default` pseudo-device first, sharing its groupId
// with the physical default.
const mic = (deviceId: string, groupId: string): DeviceEntry => ({ kind: 'audioinput', deviceId, groupId });
const spk = (deviceId: string, groupId: string): DeviceEntry => ({ kind: 'audiooutput', deviceId, groupId });
const laptop = [mic('default', 'g-laptop'), mic('laptop', 'g-laptop'), spk('default', 'g-laptop'), spk('laptop-spk', 'g-laptop')];
const withHeadset = [mic('default', 'g-headset'), mic('laptop', 'g-laptop'), mic('headset', 'g-headset'), spk('default', 'g-headset'), spk('laptop-spk', 'g-laptop'), spk('headset-spk', 'g-headset')];

describe('decideInput', () => {
  test('on the default, and the default did not move: keep', () => {
    expect(decideInput(laptop, undefined, { deviceId: 'default', groupId: 'g-laptop', live: true })).toEqual({ action: 'keep' });
  });

  test('a headset plugged in becomes the system default: open the new default', () => {
    expect(decideInput(withHeadset, undefined, { deviceId: 'default', groupId: 'g-laptop', live: true })).toEqual({ action: 'open' });
  });

  test('the headset in use is unplugged (track ended): back to the default', () => {
    expect(decideInput(laptop, undefined, { deviceId: 'default', groupId: 'g-headset', live: false })).toEqual({ action: 'open' });
  });

  test('the device chosen in the options, when present, wins over the default', () => {
    expect(decideInput(withHeadset, 'laptop', { deviceId: 'default', groupId: 'g-headset', live: true })).toEqual({ action: 'open', deviceId: 'laptop' });
    expect(decideInput(withHeadset, 'laptop', { deviceId: 'laptop', groupId: 'g-laptop', live: true })).toEqual({ action: 'keep' });
  });

  test('the chosen device is gone: the default, and the chosen one again when it comes back', () => {
    expect(decideInput(laptop, 'headset', { deviceId: 'headset', groupId: 'g-headset', live: false })).toEqual({ action: 'open' });
    expect(decideInput(laptop, 'headset', { deviceId: 'default', groupId: 'g-laptop', live: true })).toEqual({ action: 'keep' });
    expect(decideInput(withHeadset, 'headset', { deviceId: 'default', groupId: 'g-laptop', live: true })).toEqual({ action: 'open', deviceId: 'headset' });
  });

  test('no microphone left: none; still none: keep the silence; one comes back: open it', () => {
    const speakersOnly = [spk('default', 'g-laptop')];
    expect(decideInput(speakersOnly, undefined, { deviceId: 'default', groupId: 'g-laptop', live: false })).toEqual({ action: 'none' });
    expect(decideInput([], 'headset', { deviceId: 'headset', live: true })).toEqual({ action: 'none' });
    expect(decideInput(speakersOnly, undefined, null)).toEqual({ action: 'keep' });
    expect(decideInput(laptop, undefined, null)).toEqual({ action: 'open' });
    expect(decideInput(withHeadset, 'headset', null)).toEqual({ action: 'open', deviceId: 'headset' });
  });

  test('a hidden list (no permission: empty ids) counts as no device', () => {
    expect(decideInput([mic('', '')], undefined, { live: true })).toEqual({ action: 'none' });
  });

  test('Firefox: no `default` pseudo-device, the default listed first', () => {
    const ff = [mic('usb', 'g-usb'), mic('laptop', 'g-laptop')];
    expect(decideInput(ff, undefined, { deviceId: 'usb', groupId: 'g-usb', live: true })).toEqual({ action: 'keep' });
    expect(decideInput(ff, undefined, { deviceId: 'laptop', groupId: 'g-laptop', live: true })).toEqual({ action: 'open' });
  });

  test('no groupId from the browser: a track on `default` is kept, a track on a named device follows the default', () => {
    const bare = [mic('default', ''), mic('a', '')];
    expect(decideInput(bare, undefined, { deviceId: 'default', live: true })).toEqual({ action: 'keep' });
    expect(decideInput([mic('b', ''), mic('a', '')], undefined, { deviceId: 'a', live: true })).toEqual({ action: 'open' });
  });

  test('choosing `default` explicitly is following the system default', () => {
    expect(decideInput(withHeadset, 'default', { deviceId: 'default', groupId: 'g-headset', live: true })).toEqual({ action: 'keep' });
  });
});

describe('decideOutput', () => {
  test('the chosen speaker when present, else the system default (sink id "")', () => {
    expect(decideOutput(withHeadset, 'headset-spk', '')).toEqual({ action: 'sink', sinkId: 'headset-spk' });
    expect(decideOutput(withHeadset, 'headset-spk', 'headset-spk')).toEqual({ action: 'keep' });
    expect(decideOutput(laptop, 'headset-spk', 'headset-spk')).toEqual({ action: 'sink', sinkId: '' });
    expect(decideOutput(laptop, undefined, '')).toEqual({ action: 'keep' });
    expect(decideOutput(laptop, 'default', '')).toEqual({ action: 'keep' });
  });
});
