/**
 * The store as the domain sees it. src/store implements it with Kysely; the
 * domain never imports that implementation.
 */
export const PLANS = ['starter', 'pro', 'business', 'enterprise'];
/** Every kind of audit entry: the one list (the API schema and its documentation are made from it). */
export const AUDIT_ACTIONS = [
    'tenant.create', 'tenant.update', 'member.add', 'member.update', 'member.remove', 'member.invite', 'member.join',
    'apikey.create', 'apikey.revoke',
];
