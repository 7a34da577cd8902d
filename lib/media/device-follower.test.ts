/**
 * DeviceFollower against a scripted device list (no browser): which audio it
 * puts on the sender, and which events it emits, as devices come and go.
 * The browser side (replaceTrack on a real call) is tests/e2e/media-devices.test.ts.
 */
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { DeviceFollower, type DeviceHost } from './device-follower';
import type { DeviceEntry, InputInUse } from './devices';
import type { LocalAudio } from './local-audio';
import type { MediaEvent } from './types';

class FakeTrack extends EventTarget {
  readyState: 'live' | 'ended' = 'live';
  enabled = true;
  constructor(readonly deviceId: string, readonly groupId: string) {
    super();
  }
  getSettings() {
    return { deviceId: this.deviceId, groupId: this.groupId };
  }
  stop() {
    this.readyState = 'ended';
  }
  /** The device was unplugged: the browser ends the track. */
  unplug() {
    this.readyState = 'ended';
    this.dispatchEvent(new Event('ended'));
  }
}

let devices: DeviceEntry[] = [];
const bus = new EventTarget();
const mic = (deviceId: string, groupId: string): DeviceEntry => ({ kind: 'audioinput', deviceId, groupId });

beforeEach(() => {
  vi.stubGlobal('navigator', {
    mediaDevices: {
      enumerateDevices: async () => devices,
      addEventListener: bus.addEventListener.bind(bus),
      removeEventListener: bus.removeEventListener.bind(bus),
      getUserMedia: async (c: { audio: { deviceId?: { exact: string } } }) => {
        const inputs = devices.filter((d) => d.kind === 'audioinput');
        const want = c.audio.deviceId?.exact ?? 'default';
        const d = inputs.find((x) => x.deviceId === want);
        if (!d) throw Object.assign(new Error('gone'), { name: want === 'default' ? 'NotFoundError' : 'OverconstrainedError' });
        const track = new FakeTrack(d.deviceId, d.groupId);
        return { getAudioTracks: () => [track], getTracks: () => [track] };
      },
    },
  });
  class Ctx {
    createMediaStreamDestination() {
      const track = new FakeTrack('silence', '');
      return { stream: { getAudioTracks: () => [track] } };
    }
    resume = async () => {};
    close = async () => {};
  }
  vi.stubGlobal('AudioContext', Ctx);
  vi.stubGlobal('ConstantSourceNode', class { connect() {} start() {} stop() {} });
});
afterEach(() => {
  vi.unstubAllGlobals();
});

/** A host like CallMedia's: the audio on the sender, the events. */
function host(first: LocalAudio) {
  const h = {
    local: first,
    events: [] as MediaEvent[],
    sink: '',
    inputInUse(): InputInUse | null {
      if (h.local.silent) return null;
      const t = h.local.track as unknown as FakeTrack;
      return { ...t.getSettings(), live: t.readyState === 'live' };
    },
    async useInput(next: LocalAudio) {
      const old = h.local;
      h.local = next;
      old.stop();
    },
    sinkId: () => h.sink,
    async setSink(id: string) {
      h.sink = id;
    },
    onEvent: (e: MediaEvent) => h.events.push(e),
  };
  return h satisfies DeviceHost;
}

function audio(deviceId: string, groupId: string): LocalAudio {
  const track = new FakeTrack(deviceId, groupId) as unknown as MediaStreamTrack;
  return { stream: {} as MediaStream, track, stop: () => track.stop() };
}

const openedId = (h: ReturnType<typeof host>) => (h.local.silent ? 'silence' : (h.local.track as unknown as FakeTrack).deviceId);

test('a headset plugged in becomes the default: the default is reopened; unplugged (track ended): back to the laptop', async () => {
  devices = [mic('default', 'g-laptop'), mic('laptop', 'g-laptop')];
  const h = host(audio('default', 'g-laptop'));
  const f = new DeviceFollower(h, undefined, undefined);
  f.watch(h.local.track);

  devices = [mic('default', 'g-headset'), mic('laptop', 'g-laptop'), mic('headset', 'g-headset')];
  bus.dispatchEvent(new Event('devicechange'));
  await f.follow();
  expect((h.local.track as unknown as FakeTrack).groupId).toBe('g-headset');

  devices = [mic('default', 'g-laptop'), mic('laptop', 'g-laptop')];
  (h.local.track as unknown as FakeTrack).unplug();
  await f.follow();
  expect((h.local.track as unknown as FakeTrack).groupId).toBe('g-laptop');
  expect(h.events).toEqual([]);
  f.close();
});

test('the last microphone goes: silence and one ERR_MIC_GONE (non-fatal); one comes back: opened, and the same code cleared', async () => {
  devices = [mic('default', 'g-usb'), mic('usb', 'g-usb')];
  const h = host(audio('default', 'g-usb'));
  const f = new DeviceFollower(h, undefined, undefined);
  f.watch(h.local.track);

  devices = [];
  (h.local.track as unknown as FakeTrack).unplug();
  await f.follow();
  await f.follow(); // a second devicechange while none: nothing more
  expect(openedId(h)).toBe('silence');
  expect(h.events).toHaveLength(1);
  expect(h.events[0]).toMatchObject({ type: 'error', code: 'ERR_MIC_GONE', fatal: false });
  expect((h.events[0] as { message: string }).message).toMatch(/disconnected/);

  devices = [mic('default', 'g-usb'), mic('usb', 'g-usb')];
  bus.dispatchEvent(new Event('devicechange'));
  await f.follow();
  expect(openedId(h)).toBe('default');
  expect(h.events[1]).toMatchObject({ type: 'error', code: 'ERR_MIC_GONE', fatal: false, cleared: true });
  f.close();
});

test('the person picks a microphone and a speaker mid-call; the chosen speaker goes away: the default', async () => {
  devices = [mic('default', 'g-a'), mic('a', 'g-a'), mic('b', 'g-b'), { kind: 'audiooutput', deviceId: 'spk-b', groupId: 'g-b' }];
  const h = host(audio('default', 'g-a'));
  const f = new DeviceFollower(h, undefined, undefined);
  await f.setInput('b');
  expect(openedId(h)).toBe('b');
  await f.setOutput('spk-b');
  expect(h.sink).toBe('spk-b');
  devices = devices.filter((d) => d.deviceId !== 'spk-b');
  await f.follow();
  expect(h.sink).toBe('');
  await f.setInput(undefined);
  expect(openedId(h)).toBe('default');
  f.close();
});

test('after close, device changes do nothing', async () => {
  devices = [mic('default', 'g-a')];
  const h = host(audio('default', 'g-a'));
  const f = new DeviceFollower(h, undefined, undefined);
  f.close();
  devices = [];
  await f.follow();
  expect(openedId(h)).toBe('default');
  expect(h.events).toEqual([]);
});
