import type { FastifyRequest } from 'fastify';
import { type Decision, decide, type GatewayPolicy } from '../../gateway/policy.ts';

const one = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/**
 * The policy's decision about the request a gateway describes: nginx's convention (`X-Original-Method`,
 * `X-Original-URI`) or Caddy's and Traefik's (`X-Forwarded-Method`, `X-Forwarded-Uri`), the host from
 * `X-Forwarded-Host`, any other header (a tenant header) as the gateway passed it on.
 */
export function decideForGateway(request: FastifyRequest, policy: GatewayPolicy): Decision {
  const { headers } = request;
  const uri = one(headers['x-original-uri']) ?? one(headers['x-forwarded-uri']);
  if (uri === undefined) {
    return { kind: 'refused', code: 'gateway_request_invalid', message: 'no original request: the gateway must send X-Original-URI (nginx) or X-Forwarded-Uri' };
  }
  const method = (one(headers['x-original-method']) ?? one(headers['x-forwarded-method']) ?? 'GET').toUpperCase();
  return decide(policy, { method, uri, host: one(headers['x-forwarded-host']), headers });
}
