import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, type ApiClient } from '../api/client.js';
import type { LoginAnswer } from '../api/types.js';
import { LanguageSwitch } from '../ui/LanguageSwitch.js';

export function LoginPage({ client, onLogin }: { client: ApiClient; onLogin: (answer: LoginAnswer) => void }) {
  const { t } = useTranslation();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onLogin(await client.login(username.trim(), password));
    } catch (failure) {
      const status = failure instanceof ApiError ? failure.status : 0;
      setError(t(status === 401 ? 'login.badCredentials' : status === 429 ? 'login.tooMany' : status === 0 ? 'login.unreachable' : 'login.failed'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form className="login-card" onSubmit={(event) => void submit(event)} aria-labelledby="login-title">
        <div className="login-top">
          <h1 id="login-title">{t('app.title')}</h1>
          <LanguageSwitch />
        </div>
        <p className="login-city">{t('app.city')}</p>
        <label>
          {t('login.username')}
          <input name="username" autoComplete="username" value={username} onChange={(event) => setUsername(event.target.value)} required autoFocus />
        </label>
        <label>
          {t('login.password')}
          <input name="password" type="password" autoComplete="current-password" value={password} onChange={(event) => setPassword(event.target.value)} required />
        </label>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {t(busy ? 'login.signingIn' : 'login.submit')}
        </button>
      </form>
    </main>
  );
}
