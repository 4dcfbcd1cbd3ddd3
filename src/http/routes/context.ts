import { setTimeout as sleep } from 'node:timers/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Clock } from '../../domain/time.ts';
import type { SessionSettings } from '../../domain/sessions.ts';
import type { ActionContext } from '../../domain/context.ts';
import type { LastUsedTracker } from '../../domain/last-used.ts';
import type { MailOn } from '../../domain/mail.ts';
import { actorName } from '../../domain/roles.ts';
import type { Store } from '../../domain/store.ts';
import type { TenantCaps } from '../../domain/tenants.ts';
import { principalOf } from '../guard.ts';

export type App = FastifyInstance<
  RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider
>;

export interface RouteDeps {
  store: Store;
  lastUsed: LastUsedTracker;
  clock: Clock;
  sessions: SessionSettings;
  caps: TenantCaps;
  /** false: the console takes no passwords (KUPE_PASSWORD_SIGN_IN). */
  passwordSignIn: boolean;
  /** Tenant admins may move their tenant to another plan (KUPE_TENANT_ADMINS_CHANGE_PLAN). */
  adminsChangePlan: boolean;
  /** Email on (KUPE_SMTP_URL): invites are mailed, admins warned; undefined: off. */
  mail: MailOn | undefined;
}

/** When and from where, for the audit log: the context of an action whose actor is not a principal yet. */
export function requestContext(request: FastifyRequest, deps: Pick<RouteDeps, 'clock' | 'mail'>): Omit<ActionContext, 'actor'> {
  return { now: deps.clock(), mail: deps.mail, clientIp: request.ip, requestId: request.id };
}

export function actionContext(request: FastifyRequest, deps: RouteDeps): ActionContext {
  return { actor: actorName(principalOf(request)), ...requestContext(request, deps) };
}

export function ifMatchOf(request: FastifyRequest): string | undefined {
  const value = request.headers['if-match'];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Waits until `floorMs` after `startedMs` (performance.now()): an answer that must not tell by its timing what
 * was found (a leak report's findings; whether an address has an account) is sent no sooner.
 */
export function notSoonerThan(startedMs: number, floorMs: number): Promise<void> {
  return sleep(Math.max(0, floorMs - (performance.now() - startedMs)));
}
