// The microphone permission window (issue 12): wiring only (components/permission).
import { render } from 'preact';
import { PermissionPage } from '@/components/permission/PermissionPage';
import { t, uiLang } from '@/lib/i18n/messages';
import '@/components/popup.css';
import '@/components/permission/pages.css';

document.documentElement.lang = uiLang();
document.title = t('perm.title');
render(<PermissionPage />, document.getElementById('app')!);
