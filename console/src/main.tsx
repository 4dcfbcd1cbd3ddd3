import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, messageOf, type Session, setCsrfToken, whenSessionEnds } from './api.ts';
import { ApiKeysPage } from './pages/api-keys.tsx';
import { AuditLogPage } from './pages/audit-log.tsx';
import { AccountSecuredPage, ChangePasswordPage, ForgotPasswordPage, InvitePage, ResetPasswordPage, SignInPage } from './pages/account.tsx';
import { useAction } from './load.tsx';
import { MembersPage } from './pages/members.tsx';
import { SettingsPage } from './pages/settings.tsx';
import { WebhooksPage } from './pages/webhooks.tsx';
import './styles.css';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return hash;
}

const SECTIONS = [
  ['keys', 'API keys'], ['members', 'Members'], ['webhooks', 'Webhooks'], ['audit', 'Audit log'], ['settings', 'Settings'],
] as const;
type Section = (typeof SECTIONS)[number][0];

const TENANT_PAGE = /^#\/t\/([a-z0-9-]+)\/(keys|members|webhooks|audit|settings)$/;

/** Whether a hash is no page of its own (the start, a sign-in leftover): the first tenant's keys are shown. */
function landsOnTenant(hash: string): boolean {
  return !TENANT_PAGE.test(hash) && hash !== '#/password' && hash !== '#/account-secured' && !hash.startsWith('#/invite/')
    && hash !== '#/forgot' && !hash.startsWith('#/reset/');
}

function App() {
  const hash = useHash();
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [failure, setFailure] = useState('');
  const [ended, setEnded] = useState(false);
  // The one-time password just typed at sign-in, until it is replaced: the next page does not ask for it again.
  const [oneTimePassword, setOneTimePassword] = useState<string | undefined>(undefined);
  const adopt = (s: Session | null) => {
    if (s) setCsrfToken(s.csrfToken);
    setSession(s);
  };
  const fetchSession = () => {
    setFailure('');
    // A 401 (no session) needs nothing here: whenSessionEnds below shows the sign-in page.
    call<Session>('GET', '/session').then(({ data }) => adopt(data), (e: unknown) => {
      if (!(e instanceof ApiError && e.status === 401)) setFailure(messageOf(e));
    });
  };

  useEffect(() => {
    // The one path back to sign-in, whichever page's call finds the session over.
    whenSessionEnds(() => {
      setSession((current) => {
        if (current) setEnded(true);
        return null;
      });
    });
    fetchSession();
  }, []);

  // A signed-in person on no page goes to their first tenant's keys: as an effect, never during render.
  useEffect(() => {
    const first = session?.memberships[0];
    if (first && !session.mustChangePassword && landsOnTenant(hash)) location.replace(`#/t/${first.tenant}/keys`);
  }, [hash, session]);

  const invite = /^#\/invite\/([A-Za-z0-9_-]+)$/.exec(hash);
  if (invite) return <InvitePage token={invite[1]!} session={session} onSignedIn={adopt} />;
  const reset = /^#\/reset\/([A-Za-z0-9_-]+)$/.exec(hash);
  if (reset) return <ResetPasswordPage token={reset[1]!} />;
  if (hash === '#/forgot' && !session) return <ForgotPasswordPage />;
  if (session === undefined && failure) {
    return (
      <main class="narrow" id="main">
        <p class="error" role="alert">Could not reach Kupe: {failure}</p>
        <button type="button" onClick={fetchSession}>Retry</button>
      </main>
    );
  }
  if (session === undefined) return <p class="loading" role="status">Loading…</p>;
  if (session === null) {
    return <SignInPage notice={ended ? 'Your session has ended: sign in again.' : undefined} onSignedIn={(s, password) => {
      setEnded(false);
      setOneTimePassword(s.mustChangePassword ? password : undefined);
      adopt(s);
    }} />;
  }
  if (session.mustChangePassword || hash === '#/password') {
    return <ChangePasswordPage session={session} forced={session.mustChangePassword} oneTimePassword={session.mustChangePassword ? oneTimePassword : undefined}
      onChanged={(s) => { setOneTimePassword(undefined); adopt(s); location.hash = ''; }} />;
  }

  if (hash === '#/account-secured') {
    return <Shell session={session} onSignedOut={() => adopt(null)}><AccountSecuredPage session={session} /></Shell>;
  }
  const route = TENANT_PAGE.exec(hash);
  const first = session.memberships[0];
  if (!route) {
    return <Shell session={session} onSignedOut={() => adopt(null)}>
      {first ? <p role="status">Loading…</p> : <p>You are not a member of any tenant yet.</p>}
    </Shell>;
  }
  const tenant = route[1]!;
  const section = route[2] as Section;
  const membership = session.memberships.find((m) => m.tenant === tenant);
  const isAdmin = membership?.role === 'admin';
  const page = !membership
    ? <p>You are not a member of tenant {tenant}.</p>
    : membership.disabled
      ? <p class="error" role="alert">Tenant {tenant} is disabled by the operator: its API keys and members are refused until it is enabled again. Ask your operator.</p>
    : section === 'keys' ? <ApiKeysPage tenant={tenant} isAdmin={isAdmin} />
      : section === 'members' ? <MembersPage tenant={tenant} isAdmin={isAdmin} me={session.email} />
        : section === 'webhooks' ? <WebhooksPage tenant={tenant} isAdmin={isAdmin} />
        : section === 'audit' ? <AuditLogPage tenant={tenant} isAdmin={isAdmin} />
          : <SettingsPage tenant={tenant} isAdmin={isAdmin} />;
  return (
    <Shell session={session} tenant={tenant} section={section} onSignedOut={() => adopt(null)}>
      {page}
    </Shell>
  );
}

