import { useEffect, useRef, useState } from 'preact/hooks';
import type { CallView } from '@/lib/messaging/view';
import { formatDuration, request, useTick } from '@/lib/ui/client';
import { errorText, t, tf } from '@/lib/i18n/messages';
import { givenName, shortAddress } from '@/lib/ui/display';
import { useHeard } from '@/lib/ui/heard';
import { DevicePicker } from './DevicePicker';
import { openMicrophoneSettings } from '@/lib/ui/mic-permission';

/**
 * The call, read top to bottom at a glance: who (a name, or "Unknown caller"
 * with a short address and "Add to contacts"), the state and the path, the
 * quality, then the security code, which appears only once the call is
 * connected (a code compared before anyone speaks proves nothing).
 *
 * Only the state is announced (one small aria-live region): the timer sits
 * outside it, so a screen reader does not read every second.
 *
 * Keys while a call is live: M mutes or unmutes, Esc or H hangs up
 * (never while typing in a field). The ringtone is not played here but by
 * the background's media host, so a call rings with no Hush page open.
 */
export function CallScreen({ call, ringtone = false }: { call: CallView; ringtone?: boolean }) {
  const live = call.state !== 'ended';
  /** Whether this device rings now (shown to tests and assistive tech; the sound is the host's). */
  const ringing = ringtone && call.state === 'incoming';
  const now = useTick(live);
  const [error, setError] = useState('');
  const [naming, setNaming] = useState<'' | 'add' | 'verify'>('');
  const act = (p: Promise<unknown>) => p.then(() => setError(''), (e: unknown) => setError(errorText(e)));
  const name = call.peerName ? givenName({ name: call.peerName, address: call.peerAddress ?? '' }) : '';
  const isContact = !!call.peerName;
  const elapsed = call.connectedAt ? (call.endedAt ?? now) - call.connectedAt : 0;
  /** The code means something only once both sides are talking: Connected (or Reconnecting after it). */
  const showSas = !!call.sas && !!call.connectedAt && (call.state === 'connected' || call.state === 'reconnecting');
  const inCall = live && call.state !== 'incoming';
  const quality = call.quality; // issue 17: the background's one quality poller (lib/background/quality-monitor.ts)
  const heard = useHeard(call.state === 'connected');
  useCallKeys(inCall, call.muted, act);

  const verify = () => {
    if (!call.peerAddress) return;
    if (!isContact) return setNaming('verify');
    void act(request('verify-contact', { address: call.peerAddress }));
  };

  return (
    <section class={`card call call-${call.state}`} data-testid="call" data-state={call.state} data-ringing={ringing} aria-labelledby="call-peer">
      <div class="who">
        <h2 class="peer" id="call-peer" data-testid="call-peer" data-address={call.peerAddress} data-known={isContact}>
          {name || (isContact ? shortAddress(call.peerAddress ?? '') : t('ui18.call.unknown'))}
        </h2>
        {call.peerAddress && (!isContact || !name) && (
          <p class="peer-address" data-testid="call-peer-address" title={call.peerAddress}>
            <code>{shortAddress(call.peerAddress)}</code>
          </p>
        )}
        {/* Issue 14: an incoming call from someone not in the contacts never shows a name, and says so. */}
        {!isContact && call.direction === 'incoming' && live && call.peerAddress && (
          <p class="warning small" data-testid="unknown-warning">
            {t('ui.call.unknownWarning')}
          </p>
        )}
      </div>

      <div class="status-line">
        {/* The one live region: the state (and the end sentence), never the timer. */}
        <p class="state" aria-live="polite" aria-atomic="true" data-testid="call-live">
          <span data-testid="call-state">{t(`ui.call.state.${call.state}`)}</span>
          {call.muted && live && (
            <span class="muted-flag" data-testid="muted-indicator">
              {' · '}
              <MicIcon off />
              {t('ui18.call.muted')}
            </span>
          )}
        </p>
        {call.connectedAt && (
          <p class="timer" data-testid="call-timer" aria-hidden={live}>
            {formatDuration(elapsed)}
          </p>
        )}
      </div>

      {inCall && (
        <dl class="call-meta">
          <div>
            <dt>{t('ui18.call.path')}</dt>
            <dd data-testid="call-path" data-path={call.path}>
              {t(`ui.call.path.${call.path}`)}
            </dd>
          </div>
          <div>
            <dt>{t('ui18.call.quality')}</dt>
            <dd data-testid="call-quality" data-quality={quality ?? 'pending'}>
              {quality ? t(`q17.quality.${quality}`) : call.state === 'connected' ? t('ui18.call.quality.pending') : '—'}
            </dd>
          </div>
          {heard && (
            <div>
              <dt>{t('ui18.call.hearing')}</dt>
              {/* The playout's level and pitch: a glance at "is sound arriving", and what test authors read (docs/testing.md). */}
              <dd data-testid="call-heard" data-frequency={heard.frequency.toFixed(0)} data-level-db={heard.rmsDb === null ? 'silent' : heard.rmsDb.toFixed(1)}>
                <meter min={-80} max={0} low={-50} value={heard.rmsDb ?? -80} aria-label={t('ui18.call.hearing')} />
              </dd>
            </div>
          )}
        </dl>
      )}

      {call.peerKeyChanged && (
        <p class="warning" role="alert" data-testid="key-changed">
          {t('ui.call.keyChanged')}
        </p>
      )}

      {call.waiting && live && (
        <p class="warning" role="status" data-testid="call-waiting" data-address={call.waiting.address}>
          {tf('ui18.call.waiting', { who: call.waiting.name ? givenName({ name: call.waiting.name, address: call.waiting.address }) || shortAddress(call.waiting.address) : shortAddress(call.waiting.address) })}
        </p>
      )}

      {call.micGone && live && (
        <p class="warning" role="alert" data-testid="mic-gone">
          {t('mgd.micGone')}
        </p>
      )}

      {call.state === 'connecting' && <p class="muted small" data-testid="sas-pending">{t('ui18.call.sasAfterConnect')}</p>}

      {showSas && (
        <div class="sas" role="group" aria-labelledby="sas-h">
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
            ) : naming !== 'verify' ? (
              <button type="button" class="secondary" data-testid="mark-verified" onClick={verify}>
                {t('ui.call.markVerified')}
              </button>
            ) : null)}
        </div>
      )}

      {naming && call.peerAddress && (
        <NameForm
          address={call.peerAddress}
          verifyAfter={naming === 'verify'}
          onDone={() => setNaming('')}
          onError={(m) => setError(m)}
        />
      )}

      {call.state === 'ended' && call.endMessage && (
        <p class={call.endReason === 'handshake-failed' ? 'error' : 'end'} role="status" data-testid="end-message" data-reason={call.endReason}>
          {call.endMessage}
        </p>
      )}
      {/* Chrome: the way to lift the block, one click away (Firefox's end message says its exact steps). */}
      {call.state === 'ended' && call.endReason === 'mic-denied' && !import.meta.env.FIREFOX && (
        <button type="button" class="secondary" data-testid="open-mic-settings" onClick={() => act(openMicrophoneSettings())}>
          {t('mic.openSettings')}
        </button>
      )}

      {(call.state === 'dial-waiting-mic' || call.state === 'answer-waiting-mic') && !import.meta.env.FIREFOX && (
        <p class="warning" role="status" data-testid="mic-wait-hint">
          {t('mic.call.allowHint')}
        </p>
      )}

      {call.state === 'ended' && call.endReason === 'mic-denied' && !import.meta.env.FIREFOX && (
        <button type="button" class="secondary" data-testid="mic-settings" onClick={() => void openMicrophoneSettings()}>
          {t('mic.openSettings')}
        </button>
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
              class={call.muted ? 'mute pressed' : 'secondary mute'}
              data-testid="mute"
              aria-pressed={call.muted}
              aria-keyshortcuts="M"
              onClick={() => act(request('mute', { muted: !call.muted }))}
            >
              <MicIcon off={call.muted} />
              {t('ui.call.mute')}
            </button>
            <button type="button" class="danger" data-testid="hangup" aria-keyshortcuts="Escape H" onClick={() => act(request('hangup'))}>
              {t('ui.call.hangup')}
            </button>
          </>
        ) : (
          <>
            {call.peerAddress && (
              <button type="button" class="accept" data-testid="call-back" onClick={() => act(request('dial', { address: call.peerAddress! }))}>
                {t('ui18.call.callBack')}
              </button>
            )}
            <button type="button" class="secondary" data-testid="close-call" onClick={() => act(request('dismiss-call'))}>
              {t('ui.call.close')}
            </button>
          </>
        )}
      </div>

      {!isContact && call.peerAddress && !naming && call.state !== 'incoming' && (
        <button type="button" class="link" data-testid="call-add-contact" onClick={() => setNaming('add')}>
          + {t('ui18.call.addContact')}
        </button>
      )}

      {inCall && <DevicePicker call={call} />}

      {inCall && (
        <p class="muted small shortcuts" data-testid="call-shortcuts">
          {t('ui18.call.shortcuts')}
        </p>
      )}

      {error && (
        <p class="error" role="alert" data-testid="call-error">
          {error}
        </p>
      )}
    </section>
  );
}

