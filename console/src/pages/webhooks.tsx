import { useState } from 'preact/hooks';
import { call, type CreatedWebhook, type Delivery, tenantPath, type Webhook } from '../api.ts';
import { formatTime } from '../format.ts';
import { Loaded, useAction, useLoad } from '../load.tsx';
import { Badge, CopyButton, Dialog, ErrorText } from '../ui.tsx';
import { EVENT_TYPES } from '../../../src/domain/vocabulary.ts';

type Modal =
  | { kind: 'create' }
  | { kind: 'created'; webhook: CreatedWebhook }
  | { kind: 'deliveries'; webhook: Webhook }
  | { kind: 'delete'; webhook: Webhook };

/**
 * A tenant's webhook endpoints (docs/notifications.md): add one (its signing secret shown once), send a test
 * event, read its delivery log, turn it off and on, delete it. Admins only, as the API is.
 */
export function WebhooksPage(props: { tenant: string; isAdmin: boolean }) {
  const { tenant, isAdmin } = props;
  const base = `${tenantPath(tenant)}/webhooks`;
  const hooks = useLoad(async () => isAdmin ? (await call<{ items: Webhook[] }>('GET', base)).data.items : [], [tenant, isAdmin]);
  const [modal, setModal] = useState<Modal | null>(null);
  const [notice, setNotice] = useState('');
  const action = useAction();
  if (!isAdmin) {
    return (
      <>
        <h1>Webhooks</h1>
        <p>Your role in <strong>{tenant}</strong> is <strong>readonly</strong>: only tenant admins can see and manage webhooks.</p>
      </>
    );
  }
  const run = async (act: () => Promise<unknown>) => {
    setNotice('');
    await action.run(act);
    await hooks.reload();
  };
  const close = () => { setModal(null); void hooks.reload(); };
  return (
    <>
      <div class="page-head">
        <h1>Webhooks</h1>
        <button type="button" onClick={() => setModal({ kind: 'create' })}>Add endpoint</button>
      </div>
      <p class="hint">
        Kupe POSTs an event to each endpoint when keys and members change, signed per Standard Webhooks with the
        endpoint's secret (<code>webhook-id</code>, <code>webhook-timestamp</code>, <code>webhook-signature</code>).
        A failed delivery is retried for about a day; then the endpoint is marked failing and the tenant's admins are told.
      </p>
      <ErrorText text={action.error} />
      {notice && <p class="notice" role="status">{notice}</p>}
      <Loaded state={hooks} what="the webhooks">{(list) => (
        <div class="table-wrap">
          <table class="stack">
            <caption class="visually-hidden">Webhooks of {tenant}</caption>
            <thead><tr><th scope="col">Endpoint</th><th scope="col">Events</th><th scope="col">State</th><th scope="col">Created</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {list.map((w) => (
                <tr key={w.id}>
                  <th scope="row" class="source">{w.url}<div class="id">{w.id}</div></th>
                  <td data-label="Events">{w.events.join(', ')}</td>
                  <td data-label="State">
                    {w.enabled ? 'on' : <Badge kind="info">off</Badge>}
                    {w.failingSince && <> <Badge kind="danger">failing since {formatTime(w.failingSince)}</Badge></>}
                  </td>
                  <td data-label="Created">{formatTime(w.createdAt)} by {w.createdBy}</td>
                  <td class="actions"><div class="action-list">
                    <button type="button" class="secondary" aria-label={`Send a test event to ${w.url}`} onClick={() => void run(async () => {
                      await call('POST', `${base}/${w.id}/test`);
                      setNotice(`A test event is on its way to ${w.url}: see its deliveries.`);
                    })}>Send test event</button>
                    <button type="button" class="secondary" aria-label={`Deliveries of ${w.url}`} onClick={() => setModal({ kind: 'deliveries', webhook: w })}>Deliveries</button>
                    <button type="button" class="secondary" aria-label={`${w.enabled ? 'Turn off' : 'Turn on'} ${w.url}`}
                      onClick={() => void run(() => call('PATCH', `${base}/${w.id}`, { enabled: !w.enabled }))}>{w.enabled ? 'Turn off' : 'Turn on'}</button>
                    <button type="button" class="danger" aria-label={`Delete ${w.url}`} onClick={() => setModal({ kind: 'delete', webhook: w })}>Delete</button>
                  </div></td>
                </tr>
              ))}
              {list.length === 0 && <tr><td colSpan={5}>No webhooks yet. Add an endpoint to hear of key and member changes.</td></tr>}
            </tbody>
          </table>
        </div>
      )}</Loaded>
      {modal?.kind === 'create' && <CreateWebhookDialog base={base} onCancel={close} onCreated={(webhook) => setModal({ kind: 'created', webhook })} />}
      {modal?.kind === 'created' && (
        <Dialog title="Your endpoint's signing secret" onClose={close} confirmDiscard="Close without storing the secret? It cannot be shown again: you would have to add the endpoint again.">
          <SecretOnce webhook={modal.webhook} />
          <button type="button" onClick={close}>I have stored the secret</button>
        </Dialog>
      )}
      {modal?.kind === 'deliveries' && <DeliveriesDialog base={base} webhook={modal.webhook} onClose={close} />}
      {modal?.kind === 'delete' && (
        <Dialog title={`Delete the webhook ${modal.webhook.url}?`} onClose={close}>
          <p>Kupe stops sending it events at once, and its delivery log goes with it.</p>
          <div class="buttons">
            <button type="button" class="secondary" autoFocus onClick={close}>Cancel</button>
            <button type="button" class="danger" onClick={() => { const w = modal.webhook; setModal(null); void run(() => call('DELETE', `${base}/${w.id}`)); }}>Delete</button>
          </div>
        </Dialog>
      )}
    </>
  );
}

