import { useState } from 'preact/hooks';
import { call, type Member, type NewMember, type SignInMethods, tenantPath } from '../api.ts';
import { Loaded, useAction, useLoad } from '../load.tsx';
import { CopyButton, Dialog, ErrorText } from '../ui.tsx';
import { formatTime } from '../format.ts';

export function MembersPage(props: { tenant: string; isAdmin: boolean; me: string }) {
  const { tenant, isAdmin } = props;
  const members = useLoad(async () => (await call<{ items: Member[] }>('GET', `${tenantPath(tenant)}/members`)).data.items, [tenant]);
  const action = useAction();
  const { error } = action;
  const [invite, setInvite] = useState<NewMember | null>(null);
  const [removing, setRemoving] = useState<Member | null>(null);
  // With email on, invites are mailed to the member: the button sends the link again instead of showing one.
  const methods = useLoad(async () => (await call<SignInMethods>('GET', '/sign-in-methods')).data, []);
  const mailed = methods.data?.email === true;

  /** An action, then the list again (whatever the action's outcome: another admin may have changed it). */
  const run = async (act: () => Promise<unknown>) => {
    await action.run(act);
    await members.reload();
  };

  const admins = (members.data ?? []).filter((m) => m.role === 'admin' && !m.pending).length;
  const add = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    void run(async () => {
      const { data: added } = await call<NewMember>('POST', `${tenantPath(tenant)}/members`, { email: data.get('email'), role: data.get('role') });
      form.reset();
      setInvite(added);
    });
  };
  return (
    <>
      <h1>Members</h1>
      <p class="hint">
        People who can sign in to this tenant. <strong>admin</strong> manages members, API keys and settings; <strong>readonly</strong> only reads.
        A tenant always keeps at least one admin, so the last admin can be neither demoted nor removed: promote someone else first.
        {isAdmin && ' You cannot remove yourself; another admin can.'}
        {' '}A new member is <strong>pending</strong> until they accept their invite link, and has no access until then.
      </p>
      <ErrorText text={error} />
      <Loaded state={members} what="the members">{(list) => (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Members of {tenant}</caption>
            <thead><tr><th scope="col">Email</th><th scope="col">Role</th>{isAdmin && <th scope="col"><span class="visually-hidden">Actions</span></th>}</tr></thead>
            <tbody>
              {list.map((m) => {
                const lastAdmin = m.role === 'admin' && !m.pending && admins === 1;
                return (
                  <tr key={m.email}>
                    <th scope="row">{m.email}{m.email === props.me && ' (you)'}{m.pending && <> <span class="badge warn">pending</span></>}</th>
                    <td>
                      {isAdmin ? (
                        <select aria-label={`Role of ${m.email}`} value={m.role} disabled={lastAdmin}
                          onChange={(e) => { const role = e.currentTarget.value; void run(() => call('PATCH', `${tenantPath(tenant)}/members/${encodeURIComponent(m.email)}`, { role })); }}>
                          <option value="admin">admin</option>
                          <option value="readonly">readonly</option>
                        </select>
                      ) : m.role}
                      {isAdmin && lastAdmin && <span class="note"> the only admin</span>}
                    </td>
                    {isAdmin && (
                      <td class="actions">
                        {m.pending && (
                          <button type="button" class="secondary" aria-label={`${mailed ? 'Send the invite again to' : 'New invite link for'} ${m.email}`}
                            onClick={() => void run(async () => {
                              const { data } = await call<NewMember['invite']>('POST', `${tenantPath(tenant)}/members/${encodeURIComponent(m.email)}/invite`);
                              setInvite({ ...m, invite: data });
                            })}>{mailed ? 'Send again' : 'New invite link'}</button>
                        )}
                        {m.email !== props.me && !lastAdmin &&
                          <button type="button" class="danger" onClick={() => setRemoving(m)} aria-label={`Remove ${m.email}`}>Remove</button>}
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}</Loaded>
      {isAdmin && (
        <form class="row-form" onSubmit={add}>
          <h2>Add a member</h2>
          <label>Email <input name="email" type="email" required /></label>
          <label>Role <select name="role" defaultValue="readonly"><option value="readonly">readonly</option><option value="admin">admin</option></select></label>
          <button type="submit">Add member</button>
        </form>
      )}
      {invite?.invite.emailedTo !== undefined && (
        <Dialog title="Invite sent" onClose={() => setInvite(null)}>
          <p>Kupe mailed <strong>{invite.invite.emailedTo}</strong> an invite link (valid until {formatTime(invite.invite.expiresAt)}).
            Only that mailbox gets it: opening it proves the address is theirs. Until they join, the membership grants nothing;
            if the mail is lost, use <strong>Send again</strong> (earlier links then stop working).</p>
          <button type="button" onClick={() => setInvite(null)}>Done</button>
        </Dialog>
      )}
      {invite?.invite.url !== undefined && (
        <Dialog title="Send this invite link" onClose={() => setInvite(null)}>
          <p>Send <strong>{invite.email}</strong> this link (valid until {formatTime(invite.invite.expiresAt)}); it is shown only now.
            With it they choose a password, or sign in to their Kupe account, and join. Until then the membership grants nothing.</p>
          <label>Invite link <textarea readOnly rows={2} class="mono whole" value={invite.invite.url} onFocus={(e) => e.currentTarget.select()} /></label>
          <CopyButton text={invite.invite.url} what="the invite link" />
          <button type="button" onClick={() => setInvite(null)}>Done</button>
        </Dialog>
      )}
      {removing && (
        <Dialog title={`Remove ${removing.email}?`} onClose={() => setRemoving(null)}>
          <p>They lose access to {tenant} at once. API keys they created keep working until revoked.</p>
          <div class="buttons">
            <button type="button" class="secondary" autoFocus onClick={() => setRemoving(null)}>Cancel</button>
            <button type="button" class="danger" onClick={() => { const m = removing; setRemoving(null); void run(() => call('DELETE', `${tenantPath(tenant)}/members/${encodeURIComponent(m.email)}`)); }}>Remove {removing.email}</button>
          </div>
        </Dialog>
      )}
    </>
  );
}
