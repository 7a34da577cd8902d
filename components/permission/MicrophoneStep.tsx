import { useState } from 'preact/hooks';
import { firefoxMicBlocked, t } from '@/lib/i18n/messages';
import { useMicLevel } from '@/lib/ui/mic-level';
import { openMicrophoneSettings, useMicPermission } from '@/lib/ui/mic-permission';

/**
 * The microphone step, shared by the permission window and the welcome page:
 * one Hush button that shows the browser's own prompt, the live permission
 * state, and, when blocked, where to lift the block with a button to that
 * settings page. `forCall`: a call waits on this answer (permission window).
 * `level`: once allowed, a level meter on `inputDeviceId` (welcome page). The
 * meter holds the microphone, so it runs only after the person's own click
 * here (Allow, or "Check my level" when it was allowed before), never merely
 * because a grant arrived while the page sat in a background tab.
 */
export function MicrophoneStep({ forCall = false, level = false, inputDeviceId }: { forCall?: boolean; level?: boolean; inputDeviceId?: string }) {
  const mic = useMicPermission();
  const [meter, setMeter] = useState(false);
  const granted = mic.state === 'granted';
  const denied = mic.state === 'denied';
  const firefox = !!import.meta.env?.FIREFOX;

  return (
    <div class="mic-step" data-testid="mic-step" data-state={mic.state}>
      {!granted && !denied && (
        <>
          <p>{t('mic.why')}</p>
          <button type="button" data-testid="mic-allow" disabled={mic.asking} onClick={() => void mic.ask().then(() => setMeter(true))}>
            {t('mic.allow')}
          </button>
          {mic.asking && (
            <p class="muted small" role="status">
              {t('mic.asking')}
            </p>
          )}
          {!mic.asking && mic.last === 'dismissed' && (
            <p class="warning small" role="status" data-testid="mic-dismissed">
              {t('mic.dismissed')}
            </p>
          )}
        </>
      )}
      {granted && (
        <p class="ok" role="status" data-testid="mic-granted">
          {t(forCall ? 'mic.grantedCall' : 'mic.granted')}
        </p>
      )}
      {granted && level && meter && <LevelMeter inputDeviceId={inputDeviceId} />}
      {granted && level && !meter && (
        <button type="button" class="secondary" data-testid="mic-check" onClick={() => setMeter(true)}>
          {t('mic.checkLevel')}
        </button>
      )}
      {denied && (
        <>
          <p class="error-text" role="alert" data-testid="mic-denied">
            {firefox ? firefoxMicBlocked('ffx.micBlocked.options') : t('mic.denied')}
          </p>
          <div class="row wrap">
            {!firefox && (
              <button type="button" data-testid="mic-settings" onClick={() => void openMicrophoneSettings()}>
                {t('mic.openSettings')}
              </button>
            )}
            <button type="button" class="secondary" data-testid="mic-allow" disabled={mic.asking} onClick={() => void mic.ask()}>
              {t('mic.allow')}
            </button>
          </div>
        </>
      )}
      {mic.error && (
        <p class="error" role="alert" data-testid="mic-error">
          {t('mic.failed')}
        </p>
      )}
    </div>
  );
}

/** The options page's meter (lib/ui/mic-level.ts): the level of the microphone Hush will use. */
function LevelMeter({ inputDeviceId }: { inputDeviceId?: string }) {
  const level = useMicLevel(true, inputDeviceId);
  return (
    <>
      <label for="mic-level">{t('mic.level')}</label>
      <meter id="mic-level" data-testid="mic-level" data-level={level.toFixed(3)} min={0} max={1} low={0.05} high={0.8} optimum={0.3} value={level} />
    </>
  );
}
