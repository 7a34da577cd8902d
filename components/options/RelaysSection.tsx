import { useState } from 'preact/hooks';
import type { AppView } from '@/lib/messaging/view';
import type { RelayTestResult } from '@/lib/messaging/protocol';
import { request } from '@/lib/ui/client';
import { errorText, t, tf } from '@/lib/i18n/messages';
import { isManaged, ManagedNote } from './ManagedNote';

const RELAY_RE = /^wss?:\/\/[^\s]+$/;

/** Relay servers: tried in order; add, test reachability (from the background), use first, remove. */
export function RelaysSection({ view }: { view: AppView }) {
  const relays = view.settings.relays;
  const locked = isManaged(view, 'relays');
  const [url, setUrl] = useState('');
  const [error, setError] = useState('');
  const [tests, setTests] = useState<Record<string, RelayTestResult | 'testing'>>({});
  const save = (next: string[]) =>
    request('update-settings', { settings: { relays: next } }).then(
      () => setError(''),
      (e: unknown) => setError(errorText(e)),
    );
  const add = async (e: Event) => {
    e.preventDefault();
    const u = url.trim();
    if (!RELAY_RE.test(u)) return setError(tf('err.relay.invalid', { url: u }));
    if (!relays.includes(u)) await save([...relays, u]);
    setUrl('');
  };
  const test = async (u: string) => {
    setTests((s) => ({ ...s, [u]: 'testing' }));
    const r = await request<RelayTestResult>('test-relay', { url: u }).catch((): RelayTestResult => ({ url: u, reachable: false }));
    setTests((s) => ({ ...s, [u]: r }));
  };
  const useFirst = (u: string) => save([u, ...relays.filter((x) => x !== u)]);
  const remove = (u: string) => (relays.length <= 1 ? setError(t('err.relay.last')) : save(relays.filter((x) => x !== u)));
  return (
    <section class="card" aria-labelledby="relays-h">
      <h2 id="relays-h">{t('opt.relays')}</h2>
      <p class="muted small">{t('opt.relays.help')}</p>
      {locked && <ManagedNote id="relays-managed" />}
      <ol class="list">
        {relays.map((u, i) => {
          const r = tests[u];
          return (
            <li key={u} data-testid="relay" data-url={u}>
              <code class="grow">{u}</code>
              {view.relay.state === 'online' && view.relay.url === u && <span class="badge ok">{t('opt.relays.inUse')}</span>}
              {r && (
                <span
                  class={`small ${r !== 'testing' && r.reachable ? 'ok' : r === 'testing' ? 'muted' : 'error-text'}`}
                  data-testid="relay-result"
                  data-reachable={r === 'testing' ? undefined : String(r.reachable)}
                  role="status"
                >
                  {r === 'testing' ? t('opt.relays.testing') : r.reachable ? tf('opt.relays.reachable', { ms: r.latencyMs ?? 0 }) : t('opt.relays.unreachable')}
                </span>
              )}
              <span class="buttons">
                <button type="button" class="secondary" data-testid="relay-test" aria-label={tf('opt.relays.testOf', { url: u })} onClick={() => void test(u)}>
                  {t('opt.relays.test')}
                </button>
                {i > 0 && !locked && (
                  <button type="button" class="secondary" data-testid="relay-use" aria-label={tf('opt.relays.useOf', { url: u })} onClick={() => void useFirst(u)}>
                    {t('opt.relays.use')}
                  </button>
                )}
                {!locked && (
                  <button
                    type="button"
                    class="secondary"
                    data-testid="relay-remove"
                    aria-label={tf('opt.relays.removeOf', { url: u })}
                    disabled={relays.length <= 1}
                    onClick={() => void remove(u)}
                  >
                    {t('opt.relays.remove')}
                  </button>
                )}
              </span>
            </li>
          );
        })}
      </ol>
      {!locked && (
      <form onSubmit={add}>
        <label for="relay-url">{t('opt.relays.url')}</label>
        <div class="row">
        <input
          id="relay-url"
          data-testid="relay-url"
          value={url}
          placeholder="wss://relay.example/signal"
          spellcheck={false}
          autocomplete="off"
          aria-describedby={error ? 'relay-error' : undefined}
          onInput={(e) => setUrl((e.target as HTMLInputElement).value)}
        />
        <button type="submit" data-testid="relay-add" disabled={!url.trim()}>
          {t('opt.relays.add')}
        </button>
        </div>
      </form>
      )}
      {error && (
        <p id="relay-error" class="error" role="alert" data-testid="relay-error">
          {error}
        </p>
      )}
    </section>
  );
}
