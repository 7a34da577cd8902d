/**
 * The contact page (issue 18): `GET /c` on the signal port, for contact
 * links `https://relay.example/c#hush1…@relay.example` (lib/contacts/link.ts).
 *
 * A person without Hush who opens such a link reads "To call this person,
 * install Hush" (English or French, by navigator.language) with where to get
 * it (the operator's `contactInstallUrl`, or a sentence naming the Chrome Web
 * Store and Firefox Add-ons) and the card to copy. With Hush installed, its
 * content script handles a click on a contact link, and the page's own "Call
 * with Hush" link is one (lib/page-api/loader.ts): the page never knows
 * whether Hush is there.
 *
 * The card is in the fragment, which browsers never send: the relay never
 * learns whom the page is about. The page is the same bytes for everyone; a
 * same-origin script (`/c.js`) copies the fragment into the page as text and
 * picks the language. Nothing is logged. Headers: a CSP allowing nothing but
 * that script and inline style, no referrer, nosniff, no framing.
 */
import type http from 'node:http';

export interface ContactPageOptions {
  /** Where to install Hush (https URL); null: a sentence naming the stores. */
  installUrl: string | null;
}

export const CONTACT_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cache-control': 'public, max-age=3600',
};

const SCRIPT = `(function () {
  var h = location.hash.slice(1);
  try { h = decodeURIComponent(h); } catch (e) {}
  h = h.replace(/^web\\+hush:(\\/\\/)?/i, '').slice(0, 400);
  var fr = /^fr\\b/i.test(navigator.language || '');
  document.documentElement.lang = fr ? 'fr' : 'en';
  var blocks = document.querySelectorAll('[data-lang]');
  for (var i = 0; i < blocks.length; i++) blocks[i].hidden = blocks[i].getAttribute('data-lang') !== (fr ? 'fr' : 'en');
  var cards = document.querySelectorAll('.card');
  for (var j = 0; j < cards.length; j++) cards[j].textContent = h || '—';
  var calls = document.querySelectorAll('a.call');
  for (var k = 0; k < calls.length; k++) { if (h) calls[k].href = location.href; else calls[k].hidden = true; }
})();
`;

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const TEXT = {
  en: {
    title: 'Call with Hush',
    lead: 'To call this person, install Hush.',
    what: 'Hush is a browser extension for end-to-end-encrypted voice calls.',
    install: 'Install Hush',
    stores: 'Install Hush from the Chrome Web Store or from Firefox Add-ons (addons.mozilla.org): search for “Hush”.',
    card: 'Their Hush contact card (paste it into Hush to call):',
    call: 'Hush is installed? Call this person',
  },
  fr: {
    title: 'Appeler avec Hush',
    lead: 'Pour appeler cette personne, installez Hush.',
    what: 'Hush est une extension de navigateur pour des appels vocaux chiffrés de bout en bout.',
    install: 'Installer Hush',
    stores: 'Installez Hush depuis le Chrome Web Store ou les modules complémentaires de Firefox (addons.mozilla.org) : cherchez « Hush ».',
    card: 'Sa carte de contact Hush (collez-la dans Hush pour appeler) :',
    call: 'Hush est installé ? Appeler cette personne',
  },
};

export function contactPageHtml(o: ContactPageOptions): string {
  const block = (lang: 'en' | 'fr') => {
    const t = TEXT[lang];
    const install = o.installUrl ? `<p><a href="${esc(o.installUrl)}" rel="noreferrer">${t.install}</a></p>` : `<p>${t.stores}</p>`;
    return `<main data-lang="${lang}"${lang === 'en' ? '' : ' hidden'}>
<h1>${t.lead}</h1>
<p>${t.what}</p>
${install}
<p>${t.card}</p>
<p><code class="card">—</code></p>
<p><a class="call" href="">${t.call}</a></p>
</main>`;
  };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${TEXT.en.title}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36em;margin:2em auto;padding:0 1em;color:#222;background:#fff}code{display:block;padding:.5em;background:#f3f3f3;word-break:break-all;user-select:all}@media(prefers-color-scheme:dark){body{color:#eee;background:#111}code{background:#222}a{color:#8cf}}</style>
<script src="/c.js" defer></script>
</head><body>
${block('en')}
${block('fr')}
</body></html>
`;
}

/** Answer GET/HEAD /c and /c.js; false for anything else (the caller answers it). Logs nothing. */
export function serveContactPage(req: http.IncomingMessage, res: http.ServerResponse, o: ContactPageOptions): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/c') {
    res.writeHead(200, { ...CONTACT_PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : contactPageHtml(o));
    return true;
  }
  if (path === '/c.js') {
    res.writeHead(200, { ...CONTACT_PAGE_HEADERS, 'content-type': 'text/javascript; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : SCRIPT);
    return true;
  }
  return false;
}
