import { useEffect, useState } from 'preact/hooks';
import type { AppView } from '@/lib/messaging/view';
import { request } from '@/lib/ui/client';
import { errorText, firefoxMicBlocked, t } from '@/lib/i18n/messages';
import { useMicLevel } from '@/lib/ui/mic-level';

/** Microphone and speaker choice with a live level meter, and the ringtone switch. */
export function AudioSection({ view }: { view: AppView }) {
  const [devices, setDevices] = useState<MediaDeviceInfo[] | null>(null);
  const [error, setError] = useState('');
  const { inputDeviceId, outputDeviceId, ringtone } = view.settings;
  const level = useMicLevel(devices !== null, inputDeviceId);
  const canPickSpeaker = typeof (HTMLMediaElement.prototype as { setSinkId?: unknown }).setSinkId === 'function';

  const list = async () => {
    const all = await navigator.mediaDevices.enumerateDevices();
    setDevices(all.filter((d) => d.kind === 'audioinput' || d.kind === 'audiooutput'));
  };
  const allow = async () => {
    setError('');
    try {
      const s = await navigator.mediaDevices.getUserMedia({ audio: true });
      s.getTracks().forEach((tr) => tr.stop());
      await list();
    } catch (e) {
      // Firefox keeps the decision in its own settings: its own steps, with its own labels (issue 21).
      setError(import.meta.env.FIREFOX ? firefoxMicBlocked('ffx.micBlocked.options') : t('opt.audio.denied'));
    }
  };
  useEffect(() => {
    // Already allowed: list devices at once.
    navigator.permissions
      ?.query({ name: 'microphone' as PermissionName })
      .then((p) => {
        if (p.state === 'granted') void list();
      })
      .catch(() => {});
  }, []);
  const save = (patch: Partial<AppView['settings']>) =>
    request('update-settings', { settings: patch }).then(
      () => setError(''),
      (e: unknown) => setError(errorText(e)),
    );
  const inputs = devices?.filter((d) => d.kind === 'audioinput') ?? [];
  const outputs = devices?.filter((d) => d.kind === 'audiooutput') ?? [];

  return (
    <section class="card" aria-labelledby="audio-h">
      <h2 id="audio-h">{t('opt.audio')}</h2>
      {devices === null ? (
        <button type="button" class="secondary" data-testid="audio-allow" onClick={() => void allow()}>
          {t('opt.audio.allow')}
        </button>
      ) : (
        <>
          <label for="audio-input">{t('opt.audio.mic')}</label>
          <select id="audio-input" data-testid="audio-input" value={inputDeviceId ?? ''} onChange={(e) => void save({ inputDeviceId: (e.target as HTMLSelectElement).value || undefined })}>
            <option value="">{t('opt.audio.default')}</option>
            <DeviceOptions devices={inputs} />
          </select>
          <label for="audio-level">{t('opt.audio.level')}</label>
          <meter id="audio-level" data-testid="audio-level" min={0} max={1} low={0.05} high={0.8} optimum={0.3} value={level} />
          {canPickSpeaker ? (
            <>
              <label for="audio-output">{t('opt.audio.speaker')}</label>
              <select
                id="audio-output"
                data-testid="audio-output"
                value={outputDeviceId ?? ''}
                onChange={(e) => void save({ outputDeviceId: (e.target as HTMLSelectElement).value || undefined })}
              >
                <option value="">{t('opt.audio.default')}</option>
                <DeviceOptions devices={outputs} />
              </select>
            </>
          ) : (
            <p class="muted small">{t('opt.audio.noSpeakerChoice')}</p>
          )}
        </>
      )}
      <label class="check">
        <input type="checkbox" data-testid="ringtone" checked={ringtone} onChange={(e) => void save({ ringtone: (e.target as HTMLInputElement).checked })} />
        {t('opt.audio.ringtone')}
      </label>
      {error && (
        <p class="error" role="alert" data-testid="audio-error">
          {error}
        </p>
      )}
    </section>
  );
}

/** A device list's entries (the "default" pseudo-device is the first option already). */
function DeviceOptions({ devices }: { devices: MediaDeviceInfo[] }) {
  return (
    <>
      {devices
        .filter((d) => d.deviceId && d.deviceId !== 'default')
        .map((d) => (
          <option key={d.deviceId} value={d.deviceId}>
            {d.label || d.deviceId.slice(0, 8)}
          </option>
        ))}
    </>
  );
}
