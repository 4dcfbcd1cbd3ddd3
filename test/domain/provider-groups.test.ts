import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rolesFromGroups } from '../../src/domain/provider-groups.ts';

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
