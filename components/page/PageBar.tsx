import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { PageIntegration } from '@/lib/page-api/content';
import type { PageCallView } from '@/lib/messaging/protocol';
import { formatDuration, useTick } from '@/lib/ui/client';
import { t, tf } from '@/lib/i18n/messages';

/**
 * The in-page call bar, rendered inside a closed shadow root by the content
 * script: a status display for a call THIS tab started (peer, timer, state,
 * path) with mute and hang up as shortcuts, and a broken Hush link's message.
 * Never a place where consent is given or a call accepted (issue 13): those
 * live in Hush's own window and popup, which a page cannot draw over.
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
  // Subscribed in a layout effect (run as the render commits, before page-bar.js starts the app), and
  // rendered once more after: a plain effect runs a frame later, and a change in between (a broken
  // link's message arrives ~3 ms after the click) was never rendered — the bar stayed empty.
  useLayoutEffect(() => {
    const off = app.subscribe(() => setN((n) => n + 1));
    setN((n) => n + 1);
    return off;
  }, [app]);
  const { error, view } = app.state;
  if (!app.visible) return null;
  return (
    <section class="hush-bar" role="region" aria-label={t('page.region')} data-testid="bar">
      <p class="brand" aria-hidden="true">
        <Tx s="Hush" />
      </p>
      {error !== null ? <ErrorView app={app} message={error} /> : view?.call ? <CallView app={app} call={view.call} /> : null}
    </section>
  );
}

/** A broken Hush link: says so, with Close (or Escape: the key never reaches the page, shadow-host.ts). */
function ErrorView({ app, message }: { app: PageIntegration; message: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => box.current?.focus(), [message]);
  useEffect(() => {
    const el = box.current;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      app.close();
    };
    el?.addEventListener('keydown', onKey);
    return () => el?.removeEventListener('keydown', onKey);
  }, [message]);
  return (
    <div role="alertdialog" aria-labelledby="hush-q" tabIndex={-1} ref={box} data-testid="bar-prompt" data-kind="error">
      <p id="hush-q" class="error">
        <Tx s={tf('page.badLink', { message })} />
      </p>
      <div class="actions">
        <button type="button" class="secondary" data-testid="bar-close" onClick={() => app.close()}>
          <Tx s={t('page.close')} />
        </button>
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
        {live && <Tx s={` · ${t(`ui.call.path.${call.path}`)}`} data-testid="bar-path" data-path={call.path} />}
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
        {live ? (
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
