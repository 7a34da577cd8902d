import { render } from 'preact';
import { Popup } from '@/components/Popup';
import { PageConsent } from '@/components/page/PageConsent';
import '@/components/popup.css';

// popup.html#consent=<token>: the consent window the background opens for a page's call request.
const consent = /^#consent=([0-9a-f]{32})$/.exec(location.hash)?.[1];
render(consent ? <PageConsent token={consent} /> : <Popup />, document.getElementById('app')!);
// The background points an open consent window at the next request by changing the hash.
window.addEventListener('hashchange', () => location.reload());
