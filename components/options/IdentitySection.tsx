import { useState } from 'preact/hooks';
import type { AppView } from '@/lib/messaging/view';
import type { ExportedIdentity } from '@/lib/messaging/protocol';
import { request } from '@/lib/ui/client';
import { saveTextFile } from '@/lib/ui/download';
import { errorText, t, tf } from '@/lib/i18n/messages';
import { IdentityCard } from '../IdentityCard';

/** Your address (with link and QR), export to a passphrase-encrypted file, import from one. */
export function IdentitySection({ view }: { view: AppView }) {
  return (
    <section class="card" aria-labelledby="identity-h" id="identity">
      <h2 id="identity-h">{t('opt.identity')}</h2>
      <IdentityCard address={view.address} bare qrOpen />
      <ExportForm />
      <ImportForm current={view.address} />
    </section>
  );
}

function ExportForm() {
  const [pass, setPass] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    setDone('');
    if (pass !== repeat) return setError(t('opt.export.mismatch'));
    setError('');
    setBusy(true);
    try {
      const file = await request<ExportedIdentity>('export-identity', { passphrase: pass });
      saveTextFile(file.fileName, file.text);
      setPass('');
      setRepeat('');
      setDone(tf('opt.export.done', { file: file.fileName }));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="sub" onSubmit={submit} aria-labelledby="export-h">
      <h3 id="export-h">{t('opt.export.title')}</h3>
      <p class="muted small">{t('opt.export.help')}</p>
      <label for="export-passphrase">{t('opt.export.passphrase')}</label>
      <input id="export-passphrase" type="password" autocomplete="new-password" data-testid="export-passphrase" value={pass} onInput={(e) => setPass((e.target as HTMLInputElement).value)} />
      <label for="export-repeat">{t('opt.export.repeat')}</label>
      <input id="export-repeat" type="password" autocomplete="new-password" data-testid="export-repeat" value={repeat} onInput={(e) => setRepeat((e.target as HTMLInputElement).value)} />
      <button type="submit" data-testid="export-button" disabled={busy || !pass}>
        {busy ? t('opt.export.working') : t('opt.export.button')}
      </button>
      {error && (
        <p class="error" role="alert" data-testid="export-error">
          {error}
        </p>
      )}
      {done && (
        <p class="ok small" role="status" data-testid="export-done">
          {done}
        </p>
      )}
    </form>
  );
}

/** Answer to `inspect-identity-file`; `passphraseOk` when a passphrase was sent and opened the file. */
interface InspectAnswer {
  address: string;
  current: string;
  passphraseOk?: boolean;
}

function ImportForm({ current }: { current: string }) {
  const [text, setText] = useState('');
  const [holds, setHolds] = useState('');
  const [pass, setPass] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [checking, setChecking] = useState(false);
  const [verified, setVerified] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState('');
  const pick = async (e: Event) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    setError('');
    setDone('');
    setHolds('');
    setConfirming(false);
    setVerified(false);
    if (!file) return;
    try {
      const content = await file.text();
      const r = await request<{ address: string }>('inspect-identity-file', { text: content });
      setText(content);
      setHolds(r.address);
    } catch (err) {
      setError(errorText(err));
    }
  };
  /**
   * Step 3 of 4 (file → passphrase → checked → confirm replace): open the file with the
   * passphrase in the background before asking "Replace your identity?", so a wrong
   * passphrase is said at once and the question is only asked about a file that opens.
   * The background answers `passphraseOk: true` once it checks (issue 18); an older one
   * ignores the passphrase, and the check then happens at the replace step as before.
   */
  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    setVerified(false);
    setChecking(true);
    try {
      const body = { text, passphrase: pass };
      const r = await request<InspectAnswer>('inspect-identity-file', body);
      if (r.passphraseOk === true) setVerified(true);
      setConfirming(true);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setChecking(false);
    }
  };
  const replace = async () => {
    setBusy(true);
    setError('');
    try {
      const r = await request<{ address: string }>('import-identity', { text, passphrase: pass });
      setDone(tf('opt.import.done', { address: r.address }));
      setPass('');
      setHolds('');
      setText('');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };
  return (
    <form class="sub" onSubmit={(e) => void submit(e)} aria-labelledby="import-h">
      <h3 id="import-h">{t('opt.import.title')}</h3>
      <p class="muted small">{t('opt.import.help')}</p>
      <label for="import-file">{t('opt.import.file')}</label>
      <input id="import-file" type="file" accept=".json,application/json" data-testid="import-file" onChange={(e) => void pick(e)} />
      {holds && (
        <>
          <p class="small" data-testid="import-holds">
            {tf('opt.import.holds', { address: holds })}
          </p>
          <label for="import-passphrase">{t('opt.import.passphrase')}</label>
          <input
            id="import-passphrase"
            type="password"
            autocomplete="off"
            data-testid="import-passphrase"
            value={pass}
            onInput={(e) => {
              setPass((e.target as HTMLInputElement).value);
              setConfirming(false);
              setVerified(false);
            }}
          />
          {!confirming && (
            <button type="submit" data-testid="import-button" disabled={!pass || checking}>
              {checking ? t('opt.import.checking') : t('opt.import.check')}
            </button>
          )}
        </>
      )}
      {verified && (
        <p class="ok small" role="status" data-testid="import-verified">
          ✓ {t('opt.import.verified')}
        </p>
      )}
      {confirming && (
        <div class="confirm" role="alertdialog" aria-labelledby="import-confirm-text">
          <p id="import-confirm-text" data-testid="import-confirm">
            {tf('opt.import.confirm', { current, imported: holds })}
          </p>
          <div class="row">
            <button type="button" class="danger" data-testid="import-replace" disabled={busy} onClick={() => void replace()}>
              {busy ? t('opt.import.working') : t('opt.import.replace')}
            </button>
            <button type="button" class="secondary" data-testid="import-cancel" disabled={busy} onClick={() => setConfirming(false)}>
              {t('opt.import.cancel')}
            </button>
          </div>
        </div>
      )}
      {error && (
        <p class="error" role="alert" data-testid="import-error">
          {error}
        </p>
      )}
      {done && (
        <p class="ok small" role="status" data-testid="import-done">
          {done}
        </p>
      )}
    </form>
  );
}