const notSignedOut = (err: unknown) => `Not signed out: ${messageOf(err)}`;

function Shell(props: {
  session: Session; tenant?: string; section?: Section; onSignedOut: () => void; children: preact.ComponentChildren;
}) {
  const { session, tenant, section } = props;
  const membership = session.memberships.find((m) => m.tenant === tenant);
  // Still signed in on the server when this fails: say so (a 401 means it had ended already, and sign-in shows).
  const { error: signOutError, run } = useAction(notSignedOut);
  const signOut = () => run(async () => {
    await call('DELETE', '/session');
    props.onSignedOut();
  });
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
      <header class="top">
        <span class="brand">Kupe</span>
        {session.memberships.length > 1 && tenant && (
          <label class="tenant-pick">
            Tenant{' '}
            <select value={tenant} onChange={(e) => { location.hash = `#/t/${e.currentTarget.value}/${section ?? 'keys'}`; }}>
              {session.memberships.map((m) => <option key={m.tenant} value={m.tenant}>{m.tenant}{m.disabled ? ' (disabled)' : ''}</option>)}
            </select>
          </label>
        )}
        {session.memberships.length === 1 && tenant && <span class="tenant-name">{tenant}</span>}
        {membership?.viaProvider && (
          <span class="via-provider" title="This membership comes from your groups at the identity provider; it is managed there">
            {membership.role} through your identity provider's groups
          </span>
        )}
        <nav aria-label="Sections">
          <ul>
            {tenant && SECTIONS.map(([id, label]) => (
              <li key={id}><a href={`#/t/${tenant}/${id}`} aria-current={id === section ? 'page' : undefined}>{label}</a></li>
            ))}
          </ul>
        </nav>
        <span class="me">
          {session.email}
          {session.signedInWith === 'password' && <a href="#/password">Change password</a>}
          <button type="button" class="link" onClick={() => void signOut()}>Sign out</button>
        </span>
      </header>
      {signOutError && <p class="error" role="alert">{signOutError}</p>}
      <main id="main" tabIndex={-1}>{props.children}</main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
