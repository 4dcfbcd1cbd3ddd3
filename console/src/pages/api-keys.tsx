import { useState } from 'preact/hooks';
import { type ApiKey, call, type CreatedKey, tenantPath } from '../api.ts';
import { daysFromNow, expiryState, formatTime, sameLifetime } from '../format.ts';
import { Loaded, useAction, useLoad } from '../load.tsx';
import type { ComponentChildren } from 'preact';
import { Badge, CopyButton, Dialog, ErrorText } from '../ui.tsx';

type Modal =
  | { kind: 'create' }
  | { kind: 'created'; key: CreatedKey }
  | { kind: 'revoke'; key: ApiKey }
  | { kind: 'rotate'; key: ApiKey };

export function ApiKeysPage(props: { tenant: string; isAdmin: boolean }) {
  const { tenant } = props;
  const [filter, setFilter] = useState('');
  const [modal, setModal] = useState<Modal | null>(null);
  const keys = useLoad(async () => props.isAdmin ? (await call<{ items: ApiKey[] }>('GET', `${tenantPath(tenant)}/apikeys`)).data.items : [],
    [tenant, props.isAdmin]);
  const revoked = useLoad(async () => props.isAdmin ? (await call<{ items: ApiKey[] }>('GET', `${tenantPath(tenant)}/apikeys?state=revoked`)).data.items : [],
    [tenant, props.isAdmin]);

  if (!props.isAdmin) {
    return (
      <>
        <h1>API keys</h1>
        <p>Your role in <strong>{tenant}</strong> is <strong>readonly</strong>: only tenant admins can see, create and revoke API keys.</p>
      </>
    );
  }
  const close = () => { setModal(null); void keys.reload(); void revoked.reload(); };
  return (
    <>
      <div class="page-head">
        <h1>API keys</h1>
        <button type="button" onClick={() => setModal({ kind: 'create' })}>Create API key</button>
      </div>
      <Loaded state={revoked} what="the leaked keys">{(gone) => <LeakBanner tenant={tenant} keys={gone} onAcknowledged={() => void revoked.reload()} />}</Loaded>
      <p class="hint">Keys authenticate CI pipelines, Terraform and scripts: <code>Authorization: Bearer kupe_…</code>. Give each the narrowest role that works.</p>
      <label class="filter">Filter by display name <input type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} /></label>
      <Loaded state={keys} what="the API keys">{(all) => {
        const shown = all.filter((k) => k.displayName.toLowerCase().includes(filter.trim().toLowerCase()));
        return (
        <div class="table-wrap">
          <table class="stack">
            <caption class="visually-hidden">API keys of {tenant}</caption>
            <thead><tr><th scope="col">Display name</th><th scope="col">Role</th><th scope="col">Created by</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {shown.map((k) => <KeyRow key={k.id} apiKey={k} onRevoke={() => setModal({ kind: 'revoke', key: k })} onRotate={() => setModal({ kind: 'rotate', key: k })} />)}
              {shown.length === 0 && <tr><td colSpan={7}>{all.length === 0
                ? <>No API keys yet. Create one for each pipeline or tool that calls Kupe (Terraform, a deploy job), with the narrowest role that works and, for temporary access, an expiry.</>
                : 'No key matches the filter.'}</td></tr>}
            </tbody>
          </table>
        </div>
        );
      }}</Loaded>
      <Loaded state={revoked} what="the revoked keys">{(gone) => <RevokedKeys tenant={tenant} keys={gone} />}</Loaded>
      {modal?.kind === 'create' && <CreateKeyDialog tenant={tenant} onCancel={close} onCreated={(key) => { setModal({ kind: 'created', key }); void keys.reload(); }} />}
      {modal?.kind === 'created' && (
        <Dialog title="Your new API key" onClose={close} confirmDiscard="Close without storing the key? It cannot be shown again: you would have to create another.">
          <ShowOnce tenant={tenant} created={modal.key} />
          <button type="button" onClick={close}>I have stored the key</button>
        </Dialog>
      )}
      {modal?.kind === 'revoke' && <RevokeDialog tenant={tenant} apiKey={modal.key} onDone={close} />}
      {modal?.kind === 'rotate' && <RotateDialog tenant={tenant} old={modal.key} onDone={close} />}
    </>
  );
}

