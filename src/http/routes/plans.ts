import { Type } from 'typebox';
import { findPlan, type PlanCatalogue } from '../../domain/plans.ts';
import { AUTH_ERRORS, errorResponses, ListOf, PlanEntrySchema } from '../schemas.ts';
import type { App } from './context.ts';

const tags = ['plans'];
const security = [{ bearer: [] }];

/** The plan catalogue (docs/behaviour.md, "Plans"): for any authenticated caller, whatever its tenant. */
export function planRoutes(app: App, catalogue: PlanCatalogue) {
  app.get('/api/v1/plans', {
    config: { access: 'authenticated' },
    schema: {
      summary: 'List the plans', description: 'Every plan a tenant can be on, in order, with what the operator describes of it (KUPE_PLANS_FILE).',
      tags, security, response: { 200: ListOf(PlanEntrySchema), ...errorResponses(...AUTH_ERRORS) },
    },
  }, async () => ({ items: [...catalogue] }));

  app.get('/api/v1/plans/:name', {
    config: { access: 'authenticated' },
    schema: {
      summary: 'One plan', tags, security,
      params: Type.Object({ name: Type.String({ maxLength: 64, description: 'The plan\'s name', examples: ['pro'] }) }),
      response: { 200: PlanEntrySchema, ...errorResponses(400, ...AUTH_ERRORS, 404) },
    },
  }, async (request) => findPlan(catalogue, request.params.name));
}
