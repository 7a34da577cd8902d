import { useState } from 'preact/hooks';
import type { CallView } from '@/lib/messaging/view';
import { formatDuration, request, useTick } from '@/lib/ui/client';
import { errorText, t } from '@/lib/i18n/messages';

/**
 * Incoming prompt and in-call view: who, timer, state, path, mute, hang up, SAS.
 * The ringtone is not played here but by the background's media host, so a
 * call rings with no Hush page open (lib/background/app.ts syncRing).
 */
export function CallScreen({ call, ringtone = false }: { call: CallView; ringtone?: boolean }) {
  const live = call.state !== 'ended';
  /** Whether this device rings now (shown to tests and assistive tech; the sound is the host's). */
  const ringing = ringtone && call.state === 'incoming';
  const now = useTick(live);
  const [error, setError] = useState('');
  const act = (p: Promise<unknown>) => p.catch((e: unknown) => setError(errorText(e)));
  const who = call.peerName ?? call.peerAddress ?? '';
  /** An incoming call from someone not in the contacts: never a name, the address and a warning (issue 14). */
  const unknown = call.direction === 'incoming' && !call.peerName && !!call.peerAddress && live;
  const elapsed = call.connectedAt ? (call.endedAt ?? now) - call.connectedAt : 0;

  return (
    <section class={`card call call-${call.state}`} data-testid="call" data-state={call.state} data-ringing={ringing} aria-live="polite">
      {unknown && (
        <p class="unknown-caller" data-testid="unknown-caller">
          {t('ui.call.unknown')}
        </p>
      )}
      <h2 class={unknown ? 'peer address' : 'peer'} data-testid="call-peer" title={call.peerAddress}>
        {who}
      </h2>
      {unknown && (
        <p class="warning small" data-testid="unknown-warning">
          {t('ui.call.unknownWarning')}
        </p>
      )}
      {!call.peerName && call.peerAddress && !unknown && <p class="muted small">{t('ui.call.unknownCaller')}</p>}
      <p class="state">
        <span data-testid="call-state">{t(`ui.call.state.${call.state}`)}</span>
        {call.connectedAt && (
          <span class="timer" data-testid="call-timer">
            {' · '}
            {formatDuration(elapsed)}
          </span>
        )}
      </p>
      {live && call.state !== 'incoming' && (
        <p class="path" data-testid="call-path" data-path={call.path}>
          {t(`ui.call.path.${call.path}`)}
        </p>
      )}
      {call.peerKeyChanged && (
        <p class="warning" role="alert" data-testid="key-changed">
          {t('ui.call.keyChanged')}
        </p>
      )}
      {call.sas && call.state !== 'ended' && (
        <div class="sas" aria-labelledby="sas-h">
          <h3 id="sas-h">{t('ui.call.sas')}</h3>
          <p class="sas-code" data-testid="sas">
            {call.sas}
          </p>
          <p class="muted small">{t('ui.call.sasHelp')}</p>
          {call.peerAddress &&
            (call.peerVerified ? (
              <p class="badge verified" data-testid="peer-verified">
                ✓ {t('ui.call.verified')}
              </p>
            ) : (
              <button type="button" class="secondary" data-testid="mark-verified" onClick={() => act(request('verify-contact', { address: call.peerAddress! }))}>
                {t('ui.call.markVerified')}
              </button>
            ))}
        </div>
      )}
      {call.state === 'ended' && call.endMessage && (
        <p class={call.endReason === 'handshake-failed' ? 'error' : 'muted'} role="status" data-testid="end-message" data-reason={call.endReason}>
          {call.endMessage}
        </p>
      )}
      <div class="actions">
        {call.state === 'incoming' ? (
          <>
            <button type="button" class="accept" data-testid="accept" onClick={() => act(request('accept'))}>
              {t('ui.call.accept')}
            </button>
            <button type="button" class="danger" data-testid="decline" onClick={() => act(request('hangup'))}>
              {t('ui.call.decline')}
            </button>
            {call.peerAddress && (
              <button
                type="button"
                class="secondary"
                data-testid="block-caller"
                title={t('ui.call.blockHelp')}
                onClick={() => act(request('block-address', { address: call.peerAddress! }))}
              >
                {t('ui.call.block')}
              </button>
            )}
          </>
        ) : live ? (
          <>
            <button
              type="button"
              class="secondary"
              data-testid="mute"
              aria-pressed={call.muted}
              onClick={() => act(request('mute', { muted: !call.muted }))}
            >
              {call.muted ? t('ui.call.unmute') : t('ui.call.mute')}
            </button>
            <button type="button" class="danger" data-testid="hangup" onClick={() => act(request('hangup'))}>
              {t('ui.call.hangup')}
            </button>
          </>
        ) : (
          <button type="button" class="secondary" data-testid="close-call" onClick={() => act(request('dismiss-call'))}>
            {t('ui.call.close')}
          </button>
        )}
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
