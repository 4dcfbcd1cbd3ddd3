import { useEffect, useState } from 'preact/hooks';
import { call, type Session, type SignInMethods, messageOf } from '../api.ts';
import { Loaded, useAction, useLoad } from '../load.tsx';
import { SIGN_IN_FAILURES, type SignInFailure } from '../../../src/domain/vocabulary.ts';
import { ErrorText } from '../ui.tsx';

/**
 * A failed sign-in through the identity provider comes back as `#/sign-in?error=CODE`. Only the catalogue's
 * messages are shown: a link that carries any other text shows the general one, never that text.
 */
function providerError(): string {
  const match = /^#\/sign-in\?error=(.*)$/.exec(location.hash);
  if (!match) return '';
  const code = match[1]!;
  return Object.hasOwn(SIGN_IN_FAILURES, code) ? SIGN_IN_FAILURES[code as SignInFailure] : SIGN_IN_FAILURES.sign_in_failed;
}

/** `password`: what was typed, for the page that replaces a one-time password (it asks for it no second time). */
export function SignInPage(props: { onSignedIn: (s: Session, password: string) => void; notice?: string }) {
  const { error, run } = useAction();
  const [fromProvider] = useState(providerError);
  const methods = useLoad(() => call<SignInMethods>('GET', '/sign-in-methods').then((r) => r.data), []);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    await run(async () => {
      const typed = form.get('password');
      const password = typeof typed === 'string' ? typed : '';
      const { data } = await call<Session>('POST', '/session', { email: form.get('email'), password });
      props.onSignedIn(data, password);
    });
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
                {m.email && <p class="hint"><a href="#/forgot">Forgot password?</a></p>}
              </form>
            )}
          </>
        )}
      </Loaded>
    </main>
  );
}

/** The new password, typed twice: the two fields every password form has. */
function NewPasswordFields() {
  return (
    <>
      <label>New password (at least 12 characters)
        <input name="newPassword" type="password" autocomplete="new-password" minLength={12} required />
      </label>
      <label>New password again <input name="confirm" type="password" autocomplete="new-password" required /></label>
    </>
  );
}

/** The new password of a form with NewPasswordFields, or undefined (and the error shown) when the two differ. */
function newPasswordOf(form: FormData, setError: (message: string) => void): string | undefined {
  const typed = form.get('newPassword');
  if (typeof typed !== 'string' || typed !== form.get('confirm')) {
    setError('the two new passwords differ');
    return undefined;
  }
  return typed;
}

/**
 * A new password. Forced (the one-time password's first sign-in), the one-time password just typed is sent as
 * the current one, so it is not asked for again; after a reload it is not known, and is asked for.
 */
