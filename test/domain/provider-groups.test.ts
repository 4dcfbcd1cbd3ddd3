import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { groupTemplateProblems, rolesFromGroups } from '../../src/domain/provider-groups.ts';

const DEFAULTS = { adminGroup: '{tenant}-admins', readonlyGroup: '{tenant}-readonly' };

test('groups become roles by tenant; admin wins; other groups and bad tenant names are ignored', () => {
  const roles = rolesFromGroups(['acme-readonly', 'acme-admins', 'globex-readonly', 'Staff', 'a-admins', 'big-corp-admins',
    'acme-readonly-admins', 'UPPER-admins'], DEFAULTS);
  assert.deepEqual(Object.fromEntries(roles!), {
    acme: 'admin', globex: 'readonly', 'big-corp': 'admin', 'acme-readonly': 'admin',
  });
});

test('a missing or malformed claim is undefined (refused); an empty list is no tenant', () => {
  assert.equal(rolesFromGroups(undefined, DEFAULTS), undefined);
  assert.equal(rolesFromGroups('acme-admins', DEFAULTS), undefined);
  assert.equal(rolesFromGroups(['acme-admins', 7], DEFAULTS), undefined);
  assert.deepEqual(rolesFromGroups([], DEFAULTS)?.size, 0);
});

test('templates are literal text around {tenant}, regular-expression characters included', () => {
  const templates = { adminGroup: 'kupe.{tenant}.admin', readonlyGroup: 'kupe.{tenant}.view' };
  assert.deepEqual(Object.fromEntries(rolesFromGroups(['kupe.acme.admin', 'kupeXacmeXadmin', 'kupe.globex.view'], templates)!),
    { acme: 'admin', globex: 'readonly' });
});

/** Whether the template alone reads the group as some tenant's. */
const matches = (template: string, group: string) =>
  rolesFromGroups([group], { adminGroup: template, readonlyGroup: '#never-{tenant}#' })!.size > 0;

test('property: templates accepted at start never both match one group name', () => {
  const piece = fc.stringMatching(/^[a-z-]{0,4}$/);
  const tenant = fc.stringMatching(/^[a-z][a-z0-9-]{0,6}[a-z0-9]$/);
  fc.assert(fc.property(piece, piece, piece, piece, tenant, (a1, a2, r1, r2, name) => {
    const templates = { adminGroup: `${a1}{tenant}${a2}`, readonlyGroup: `${r1}{tenant}${r2}` };
    if (groupTemplateProblems(templates, { adminGroup: 'A', readonlyGroup: 'R' }).length > 0) return;
    for (const group of [`${a1}${name}${a2}`, `${r1}${name}${r2}`]) {
      assert.ok(!(matches(templates.adminGroup, group) && matches(templates.readonlyGroup, group)),
        `${group} matches both ${templates.adminGroup} and ${templates.readonlyGroup}`);
    }
  }), { numRuns: 5000 });
  assert.deepEqual(groupTemplateProblems(DEFAULTS, { adminGroup: 'A', readonlyGroup: 'R' }), []);
});
