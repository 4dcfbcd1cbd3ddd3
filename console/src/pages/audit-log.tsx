import { useState } from 'preact/hooks';
import { type AuditEntry, call, tenantPath } from '../api.ts';
import { formatTime } from '../format.ts';
import { AUDIT_ACTIONS } from '../../../src/domain/vocabulary.ts';
import { Loaded, useAction, useLoad } from '../load.tsx';
import { ErrorText } from '../ui.tsx';

const PAGE = 50;

export function AuditLogPage(props: { tenant: string; isAdmin: boolean }) {
  const { tenant } = props;
  /** The filters applied (the action at once, the actor on submit), and the actor as typed. */
  const [filters, setFilters] = useState({ action: '', actor: '' });
  const [actor, setActor] = useState('');
  const { error, run } = useAction();

  const page = async (before?: string) => {
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (before) query.set('before', before);
    if (filters.action) query.set('action', filters.action);
    if (filters.actor) query.set('actor', filters.actor);
    const { items } = (await call<{ items: AuditEntry[] }>('GET', `${tenantPath(tenant)}/auditlog?${query.toString()}`)).data;
    return { items, more: items.length === PAGE };
  };
  const log = useLoad(async () => (props.isAdmin ? page() : { items: [], more: false }), [tenant, props.isAdmin, filters.action, filters.actor]);
  const older = (shown: AuditEntry[]) => run(async () => {
    const next = await page(shown.at(-1)?.id);
    log.set({ items: [...shown, ...next.items], more: next.more });
  });

  if (!props.isAdmin) return <><h1>Audit log</h1><p>Only tenant admins can read the audit log.</p></>;
  return (
    <>
      <h1>Audit log</h1>
      <form class="row-form" onSubmit={(e) => { e.preventDefault(); setFilters({ ...filters, actor: actor.trim() }); }}>
        <label>Action
          <select value={filters.action} onChange={(e) => setFilters({ ...filters, action: e.currentTarget.value })}>
            <option value="">all actions</option>
            {AUDIT_ACTIONS.map((a) => <option key={a} value={a}>{a}</option>)}
          </select>
        </label>
        <label>Actor <input value={actor} onInput={(e) => setActor(e.currentTarget.value)} placeholder="email, key id or operator" /></label>
        <button type="submit">Filter</button>
      </form>
      <Loaded state={log} what="the audit log">{({ items, more }) => (<>
      <div class="table-wrap">
        <table class="stack">
          <caption class="visually-hidden">Audit log of {tenant}, newest first</caption>
          <thead><tr><th scope="col">Time</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Client IP</th></tr></thead>
          <tbody>
            {items.map((e) => (
              <tr key={e.id}>
                <td data-label="Time">{formatTime(e.time)}</td><td data-label="Actor" class="source">{e.actor}</td>
                <td data-label="Action">{e.action}</td><td data-label="Target" class="source">{e.target}</td><td data-label="Client IP">{e.clientIp ?? ''}</td>
              </tr>
            ))}
            {items.length === 0 && <tr><td colSpan={5}>No entries.</td></tr>}
          </tbody>
        </table>
      </div>
      <ErrorText text={error} />
      {more && <button type="button" class="secondary" onClick={() => void older(items)}>Load more</button>}
      </>)}</Loaded>
    </>
  );
}
