import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { addMember, listMembers, reissueInvite, removeMember, updateMember } from '../../domain/members.ts';
import { ownOrigin } from '../cookies.ts';
import type { IssuedInvite } from '../../domain/invites.ts';
import { principalOf } from '../guard.ts';
import {
  AUTH_ERRORS, EmailSchema, errorResponses, InviteSchema, ListOf, MemberSchema, NewMemberSchema, RoleSchema, TenantParamsSchema,
} from '../schemas.ts';
import { actionContext, type App, ifMatchOf, type RouteDeps } from './context.ts';

const MemberParamsSchema = Type.Object({
  ...TenantParamsSchema.properties,
  email: EmailSchema({ description: 'Member email; `@` may be sent literally or as %40', examples: ['bob@acme.com'] }),
});
const IfMatchHeaders = Type.Object({ 'if-match': Type.Optional(Type.String({ description: "Tenant's ETag; optional" })) });
const tags = ['members'];
const security = [{ bearer: [] }];

export function memberRoutes(app: App, deps: RouteDeps) {
  app.get('/api/v1/tenants/:tenant/members', {
    config: { access: 'member' },
    schema: {
      summary: 'List members', description: 'Any member.', tags, security,
      params: TenantParamsSchema,
      response: { 200: ListOf(MemberSchema), ...errorResponses(400, ...AUTH_ERRORS) },
    },
  }, async (request) => ({ items: await listMembers(deps.store, request.params.tenant) }));

  app.post('/api/v1/tenants/:tenant/members', {
    config: { access: 'admin' },
    schema: {
      summary: 'Add a member', operationId: 'addMember',
      description: 'Admin. The email is stored lowercase. The member is listed at once with `pending: true` and gets access only once they accept the invite. With email on, the invite link is mailed to that address and the answer has `invite.emailedTo` instead of `invite.url`.',
      tags, security,
      params: TenantParamsSchema, headers: IfMatchHeaders,
      body: Type.Object({
        email: EmailSchema({ examples: ['bob@acme.com'] }),
        role: RoleSchema,
      }, { additionalProperties: false }),
      response: { 201: NewMemberSchema, ...errorResponses(400, ...AUTH_ERRORS, 409, 412) },
    },
    links: {
      201: {
        changeRole: { operationId: 'updateMember', parameters: { tenant: '$request.path.tenant', email: '$response.body#/email' } },
        remove: { operationId: 'removeMember', parameters: { tenant: '$request.path.tenant', email: '$response.body#/email' } },
      },
    },
  }, async (request, reply) => {
    const { member, invite } = await addMember(
      deps.store, request.params.tenant, request.body, ifMatchOf(request), actionContext(request, deps), deps.caps,
    );
    return reply.code(201).send({ ...member, invite: inviteView(request, invite) });
  });

  app.patch('/api/v1/tenants/:tenant/members/:email', {
    config: { access: 'admin' },
    schema: {
      summary: "Change a member's role", operationId: 'updateMember',
      description: 'Admin. Demoting the last admin is refused with 409.', tags, security,
      params: MemberParamsSchema, headers: IfMatchHeaders,
      body: Type.Object({ role: RoleSchema }, { additionalProperties: false }),
      response: { 200: MemberSchema, ...errorResponses(400, ...AUTH_ERRORS, 404, 409, 412) },
    },
  }, async (request) => updateMember(
    deps.store, request.params.tenant, request.params.email, request.body, ifMatchOf(request),
    actionContext(request, deps),
  ));

  app.delete('/api/v1/tenants/:tenant/members/:email', {
    config: { access: 'admin' },
    schema: {
      summary: 'Remove a member', operationId: 'removeMember',
      description: 'Admin. Removing the last admin is refused with 409; removing yourself with 400.', tags, security,
      params: MemberParamsSchema, headers: IfMatchHeaders,
      response: { 204: Type.Null({ description: 'Removed' }), ...errorResponses(400, ...AUTH_ERRORS, 404, 409, 412) },
    },
  }, async (request, reply) => {
    await removeMember(
      deps.store, request.params.tenant, request.params.email, principalOf(request), ifMatchOf(request),
      actionContext(request, deps),
    );
    return reply.code(204).send(null);
  });

  app.post('/api/v1/tenants/:tenant/members/:email/invite', {
    config: { access: 'admin' },
    schema: {
      summary: 'A new invite link for a pending member', operationId: 'reissueInvite',
      description: 'Admin. For a member who has not joined yet; earlier links of the membership stop working. With email on, the new link is mailed to the member ("send again") and not shown.',
      tags, security, params: MemberParamsSchema,
      response: { 201: InviteSchema, ...errorResponses(400, ...AUTH_ERRORS, 404, 409) },
    },
  }, async (request, reply) => {
    const invite = await reissueInvite(deps.store, request.params.tenant, request.params.email, actionContext(request, deps));
    return reply.code(201).send(inviteView(request, invite));
  });
}

/** Email off: the link, at this request's origin, for the admin to pass on. Email on: where it was mailed. */
function inviteView(request: FastifyRequest, invite: IssuedInvite) {
  if ('emailedTo' in invite) return { emailedTo: invite.emailedTo, expiresAt: invite.expiresAt };
  return { url: `${ownOrigin(request)}/#/invite/${invite.token}`, expiresAt: invite.expiresAt };
}
