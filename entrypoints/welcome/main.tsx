// The first-run page (issue 12): wiring only (components/welcome).
import { render } from 'preact';
import { Welcome } from '@/components/welcome/Welcome';
import { t, uiLang } from '@/lib/i18n/messages';
import '@/components/popup.css';
import '@/components/permission/pages.css';

document.documentElement.lang = uiLang();
document.title = t('welcome.title');
render(<Welcome />, document.getElementById('app')!);
