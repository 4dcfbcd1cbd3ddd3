import type { FastifyRequest } from 'fastify';
import { personAccess } from '../../domain/memberships.ts';
import { AppError } from '../../domain/errors.ts';
import type { Role } from '../../domain/roles.ts';
import type { Store } from '../../domain/store.ts';
import { isTenantName } from '../../domain/validation.ts';
import { ownOrigin } from '../cookies.ts';
import type { Credential } from './credentials.ts';
import type { Access, Account } from './types.ts';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const CSRF_HEADER = 'x-kupe-csrf';

/**
 * What the credential may do here: the tenant in the path (400 when it is no tenant name), membership and
 * role (403); for a session, the CSRF check first and a pending password change. Sets request.principal
 * (request.account for a session, request.tokenEmail for an access token). A key is decided at once (a
 * refusal thrown); a person's membership is read, so their answer is a promise.
 */
export function authorize(request: FastifyRequest, access: Access, credential: Credential, store: Store): Promise<void> | undefined {
  switch (credential.kind) {
    case 'apikey': // decided at once: no promise
      request.principal = credential.principal;
      if (access !== 'authenticated') checkTenant(request, credential.principal.tenant, credential.principal.role, access);
      return undefined;
    case 'token':
      request.tokenEmail = credential.email;
      return access === 'authenticated' ? undefined : authorizePerson(request, access, credential.email, (tenant) => credential.roles.get(tenant), store);
    case 'session':
      return authorizeAccount(request, access, credential.account, store);
  }
}

/**
 * A cookie is sent by the browser whoever asks, so an unsafe request that rides on it must prove it comes
 * from the console: a same-origin Origin (or Sec-Fetch-Site) and the session's CSRF token in a header,
 * which no cross-site form can set.
 */
function checkCsrf(request: FastifyRequest, account: Account) {
  if (!UNSAFE.has(request.method)) return;
  const origin = request.headers.origin;
  const site = request.headers['sec-fetch-site'];
  const sameOrigin = origin !== undefined ? origin === ownOrigin(request) : site === undefined || site === 'same-origin';
  if (!sameOrigin || request.headers[CSRF_HEADER] !== account.csrfToken) {
    throw new AppError('csrf_rejected', `cross-site request refused: send the ${CSRF_HEADER} header from the console's own origin`);
  }
}

async function authorizeAccount(request: FastifyRequest, access: Access, account: Account, store: Store) {
  request.account = account;
  checkCsrf(request, account);
  if (access === 'session') return;
  if (account.mustChangePassword) {
    throw new AppError('password_change_required', 'choose a new password before doing anything else');
  }
  if (access === 'authenticated') return;
  await authorizePerson(request, access, account.email, (tenant) => account.providerRoles[tenant], store);
}

/** The tenant of the route's path or, on the gateway route, the one the policy found. */
function tenantInPath(request: FastifyRequest): string {
  const decided = request.gatewayDecision;
  const tenant = (decided?.kind === 'protected' ? decided.tenant : (request.params as { tenant?: string }).tenant) ?? '';
  if (!isTenantName(tenant)) throw new AppError('invalid_tenant_name', 'invalid tenant name');
  return tenant;
}

function checkTenant(request: FastifyRequest, memberOf: string | undefined, role: string | undefined, access: Access) {
  const tenant = tenantInPath(request);
  if (memberOf !== tenant) throw new AppError('not_a_member', 'not a member of this tenant');
  if (access === 'admin' && role !== 'admin') throw new AppError('admin_required', 'admin access required');
}

/** A person (session or access token) in the tenant of the path: the provider's groups and Kupe's members list combined. */
async function authorizePerson(
  request: FastifyRequest, access: Access, email: string, providerRoleIn: (tenant: string) => Role | undefined, store: Store,
) {
  const tenant = tenantInPath(request);
  const { role, tenantDisabled } = await personAccess(store, tenant, email, providerRoleIn(tenant));
  request.principal = role ? { kind: 'member', tenant, role, email } : null;
  // Told only to its members: to anyone else, a disabled tenant is one they are no member of.
  if (role && tenantDisabled) {
    throw new AppError('tenant_disabled', `tenant ${tenant} is disabled by the operator: its keys and members are refused until it is enabled`);
  }
  checkTenant(request, role && tenant, role, access);
}