const REASONS: Record<NonNullable<ApiKey['revokeReason']>, string> = {
  manual: 'revoked', rotation: 'rotated', leaked: 'leaked', operator: 'by the operator',
};

/** A link only to a web address (a scanner's report URL); any other source is shown as text. */
function Source(props: { text: string }) {
  return /^https:\/\//.test(props.text)
    ? <a href={props.text} rel="noopener noreferrer nofollow" target="_blank">{props.text}</a>
    : <>{props.text}</>;
}

/**
 * Leaked keys come first: one banner per leak no admin has acknowledged yet (docs/leaks.md). The key is
 * revoked already; the banner says so, where it was found, and what to do next.
 */
function LeakBanner(props: { tenant: string; keys: ApiKey[]; onAcknowledged: () => void }) {
  const { error, run } = useAction();
  const open = props.keys.filter((k) => k.revokeReason === 'leaked' && k.leakAcknowledgedAt === undefined);
  if (open.length === 0) return null;
  const acknowledge = (k: ApiKey) => run(async () => {
    await call('POST', `${tenantPath(props.tenant)}/apikeys/${k.id}/leak-acknowledgement`);
    props.onAcknowledged();
  });
  return (
    <section class="leak-banner" role="alert" aria-label="Leaked API keys">
      {open.map((k) => (
        <div key={k.id} class="leak">
          <p>
            <strong>“{k.displayName}” ({k.id}) was found in public and revoked</strong> on {formatTime(k.revokedAt)} (reported by {k.revokedBy}).
            {k.leakSource && <> Found at <Source text={k.leakSource} />.</>}
          </p>
          <p>Anything still using it gets 401. Create a new key for that job and store it as a secret; remove the old key from where it was found (and from its history); check the audit log for what the key did.</p>
          <button type="button" class="secondary" onClick={() => void acknowledge(k)}>Acknowledge</button>
        </div>
      ))}
      <ErrorText text={error} />
    </section>
  );
}

