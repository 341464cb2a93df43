import { useMemo, useState } from 'react';
import { ApiClient } from './api/client.js';
import type { LoginAnswer } from './api/types.js';
import { LoginPage } from './auth/LoginPage.js';
import { clearSession, loadSession, saveSession, type Session } from './auth/session.js';
import type { ConsoleConfig } from './config.js';
import { Console } from './ui/Console.js';

export function App({ config, baseUrl = '' }: { config: ConsoleConfig; baseUrl?: string }) {
  const [session, setSession] = useState<Session | undefined>(() => loadSession());
  // A 401 anywhere means the session ended (expired, revoked, logged out elsewhere): back to the login page.
  const client = useMemo(
    () =>
      new ApiClient(baseUrl, () => {
        clearSession();
        setSession(undefined);
      }),
    [baseUrl],
  );
  client.setToken(session?.token);

  if (!session) {
    return <LoginPage client={client} onLogin={(answer: LoginAnswer) => setSession(saveSession(answer))} />;
  }
  return (
    <Console
      key={session.token}
      client={client}
      user={session.user}
      styleUrl={config.mapStyleUrl}
      onLogout={() => {
        clearSession();
        setSession(undefined);
      }}
    />
  );
}
