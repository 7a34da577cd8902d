import { useEffect, useRef, useState } from 'preact/hooks';
import type { PageIntegration } from '@/lib/page-api/content';
import type { PageCallView } from '@/lib/messaging/protocol';
import { formatDuration, useTick } from '@/lib/ui/client';
import { t, tf } from '@/lib/i18n/messages';

/**
 * The in-page call bar, rendered inside a closed shadow root by the content
 * script: confirmations (Hush link, page API), the incoming call on the
 * active tab, and the call itself (peer, timer, state, path, mute, hang up).
 *
 * Every word is drawn as CSS generated content (<Tx>: `::before { content:
 * attr(data-tx) }`), not as DOM text: a closed shadow root hides nodes from
 * the page, but `window.find()` still searches their text, which would let
 * a page test "is Alice on the bar?". Generated content is not searchable
 * or selectable, and screen readers still read it.
 */
function Tx({ s, ...rest }: { s: string } & Record<string, unknown>) {
  return <span class="tx" data-tx={s} {...rest} />;
}

export function PageBar({ app }: { app: PageIntegration }) {
  const [, setN] = useState(0);
  useEffect(() => app.subscribe(() => setN((n) => n + 1)), [app]);
  const { prompt, armed, view } = app.state;
  if (!app.visible) return null;
  return (
    <section class="hush-bar" role="region" aria-label={t('page.region')} data-testid="bar">
      <p class="brand" aria-hidden="true">
        <Tx s="Hush" />
      </p>
      {prompt ? <PromptView app={app} armed={armed} /> : view?.call ? <CallView app={app} call={view.call} /> : null}
    </section>
  );
}

function PromptView({ app, armed }: { app: PageIntegration; armed: boolean }) {
  const p = app.state.prompt!;
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => box.current?.focus(), [p]);
  useEffect(() => {
    // Escape cancels, like any dialog (the key never reaches the page: shadow-host.ts).
    const el = box.current;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      if (p.kind === 'error') app.close();
      else void app.answer('cancel');
    };
    el?.addEventListener('keydown', onKey);
    return () => el?.removeEventListener('keydown', onKey);
  }, [p]);
  if (p.kind === 'error') {
    return (
      <div role="alertdialog" aria-labelledby="hush-q" tabIndex={-1} ref={box} data-testid="bar-prompt" data-kind="error">
        <p id="hush-q" class="error">
          <Tx s={tf('page.badLink', { message: p.message })} />
        </p>
        <div class="actions">
          <button type="button" class="secondary" data-testid="bar-close" onClick={() => app.close()}>
            <Tx s={t('page.close')} />
          </button>
        </div>
      </div>
    );
  }
  const who = (
    <>
      <strong>
        <Tx s={p.who} data-testid="bar-who" />
      </strong>
      {!p.isContact && <Tx class="tx small" s={` (${t('page.notContact')})`} />}
    </>
  );
  const text = p.kind === 'link' ? tf('page.confirm', { who: '\u0000' }) : tf('page.request', { origin: p.origin, who: '\u0000' });
  const [before, after] = text.split('\u0000');
  return (
    <div role="alertdialog" aria-labelledby="hush-q" tabIndex={-1} ref={box} data-testid="bar-prompt" data-kind={p.kind} data-armed={armed}>
      <p id="hush-q" class="question">
        <Tx s={before ?? ''} />
        {who}
        <Tx s={after ?? ''} />
      </p>
      <div class="actions">
        {p.kind === 'link' ? (
          <>
            <button type="button" class="go" disabled={!armed} data-testid="bar-call" onClick={() => void app.answer('call')}>
              <Tx s={t('page.call')} />
            </button>
            <button type="button" class="secondary" disabled={!armed} data-testid="bar-cancel" onClick={() => void app.answer('cancel')}>
              <Tx s={t('page.cancel')} />
            </button>
          </>
        ) : (
          <>
            <button type="button" class="go" disabled={!armed} data-testid="bar-allow-once" onClick={() => void app.answer('once')}>
              <Tx s={t('page.allowOnce')} />
            </button>
            <button type="button" class="secondary" disabled={!armed} data-testid="bar-allow-always" onClick={() => void app.answer('always')}>
              <Tx s={t('page.allowAlways')} />
            </button>
            <button type="button" class="danger" disabled={!armed} data-testid="bar-deny" onClick={() => void app.answer('cancel')}>
              <Tx s={t('page.deny')} />
            </button>
          </>
        )}
      </div>
    </div>
  );
}

function CallView({ app, call }: { app: PageIntegration; call: PageCallView }) {
  const live = call.state !== 'ended';
  const now = useTick(live);
  const elapsed = call.connectedAt ? (call.endedAt ?? now) - call.connectedAt : 0;
  return (
    <div class={`call call-${call.state}`} data-testid="bar-call-view" data-state={call.state}>
      <p class="peer">
        <Tx s={call.peer} data-testid="bar-peer" />
        {call.peerVerified && <Tx class="tx badge" s={` ✓ ${t('ui.contact.verified')}`} />}
      </p>
      <p class="state">
        {/* Only the state is announced: the timer stays out of the live region (issue 18). */}
        <span aria-live="polite" aria-atomic="true">
          <Tx s={t(`ui.call.state.${call.state}`)} data-testid="bar-state" />
        </span>
        {call.connectedAt && <Tx s={` · ${formatDuration(elapsed)}`} data-testid="bar-timer" />}
        {live && call.state !== 'incoming' && <Tx s={` · ${t(`ui.call.path.${call.path}`)}`} data-testid="bar-path" data-path={call.path} />}
        {live && call.quality && <Tx s={` · ${t(`q17.quality.${call.quality}`)}`} data-testid="bar-quality" data-quality={call.quality} />}
      </p>
      {call.peerKeyChanged && (
        <p class="warning" role="alert" data-testid="bar-key-changed">
          <Tx s={t('ui.call.keyChanged')} />
        </p>
      )}
      {call.state === 'ended' && call.endMessage && (
        <p class="small" role="status" data-testid="bar-end-message" data-reason={call.endReason}>
          <Tx s={call.endMessage} />
        </p>
      )}
      <div class="actions">
        {call.state === 'incoming' ? (
          <>
            <button type="button" class="go" data-testid="bar-accept" onClick={() => app.accept()}>
              <Tx s={t('ui.call.accept')} />
            </button>
            <button type="button" class="danger" data-testid="bar-decline" onClick={() => app.hangup()}>
              <Tx s={t('ui.call.decline')} />
            </button>
          </>
        ) : live ? (
          <>
            <button type="button" class="secondary" aria-pressed={call.muted} data-testid="bar-mute" onClick={() => app.mute(!call.muted)}>
              <Tx s={call.muted ? t('ui.call.unmute') : t('ui.call.mute')} />
            </button>
            <button type="button" class="danger" data-testid="bar-hangup" onClick={() => app.hangup()}>
              <Tx s={t('ui.call.hangup')} />
            </button>
          </>
        ) : (
          <button type="button" class="secondary" data-testid="bar-close" onClick={() => app.close()}>
            <Tx s={t('page.close')} />
          </button>
        )}
      </div>
    </div>
  );
}
