import { useEffect, useState } from 'preact/hooks';
import { type AuditEntry, call, t, messageOf } from '../api.ts';
import { formatTime } from '../format.ts';
import { AUDIT_ACTIONS } from '../../../src/domain/vocabulary.ts';
import { ErrorText } from '../ui.tsx';

const PAGE = 50;

export function AuditLogPage(props: { tenant: string; isAdmin: boolean }) {
  const { tenant } = props;
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [more, setMore] = useState(false);
  const [action, setAction] = useState('');
  const [actor, setActor] = useState('');
  const [error, setError] = useState('');

  const load = async (before?: string) => {
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (before) query.set('before', before);
    if (action) query.set('action', action);
    if (actor.trim()) query.set('actor', actor.trim());
    try {
      const { data } = await call<{ items: AuditEntry[] }>('GET', `${t(tenant)}/auditlog?${query.toString()}`);
      setEntries((prev) => (before ? [...prev, ...data.items] : data.items));
      setMore(data.items.length === PAGE);
      setError('');
    } catch (err) {
      setError(messageOf(err));
    }
  };
  useEffect(() => { if (props.isAdmin) void load(); }, [tenant, action]);

  if (!props.isAdmin) return <><h1>Audit log</h1><p>Only tenant admins can read the audit log.</p></>;
  return (
    <>
      <h1>Audit log</h1>
      <form class="row-form" onSubmit={(e) => { e.preventDefault(); void load(); }}>
        <label>Action
          <select value={action} onChange={(e) => setAction(e.currentTarget.value)}>
            <option value="">all actions</option>
            {AUDIT_ACTIONS.map((a) => <option key={a} value={a}>{a}</option>)}
          </select>
        </label>
        <label>Actor <input value={actor} onInput={(e) => setActor(e.currentTarget.value)} placeholder="email, key id or operator" /></label>
        <button type="submit">Filter</button>
      </form>
      <ErrorText text={error} />
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">Audit log of {tenant}, newest first</caption>
          <thead><tr><th scope="col">Time</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Client IP</th></tr></thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id}><td>{formatTime(e.time)}</td><td>{e.actor}</td><td>{e.action}</td><td>{e.target}</td><td>{e.clientIp ?? ''}</td></tr>
            ))}
            {entries.length === 0 && <tr><td colSpan={5}>No entries.</td></tr>}
          </tbody>
        </table>
      </div>
      {more && <button type="button" class="secondary" onClick={() => void load(entries.at(-1)?.id)}>Load more</button>}
    </>
  );
}