export function ChangePasswordPage(props: { session: Session; forced: boolean; oneTimePassword?: string | undefined; onChanged: (s: Session) => void }) {
  const { error, setError, run } = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const newPassword = newPasswordOf(form, setError);
    if (newPassword === undefined) return;
    await run(async () => {
      const { data } = await call<Session>('POST', '/session/password', {
        currentPassword: props.oneTimePassword ?? form.get('currentPassword'), newPassword,
      });
      props.onChanged(data);
    });
  };
  return (
    <main class="narrow" id="main">
      <h1>Choose a new password</h1>
      {props.forced
        ? <p>You signed in with a one-time password. Choose your own before going on.</p>
        : <p>Changing your password signs you out everywhere else.</p>}
      <form onSubmit={(e) => void submit(e)}>
        <input type="hidden" name="username" value={props.session.email} autocomplete="username" />
        {props.oneTimePassword === undefined && (
          <label>{props.forced ? 'One-time password' : 'Current password'}
            <input name="currentPassword" type="password" autocomplete="current-password" required />
          </label>
        )}
        <NewPasswordFields />
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
  const { error, setError, run } = useAction();
  useEffect(() => {
    call<{ email: string; tenant: string }>('GET', `/invites/${props.token}`)
      .then(({ data }) => setInvite(data), (err: unknown) => setError(messageOf(err)));
  }, [props.token]);
  const join = () => run(async () => {
    const { data } = await call<Session>('POST', `/invites/${props.token}/join`);
    location.hash = '';
    props.onSignedIn(data);
  });
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
    await run(async () => {
      const { data } = await call<Session>('POST', `/invites/${props.token}/accept`, { password: form.get('password') });
      location.hash = '';
      props.onSignedIn(data);
    });
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

/**
 * Where a provider sign-in lands when it voided a password nobody had proven this email for (someone may have
 * chosen it through an invite link before the owner came): what happened, and the tenants to check.
 */
export function AccountSecuredPage(props: { session: Session }) {
  const tenants = props.session.memberships.filter((m) => !m.viaProvider);
  return (
    <section aria-labelledby="secured-title">
      <h1 id="secured-title">Your account was secured</h1>
      <p>
        This account had a Kupe password that was chosen through an invite link before you signed in with your
        identity provider, so nothing proved it was yours. Kupe has removed that password and ended every other
        session of the account: from now on you sign in through your identity provider.
      </p>
      {tenants.length > 0 ? (
        <>
          <p>You are a member of these tenants. If you do not know one, ask its admins to remove you, or tell your operator:</p>
          <ul>{tenants.map((m) => <li key={m.tenant}><a href={`#/t/${m.tenant}/keys`}>{m.tenant}</a> ({m.role})</li>)}</ul>
        </>
      ) : <p>You are not a member of any tenant through Kupe's members lists.</p>}
      <p><a href="#/">Continue</a></p>
    </section>
  );
}

/** "Forgot password?": a link is mailed if the address has an account; the answer is the same either way. */
export function ForgotPasswordPage() {
  const { error, run } = useAction();
  const [sent, setSent] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    await run(async () => {
      const { data } = await call<{ message: string }>('POST', '/password-resets', { email: form.get('email') });
      setSent(data.message);
    });
  };
  return (
    <main class="narrow" id="main">
      <h1>Reset your password</h1>
      {sent ? (
        <>
          <p role="status">{sent}</p>
          <p><a href="#/">Back to sign in</a></p>
        </>
      ) : (
        <form onSubmit={(e) => void submit(e)}>
          <p>Kupe mails a link to reset your password to your account's address.</p>
          <label>Email <input name="email" type="email" autocomplete="username" required /></label>
          <ErrorText text={error} />
          <button type="submit">Mail me a link</button>
          <p class="hint"><a href="#/">Back to sign in</a></p>
        </form>
      )}
    </main>
  );
}

/** A mailed reset link: choose the new password (every session of the account ends), then sign in. */
export function ResetPasswordPage(props: { token: string }) {
  const [reset, setReset] = useState<{ email: string } | null>(null);
  const [done, setDone] = useState(false);
  const { error, setError, run } = useAction();
  useEffect(() => {
    call<{ email: string }>('GET', `/password-resets/${props.token}`)
      .then(({ data }) => setReset(data), (err: unknown) => setError(messageOf(err)));
  }, [props.token]);
  const submit = async (e: Event) => {
    e.preventDefault();
    const password = newPasswordOf(new FormData(e.currentTarget as HTMLFormElement), setError);
    if (password === undefined) return;
    await run(async () => {
      await call('POST', `/password-resets/${props.token}`, { password });
      setDone(true);
    });
  };
  return (
    <main class="narrow" id="main">
      <h1>Choose a new password</h1>
      {done ? (
        <>
          <p role="status">Your password is changed, and every session of the account has ended.</p>
          <p><a href="#/">Sign in</a></p>
        </>
      ) : reset ? (
        <form onSubmit={(e) => void submit(e)}>
          <p>For the Kupe account <strong>{reset.email}</strong>. Saving it signs the account out everywhere.</p>
          <input type="hidden" name="username" value={reset.email} autocomplete="username" />
          <NewPasswordFields />
          <ErrorText text={error} />
          <button type="submit">Save password</button>
        </form>
      ) : <ErrorText text={error} />}
    </main>
  );
}
