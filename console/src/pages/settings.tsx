import { useState } from 'preact/hooks';
import { ApiError, call, tenantPath, type Tenant, messageOf } from '../api.ts';
import { Loaded, useAction, useLoad } from '../load.tsx';
import { ErrorText } from '../ui.tsx';

const saveFailure = (err: unknown) => err instanceof ApiError && err.status === 412
  ? 'Someone else changed these settings since you opened the page. Nothing was saved: reload to see their changes, then edit again.'
  : messageOf(err);

export function SettingsPage(props: { tenant: string; isAdmin: boolean }) {
  const { tenant, isAdmin } = props;
  const current = useLoad(() => call<Tenant>('GET', tenantPath(tenant)), [tenant]);
  const { error, setError, run } = useAction(saveFailure);
  const [saved, setSaved] = useState('');

  const save = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    setSaved('');
    await run(async () => {
      const result = await call<Tenant>('PATCH', tenantPath(tenant), {
        displayName: form.get('displayName'),
        enforceMetricsLimit: form.get('enforceMetricsLimit') === 'on', enforceLogLimit: form.get('enforceLogLimit') === 'on',
      }, current.data?.etag ? { 'if-match': current.data.etag } : {});
      current.set(result);
      setSaved('Saved.');
    });
  };
  return <Loaded state={current} what="the tenant's settings">{({ data: d }) => (
    <>
      <h1>Tenant settings</h1>
      <form onSubmit={(e) => void save(e)} key={d.resourceVersion}>
        <fieldset disabled={!isAdmin}>
          <label>Name <input value={d.name} readOnly /></label>
          <label>Display name <input name="displayName" defaultValue={d.displayName} required maxLength={128} /></label>
          <label>Plan <input value={d.plan} readOnly aria-describedby="plan-help" /></label>
          <p id="plan-help" class="help">Plans are changed by your operator.</p>
          <label class="inline"><input type="checkbox" name="enforceMetricsLimit" defaultChecked={d.enforceMetricsLimit} /> Enforce the plan's metrics limit</label>
          <label class="inline"><input type="checkbox" name="enforceLogLimit" defaultChecked={d.enforceLogLimit} /> Enforce the plan's log limit</label>
        </fieldset>
        <ErrorText text={error} />
        {saved && <p role="status">{saved}</p>}
        {isAdmin
          ? <div class="buttons"><button type="submit">Save settings</button><button type="button" class="secondary" onClick={() => { setError(''); void current.reload(); }}>Reload</button></div>
          : <p>Only tenant admins can change settings.</p>}
      </form>
    </>
  )}</Loaded>;
}
