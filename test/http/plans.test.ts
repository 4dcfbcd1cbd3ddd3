import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { parsePlanCatalogue } from '../../src/domain/plans.ts';
import { buildTestApp } from '../helpers.ts';

function catalogueFile(t: TestContext, content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'kupe-plans-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'plans.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

test('any authenticated caller reads the plan catalogue, whatever its tenant; nobody else', async (t) => {
  const app = await buildTestApp(t);
  for (const key of [app.adminKey, app.readonlyKey, app.otherTenantKey]) {
    const list = await app.call('GET', '/api/v1/plans', { key });
    assert.equal(list.statusCode, 200);
    assert.deepEqual(list.json().items, [
      { name: 'starter', displayName: 'Starter' }, { name: 'pro', displayName: 'Pro' },
      { name: 'business', displayName: 'Business' }, { name: 'enterprise', displayName: 'Enterprise' },
    ], 'without a file: every plan, its display name only (no figure made up)');
  }
  assert.deepEqual((await app.call('GET', '/api/v1/plans/pro', { key: app.readonlyKey })).json(), { name: 'pro', displayName: 'Pro' });
  const unknown = await app.call('GET', '/api/v1/plans/gold', { key: app.readonlyKey });
  assert.deepEqual([unknown.statusCode, unknown.json().code], [404, 'plan_not_found']);
  assert.match(unknown.json().error, /the plans are starter, pro, business, enterprise/);
  for (const url of ['/api/v1/plans', '/api/v1/plans/pro']) {
    const anonymous = await app.call('GET', url);
    assert.deepEqual([anonymous.statusCode, anonymous.json().code], [401, 'authentication_required'], url);
  }
});

test("the operator's catalogue file gives the fields the kupe CLI and the Terraform provider read", async (t) => {
  const plansFile = catalogueFile(t, {
    plans: [
      { name: 'pro', displayName: 'Pro (annual)', platformFee: '€49/month', maxClusters: 5,
        resourcePool: { cpu: '16', memory: '64Gi', storage: '500Gi' },
        observabilityPool: { maxActiveSeries: 200_000, logIngestGB: 50, retentionDays: 30, maxReceivers: 10 } },
      { name: 'starter', maxClusters: 0 },
    ],
  });
  const app = await buildTestApp(t, { config: { plansFile } });
  const pro = (await app.call('GET', '/api/v1/plans/pro', { key: app.readonlyKey })).json();
  assert.deepEqual(pro, {
    name: 'pro', displayName: 'Pro (annual)', platformFee: '€49/month', maxClusters: 5,
    resourcePool: { cpu: '16', memory: '64Gi', storage: '500Gi' },
    observabilityPool: { maxActiveSeries: 200_000, logIngestGB: 50, retentionDays: 30, maxReceivers: 10 },
  });
  const items = (await app.call('GET', '/api/v1/plans', { key: app.adminKey })).json().items;
  assert.deepEqual(items.map((p: { name: string }) => p.name), ['starter', 'pro', 'business', 'enterprise'], 'in the plans\' order');
  assert.deepEqual(items[0], { name: 'starter', displayName: 'Starter', maxClusters: 0 });
  assert.deepEqual(items[2], { name: 'business', displayName: 'Business' }, 'a plan the file leaves out keeps its default');
});

test('a bad catalogue stops the start with every problem named', async (t) => {
  const { problems } = parsePlanCatalogue({
    plans: [
      { name: 'gold' }, { name: 'pro', price: 1 }, { name: 'pro' }, { name: 'starter', maxClusters: -1, resourcePool: { cpu: 16, gpus: '1' } },
      { name: 'business', observabilityPool: { retentionDays: 'thirty' }, displayName: '' },
    ],
  });
  assert.deepEqual(problems, [
    'plans[0].name: must be one of starter, pro, business, enterprise',
    'plans[1].price: unknown field (known: name, displayName, platformFee, resourcePool, observabilityPool, maxClusters)',
    'plans[2].name: pro is described twice',
    'plans[3].maxClusters: must be a whole number, 0 or more',
    'plans[3].resourcePool.cpu: must be a non-empty string, e.g. "8"',
    'plans[3].resourcePool.gpus: unknown field (known: cpu, memory, storage)',
    'plans[4].displayName: must be text of 1 to 100 characters',
    'plans[4].observabilityPool.retentionDays: must be a whole number, 0 or more',
  ]);
  assert.deepEqual(parsePlanCatalogue([]).problems, ['must be a JSON object with a "plans" array']);
  await assert.rejects(buildTestApp(t, { config: { plansFile: catalogueFile(t, { plans: [{ name: 'gold' }] }) } }),
    /invalid plan catalogue in .*plans\.json:\n {2}- plans\[0\]\.name: must be one of/);
  await assert.rejects(buildTestApp(t, { config: { plansFile: catalogueFile(t, '{ not json') } }), /KUPE_PLANS_FILE=".*plans\.json": .*JSON/);
});

test("docs/behaviour.md's example catalogue is one the server takes", () => {
  const doc = readFileSync(new URL('../../docs/behaviour.md', import.meta.url), 'utf8');
  const example = /\*\*Plans\.\*\*[\s\S]*?```json\n([\s\S]*?)```/.exec(doc)![1]!;
  const { catalogue, problems } = parsePlanCatalogue(JSON.parse(example.replace(/^ {2}/gm, '')));
  assert.deepEqual(problems, []);
  assert.equal(catalogue!.find((p) => p.name === 'pro')!.resourcePool!.memory, '64Gi');
});