function CreateWebhookDialog(props: { base: string; onCancel: () => void; onCreated: (w: CreatedWebhook) => void }) {
  const { error, run } = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    await run(async () => {
      const { data } = await call<CreatedWebhook>('POST', props.base, { url: form.get('url'), events: form.getAll('events') });
      props.onCreated(data);
    });
  };
  return (
    <Dialog title="Add endpoint" onClose={props.onCancel}>
      <form onSubmit={(e) => void submit(e)}>
        <label>Endpoint URL <input name="url" type="url" required maxLength={2000} placeholder="https://hooks.example.com/kupe" /></label>
        <fieldset>
          <legend>Events</legend>
          {EVENT_TYPES.map((type) => (
            <label class="inline" key={type}><input type="checkbox" name="events" value={type} defaultChecked /> {type}</label>
          ))}
        </fieldset>
        <ErrorText text={error} />
        <div class="buttons">
          <button type="submit">Add endpoint</button>
          <button type="button" class="secondary" onClick={props.onCancel}>Cancel</button>
        </div>
      </form>
    </Dialog>
  );
}

/** The signing secret, once: Kupe keeps it to sign with, and never shows it again. */
function SecretOnce(props: { webhook: CreatedWebhook }) {
  return (
    <div class="show-once">
      <p class="warning" role="alert"><strong>Copy this secret now.</strong> It will not be shown again. Your endpoint verifies each delivery with it.</p>
      <label>Signing secret <span class="visually-hidden">for {props.webhook.url}</span>
        <textarea readOnly rows={2} class="mono whole" data-testid="webhook-secret" value={props.webhook.secret} onFocus={(e) => e.currentTarget.select()} />
      </label>
      <CopyButton text={props.webhook.secret} what="the signing secret" />
      <p class="hint">Verify with a Standard Webhooks library, for example in Node: <code>new Webhook(secret).verify(body, headers)</code> (npm <code>standardwebhooks</code>).</p>
    </div>
  );
}

/** The endpoint's latest deliveries: what was sent, how it went, when it is tried again. */
function DeliveriesDialog(props: { base: string; webhook: Webhook; onClose: () => void }) {
  const deliveries = useLoad(async () => (await call<{ items: Delivery[] }>('GET', `${props.base}/${props.webhook.id}/deliveries`)).data.items, [props.webhook.id]);
  return (
    <Dialog title={`Deliveries to ${props.webhook.url}`} onClose={props.onClose}>
      <Loaded state={deliveries} what="the deliveries">{(items) => (
        <div class="table-wrap">
          <table class="stack">
            <caption class="visually-hidden">The latest deliveries, the newest first</caption>
            <thead><tr><th scope="col">Event</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col">Next try</th></tr></thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.id}>
                  <th scope="row">{d.eventType}<div class="id">{d.eventId}</div></th>
                  <td data-label="State">{d.state === 'failed' ? <Badge kind="danger">failed</Badge> : d.state === 'pending' ? <Badge kind="warn">pending</Badge> : 'delivered'}</td>
                  <td data-label="Attempts">{d.attempts}</td>
                  <td data-label="Last answer">{d.lastStatus !== undefined ? `HTTP ${d.lastStatus}` : d.lastError ?? '—'}{d.lastAttemptAt && <> at {formatTime(d.lastAttemptAt)}</>}</td>
                  <td data-label="Next try">{d.state === 'pending' && d.attempts > 0 ? formatTime(d.nextAttemptAt) : '—'}</td>
                </tr>
              ))}
              {items.length === 0 && <tr><td colSpan={5}>Nothing sent yet.</td></tr>}
            </tbody>
          </table>
        </div>
      )}</Loaded>
      <div class="buttons">
        <button type="button" class="secondary" onClick={() => void deliveries.reload()}>Refresh</button>
        <button type="button" onClick={props.onClose}>Close</button>
      </div>
    </Dialog>
  );
}