/** Revoked keys, the latest first: when, by whom and why (kept as long as the audit log). */
function RevokedKeys(props: { tenant: string; keys: ApiKey[] }) {
  if (props.keys.length === 0) return null;
  return (
    <details class="revoked">
      <summary>Revoked keys ({props.keys.length})</summary>
      <div class="table-wrap">
        <table class="stack">
          <caption class="visually-hidden">Revoked API keys of {props.tenant}</caption>
          <thead><tr><th scope="col">Display name</th><th scope="col">Role</th><th scope="col">Revoked</th><th scope="col">By</th><th scope="col">Why</th><th scope="col">Found at</th></tr></thead>
          <tbody>
            {props.keys.map((k) => (
              <tr key={k.id}>
                <th scope="row">{k.displayName}<div class="id">{k.id}</div></th>
                <td data-label="Role">{k.role}</td>
                <td data-label="Revoked">{formatTime(k.revokedAt)}</td>
                <td data-label="By">{k.revokedBy}</td>
                <td data-label="Why">{k.revokeReason && (k.revokeReason === 'leaked' ? <Badge kind="danger">leaked</Badge> : REASONS[k.revokeReason])}</td>
                <td data-label="Found at" class="source">{k.leakSource ? <Source text={k.leakSource} /> : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

function KeyRow(props: { apiKey: ApiKey; onRevoke: () => void; onRotate: () => void }) {
  const k = props.apiKey;
  const state = expiryState(k.expiresAt);
  return (
    <tr>
      <th scope="row">{k.displayName}<div class="id">{k.id}</div></th>
      <td data-label="Role">{k.role}</td>
      <td data-label="Created by">{k.createdBy}</td>
      <td data-label="Created">{formatTime(k.createdAt)}</td>
      <td data-label="Expires">
        {k.expiresAt ? formatTime(k.expiresAt) : 'never'}{' '}
        {state === 'expired' && <Badge kind="danger">expired</Badge>}
        {state === 'soon' && <Badge kind="warn">expires within 7 days</Badge>}
      </td>
      <td data-label="Last used">{formatTime(k.lastUsedAt)}</td>
      <td class="actions">
        <button type="button" class="secondary" onClick={props.onRotate} aria-label={`Rotate ${k.displayName}`}>Rotate</button>
        <button type="button" class="danger" onClick={props.onRevoke} aria-label={`Revoke ${k.displayName}`}>Revoke</button>
      </td>
    </tr>
  );
}

const PRESETS = [['never', 'Never'], ['7', '7 days'], ['30', '30 days'], ['90', '90 days'], ['date', 'On a date']] as const;

function CreateKeyDialog(props: { tenant: string; onCancel: () => void; onCreated: (k: CreatedKey) => void }) {
  const [expiry, setExpiry] = useState<string>('90');
  const { error, run } = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const dateField = form.get('date');
    const date = typeof dateField === 'string' ? dateField : '';
    const expiresAt = expiry === 'never' ? undefined
      : expiry === 'date' ? (date ? new Date(`${date}T00:00:00`).toISOString().replace(/\.\d{3}Z$/, 'Z') : '')
        : daysFromNow(Number(expiry));
    await run(async () => {
      const { data } = await call<CreatedKey>('POST', `${tenantPath(props.tenant)}/apikeys`, {
        displayName: form.get('displayName'), role: form.get('role'), ...(expiresAt !== undefined && { expiresAt }),
      });
      props.onCreated(data);
    });
  };
  return (
    <Dialog title="Create API key" onClose={props.onCancel}>
      <form onSubmit={(e) => void submit(e)}>
        <label>Display name <input name="displayName" required maxLength={128} placeholder="e.g. deploy-pipeline" /></label>
        <fieldset>
          <legend>Role</legend>
          <label class="inline"><input type="radio" name="role" value="readonly" defaultChecked /> readonly: reads tenant resources</label>
          <label class="inline"><input type="radio" name="role" value="admin" /> admin: also manages members and API keys</label>
        </fieldset>
        <fieldset>
          <legend>Expires</legend>
          {PRESETS.map(([value, label]) => (
            <label class="inline" key={value}><input type="radio" name="expiry" value={value} checked={expiry === value} onChange={() => setExpiry(value)} /> {label}</label>
          ))}
          {expiry === 'date' && <label>Date <input type="date" name="date" required /></label>}
        </fieldset>
        <ErrorText text={error} />
        <div class="buttons">
          <button type="submit">Create key</button>
          <button type="button" class="secondary" onClick={props.onCancel}>Cancel</button>
        </div>
      </form>
    </Dialog>
  );
}

/** The raw key, once: all of it in view, copy buttons, warning, and snippets that keep the key out of code and history. */
export function ShowOnce(props: { tenant: string; created: CreatedKey }) {
  const origin = location.origin;
  const snippets: [string, ComponentChildren, string][] = [
    ['GitHub Actions', <>Repository settings → Secrets and variables → Actions → New repository secret named <code>KUPE_API_KEY</code>, then:</>,
      `- name: Call Kupe
  env:
    KUPE_API_KEY: \${{ secrets.KUPE_API_KEY }}
  run: curl -fsS -H "Authorization: Bearer $KUPE_API_KEY" ${origin}/api/v1/tenants/${props.tenant}`],
    ['GitLab CI/CD', <>Settings → CI/CD → Variables → Add variable: key <code>KUPE_API_KEY</code>, tick <strong>Mask variable</strong> and <strong>Protect variable</strong>, then:</>,
      `call-kupe:
  script:
    - curl -fsS -H "Authorization: Bearer $KUPE_API_KEY" ${origin}/api/v1/tenants/${props.tenant}`],
    ['curl', null, `read -rs KUPE_API_KEY && export KUPE_API_KEY   # paste the key; it stays out of your shell history
curl -H "Authorization: Bearer $KUPE_API_KEY" ${origin}/api/v1/whoami`],
  ];
  return (
    <div class="show-once">
      <p class="warning" role="alert"><strong>Copy this key now.</strong> It will not be shown again: Kupe keeps only a hash of it.</p>
      <label>API key <span class="visually-hidden">for {props.created.displayName}</span>
        <textarea readOnly rows={2} class="mono whole" data-testid="raw-key" value={props.created.key} onFocus={(e) => e.currentTarget.select()} />
      </label>
      <CopyButton text={props.created.key} what="the API key" />
      {snippets.map(([title, intro, code]) => (
        <details key={title}>
          <summary>{title}</summary>
          {intro && <p>{intro}</p>}
          <pre>{code}</pre>
          <CopyButton text={code} what={`the ${title} snippet`} />
        </details>
      ))}
    </div>
  );
}

function RevokeDialog(props: { tenant: string; apiKey: ApiKey; onDone: () => void }) {
  const { error, run } = useAction();
  const revoke = () => run(async () => {
    await call('DELETE', `${tenantPath(props.tenant)}/apikeys/${props.apiKey.id}`);
    props.onDone();
  });
  return (
    <Dialog title={`Revoke “${props.apiKey.displayName}”?`} onClose={props.onDone}>
      <p>Key <code>{props.apiKey.id}</code> ({props.apiKey.role}) stops working at once: every request that carries it gets 401. This cannot be undone.</p>
      <p>Last used: {formatTime(props.apiKey.lastUsedAt)}.</p>
      <ErrorText text={error} />
      <div class="buttons">
        <button type="button" class="secondary" autoFocus onClick={props.onDone}>Cancel</button>
        <button type="button" class="danger" onClick={() => void revoke()}>Revoke {props.apiKey.displayName}</button>
      </div>
    </Dialog>
  );
}

/** Rotation without downtime: create `<name>-new`, switch the secret, watch the old key drain, revoke it. */
function RotateDialog(props: { tenant: string; old: ApiKey; onDone: () => void }) {
  const { tenant, old } = props;
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const [oldNow, setOldNow] = useState<ApiKey>(old);
  const { error, run } = useAction();
  const [confirming, setConfirming] = useState(false);
  const expiresAt = sameLifetime(old);
  const create = () => run(async () => {
    const { data } = await call<CreatedKey>('POST', `${tenantPath(tenant)}/apikeys`, {
      displayName: `${old.displayName}-new`.slice(0, 128), role: old.role, ...(expiresAt && { expiresAt }),
    });
    setCreated(data);
  });
  const refresh = () => run(async () => {
    const { data } = await call<{ items: ApiKey[] }>('GET', `${tenantPath(tenant)}/apikeys`);
    const found = data.items.find((k) => k.id === old.id);
    if (found) setOldNow(found);
  });
  const revokeOld = () => run(async () => {
    await call('DELETE', `${tenantPath(tenant)}/apikeys/${old.id}?reason=rotation`);
    props.onDone();
  });
  return (
    <Dialog title={`Rotate “${old.displayName}”`} onClose={props.onDone}
      {...(created && { confirmDiscard: 'Close without storing the new key? It cannot be shown again.' })}>
      {!created ? (
        <>
          <p>Creates <strong>{old.displayName}-new</strong> with role <strong>{old.role}</strong> and {expiresAt ? `the same lifetime (expires ${formatTime(expiresAt)})` : 'no expiry, like the old key'}. The old key keeps working until you revoke it.</p>
          <ErrorText text={error} />
          <div class="buttons">
            <button type="button" onClick={() => void create()}>Create {old.displayName}-new</button>
            <button type="button" class="secondary" onClick={props.onDone}>Cancel</button>
          </div>
        </>
      ) : (
        <>
          <ShowOnce tenant={tenant} created={created} />
          <h3>Then retire the old key</h3>
          <ol>
            <li>Put the new key into the pipeline's secret and run it once.</li>
            <li>Check that the old key has stopped being used.</li>
          </ol>
          <p aria-live="polite">Old key <code>{old.id}</code> last used: <strong>{formatTime(oldNow.lastUsedAt)}</strong>{' '}
            <button type="button" class="secondary" onClick={() => void refresh()}>Refresh</button>
          </p>
          <ErrorText text={error} />
          {!confirming
            ? <div class="buttons"><button type="button" class="danger" onClick={() => setConfirming(true)}>Revoke old key…</button><button type="button" class="secondary" onClick={props.onDone}>Later</button></div>
            : <div class="buttons"><button type="button" class="danger" onClick={() => void revokeOld()}>Yes, revoke {old.displayName}</button><button type="button" class="secondary" onClick={() => setConfirming(false)}>Not yet</button></div>}
        </>
      )}
    </Dialog>
  );
}
