import { useEffect, useState } from 'preact/hooks';
import type { CallView } from '@/lib/messaging/view';
import { request } from '@/lib/ui/client';
import { t, tf } from '@/lib/i18n/messages';

/**
 * Switch the microphone and the speaker during a call (issue 12). The lists
 * come from this page's `enumerateDevices` (labels show because Hush holds the
 * microphone permission; without it they read "Device n") and follow
 * `devicechange`. A choice goes to the background as `set-call-device`, which
 * the media host applies with CallMedia.setInputDevice/setOutputDevice: the
 * same sender, same keys, no renegotiation (docs/microphone-permission.md).
 * Chromium's `default` / `communications` pseudo-devices are the "System
 * default" entry ('').
 */
export function DevicePicker({ call }: { call: CallView }) {
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const md = navigator.mediaDevices;
    if (!md?.enumerateDevices) return;
    const load = () => void md.enumerateDevices().then(setDevices, () => setDevices([]));
    load();
    md.addEventListener?.('devicechange', load);
    return () => md.removeEventListener?.('devicechange', load);
  }, []);

  const real = (kind: MediaDeviceKind) => devices.filter((d) => d.kind === kind && d.deviceId && d.deviceId !== 'default' && d.deviceId !== 'communications');
  const inputs = real('audioinput');
  const outputs = real('audiooutput');
  const choose = (device: 'input' | 'output', deviceId: string) =>
    request('set-call-device', { device, deviceId }).then(
      () => setFailed(false),
      () => setFailed(true),
    );

  const select = (device: 'input' | 'output', list: MediaDeviceInfo[], value: string | undefined) => (
    <select
      id={`call-${device}`}
      data-testid={`call-${device}`}
      value={value ?? ''}
      onChange={(e) => void choose(device, (e.target as HTMLSelectElement).value)}
    >
      <option value="">{t('mgd.devices.default')}</option>
      {list.map((d, i) => (
        <option key={d.deviceId} value={d.deviceId}>
          {d.label || tf('mgd.devices.unnamed', { n: i + 1 })}
        </option>
      ))}
    </select>
  );

  return (
    <details class="device-picker" data-testid="device-picker">
      <summary>{t('mgd.devices')}</summary>
      <label for="call-input">{t('mgd.devices.mic')}</label>
      {select('input', inputs, call.inputDeviceId)}
      {outputs.length > 0 && (
        <>
          <label for="call-output">{t('mgd.devices.speaker')}</label>
          {select('output', outputs, call.outputDeviceId)}
        </>
      )}
      {failed && (
        <p class="error small" role="alert" data-testid="device-error">
          {t('mgd.devices.failed')}
        </p>
      )}
    </details>
  );
}