/**
 * Save the caller as a contact: a name first. With `verifyAfter`, the codes were
 * compared: save, then mark verified (the background refuses verify outside the call).
 */
function NameForm({ address, verifyAfter, onDone, onError }: { address: string; verifyAfter: boolean; onDone(): void; onError(m: string): void }) {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      await request('add-contact', { address, name });
      if (verifyAfter) await request('verify-contact', { address });
      onError('');
      onDone();
    } catch (err) {
      onError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="form name-form" onSubmit={save} data-testid="call-name-form">
      {verifyAfter && <p class="small">{t('ui18.call.nameFirst')}</p>}
      <div class="field">
        <label for="call-contact-name">{t('ui.contact.name')}</label>
        <input id="call-contact-name" ref={input} data-testid="call-contact-name" value={name} autocomplete="off" onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      </div>
      <div class="row">
        <button type="submit" data-testid="call-contact-save" disabled={busy || !name.trim()}>
          {verifyAfter ? t('ui18.call.saveAndVerify') : t('ui18.call.saveContact')}
        </button>
        <button type="button" class="secondary" data-testid="call-contact-cancel" onClick={onDone}>
          {t('ui.contact.cancel')}
        </button>
      </div>
    </form>
  );
}

/** M toggles mute, Esc or H hangs up, while a call is live and the focus is not in a text field. */
function useCallKeys(on: boolean, muted: boolean, act: (p: Promise<unknown>) => void): void {
  const state = useRef({ muted, act });
  state.current = { muted, act };
  useEffect(() => {
    if (!on) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
      const el = e.target as HTMLElement | null;
      if (el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable)) return;
      const k = e.key.toLowerCase();
      if (k === 'm') {
        e.preventDefault();
        state.current.act(request('mute', { muted: !state.current.muted }));
      } else if (k === 'h' || k === 'escape') {
        e.preventDefault();
        state.current.act(request('hangup'));
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [on]);
}


/** A microphone, struck through when off (drawn, not an emoji: every system shows it). */
function MicIcon({ off = false }: { off?: boolean }) {
  return (
    <svg class="icon" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false">
      <path fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" d="M12 3a3 3 0 0 1 3 3v6a3 3 0 0 1-6 0V6a3 3 0 0 1 3-3zM5 11a7 7 0 0 0 14 0M12 18v3" />
      {off && <path stroke="currentColor" stroke-width="2.5" stroke-linecap="round" d="M4 4l16 16" />}
    </svg>
  );
}
