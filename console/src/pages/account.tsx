import { useEffect, useState } from 'preact/hooks';
import { call, type Session, type SignInMethods, messageOf } from '../api.ts';
import { Loaded, useLoad } from '../load.tsx';
import { ErrorText } from '../ui.tsx';

/** A failed sign-in through the identity provider comes back as `#/sign-in?error=...`. */
function providerError(): string {
  const match = /^#\/sign-in\?error=(.*)$/.exec(location.hash);
  if (!match) return '';
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return 'sign-in failed';
  }
}

export function SignInPage(props: { onSignedIn: (s: Session) => void; notice?: string }) {
  const [error, setError] = useState('');
  const [fromProvider] = useState(providerError);
  const methods = useLoad(() => call<SignInMethods>('GET', '/sign-in-methods').then((r) => r.data), []);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    try {
      const { data } = await call<Session>('POST', '/session', { email: form.get('email'), password: form.get('password') });
      props.onSignedIn(data);
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <main class="narrow" id="main">
      <h1>Sign in to Kupe</h1>
      {props.notice && <p class="notice" role="status">{props.notice}</p>}
      <ErrorText text={fromProvider} />
      <Loaded state={methods} what="the sign-in methods">
        {(m) => (
          <>
            {m.provider && <p><a class="button" href={m.provider.url}>Sign in with {m.provider.name}</a></p>}
            {m.password && (
              <form onSubmit={(e) => void submit(e)}>
                {m.provider && <p>Or with your Kupe password:</p>}
                <label>Email <input name="email" type="email" autocomplete="username" required /></label>
                <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
                <ErrorText text={error} />
                <button type="submit">Sign in</button>
              </form>
            )}
          </>
        )}
      </Loaded>
    </main>
  );
}

export function ChangePasswordPage(props: { session: Session; forced: boolean; onChanged: (s: Session) => void }) {
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    if (form.get('newPassword') !== form.get('confirm')) {
      setError('the two new passwords differ');
      return;
    }
    try {
      const { data } = await call<Session>('POST', '/session/password', {
        currentPassword: form.get('currentPassword'), newPassword: form.get('newPassword'),
      });
      props.onChanged(data);
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <main class="narrow" id="main">
      <h1>Choose a new password</h1>
      {props.forced
        ? <p>You signed in with a one-time password. Choose your own before going on.</p>
        : <p>Changing your password signs you out everywhere else.</p>}
      <form onSubmit={(e) => void submit(e)}>
        <input type="hidden" name="username" value={props.session.email} autocomplete="username" />
        <label>{props.forced ? 'One-time password' : 'Current password'}
          <input name="currentPassword" type="password" autocomplete="current-password" required />
        </label>
        <label>New password (at least 12 characters)
          <input name="newPassword" type="password" autocomplete="new-password" minLength={12} required />
        </label>
        <label>New password again <input name="confirm" type="password" autocomplete="new-password" required /></label>
        <ErrorText text={error} />
        <button type="submit">Save password</button>
      </form>
    </main>
  );
}

/**
 * An invite link: someone new chooses a password; someone signed in to the
 * invited account joins with one click; anyone else is told to sign in first.
 */
export function InvitePage(props: { token: string; session: Session | null | undefined; onSignedIn: (s: Session) => void }) {
  const [invite, setInvite] = useState<{ email: string; tenant: string } | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    call<{ email: string; tenant: string }>('GET', `/invites/${props.token}`)
      .then(({ data }) => setInvite(data), (err: unknown) => setError(messageOf(err)));
  }, [props.token]);
  const join = async () => {
    try {
      const { data } = await call<Session>('POST', `/invites/${props.token}/join`);
      location.hash = '';
      props.onSignedIn(data);
    } catch (err) {
      setError(messageOf(err));
    }
  };
  if (invite && props.session?.email === invite.email) {
    return (
      <main class="narrow" id="main">
        <h1>Join {invite.tenant}</h1>
        <p>You were added to tenant <strong>{invite.tenant}</strong> as <strong>{invite.email}</strong>.</p>
        <ErrorText text={error} />
        <button type="button" onClick={() => void join()}>Join {invite.tenant}</button>
      </main>
    );
  }
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    try {
      const { data } = await call<Session>('POST', `/invites/${props.token}/accept`, { password: form.get('password') });
      location.hash = '';
      props.onSignedIn(data);
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <main class="narrow" id="main">
      <h1>Join Kupe</h1>
      {invite ? (
        <form onSubmit={(e) => void submit(e)}>
          <p>You were added to tenant <strong>{invite.tenant}</strong> as <strong>{invite.email}</strong>. Choose a password.</p>
          <input type="hidden" name="username" value={invite.email} autocomplete="username" />
          <label>Password (at least 12 characters)
            <input name="password" type="password" autocomplete="new-password" minLength={12} required />
          </label>
          <ErrorText text={error} />
          <button type="submit">Set password and sign in</button>
          <p class="hint">Already have a Kupe account as {invite.email}? <a href="#">Sign in</a>, then open this link again to join.</p>
        </form>
      ) : <ErrorText text={error} />}
    </main>
  );
}
