import { useEffect, useState } from 'preact/hooks';
import { request } from '@/lib/ui/client';
import { aboutToDial } from '@/lib/ui/about-to-dial';
import { t, tf } from '@/lib/i18n/messages';
import type { ConsentView } from '@/lib/page-api/bridge';

/**
 * The consent window (issue 13): popup.html#consent=<token>, opened by the
 * background in a window of its own (lib/page-api/consent.ts) when a page or
 * a Hush link asks for a call. The only place such a call is allowed: a page
 * cannot draw over this window, read it, or send it clicks or keys. Fixed
 * size (the window's and this box's): a contact name and a raw address take
 * the same room. "Always" only for https pages, for this address only.
 */
export function PageConsent({ token }: { token: string }) {
  const [c, setC] = useState<ConsentView | null | undefined>(undefined);
  useEffect(() => {
    void request<ConsentView | null>('page-consent', { token }).then((v) => {
      setC(v);
      if (v) aboutToDial(); // the person is asked to call: a "yes" starts the call without waiting for the media host
    }, () => setC(null));
  }, [token]);
  const answer = async (a: 'once' | 'always' | 'deny') => {
    await request('page-consent-answer', { token, answer: a }).catch(() => {});
    window.close();
  };
  if (c === undefined) return <main class="consent" />;
  if (c === null)
    return (
      <main class="consent" data-testid="consent-gone">
        <p>{t('page.cancel')}</p>
      </main>
    );
  const who = c.name ?? c.address;
  const text = c.via === 'link' ? tf('page.confirm', { who }) : tf('page.request', { origin: c.origin, who });
  return (
    <main class="consent" data-testid="consent" data-via={c.via} style={{ width: '360px', height: '300px', overflow: 'hidden', padding: '16px', boxSizing: 'border-box' }}>
      <p data-testid="consent-question" style={{ height: '150px', overflow: 'auto', overflowWrap: 'anywhere', margin: 0 }}>
        {text}
      </p>
      <div class="actions" style={{ display: 'flex', flexWrap: 'wrap', gap: '8px', marginTop: '16px' }}>
        <button type="button" class="go" data-testid="consent-once" onClick={() => void answer('once')}>
          {c.via === 'link' ? t('page.call') : t('page.allowOnce')}
        </button>
        {c.canAlways && (
          <button type="button" class="secondary" data-testid="consent-always" onClick={() => void answer('always')}>
            {t('page.allowAlways')}
          </button>
        )}
        <button type="button" class="danger" data-testid="consent-deny" onClick={() => void answer('deny')}>
          {t('page.deny')}
        </button>
      </div>
    </main>
  );
}
