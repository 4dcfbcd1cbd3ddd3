import type { SessionSettings } from '../../domain/sessions.ts';
import type { LastUsedTracker } from '../../domain/last-used.ts';
import type { Principal, Role } from '../../domain/roles.ts';
import type { Store } from '../../domain/store.ts';
import type { ClientLimits } from '../../limits/index.ts';
import type { Clock } from '../../domain/time.ts';
import type { TokenCheck } from '../../oidc/access-tokens.ts';
import type { Decision, GatewayPolicy } from '../../gateway/policy.ts';
import type { Metrics } from '../metrics.ts';

/**
 * Who may call a route:
 * - public: anyone (still rate limited);
 * - scanner: anyone (rate limited; refused at once while its address is in backoff), the route itself
 *   checking the sender (a secret scanner's signature or token, src/http/routes/leak-reports.ts) and counting
 *   a failed check towards the address's backoff;
 * - session: a signed-in person (cookie), even one who must still change their password;
 * - authenticated: any valid credential (API key, or a session past its password change);
 * - member / admin: a credential of the tenant in the path, with that role;
 * - gateway: what the gateway policy asks of the request a gateway describes (src/http/gateway.ts): nothing
 *   on a public path, else a bearer credential (never the console's cookie) with the rule's role in the
 *   tenant the policy finds.
 * Routes without `access` (health, metrics, static files) bypass the guard entirely.
 */
export type Access = 'public' | 'scanner' | 'session' | 'authenticated' | 'member' | 'admin' | 'gateway';

/** A person signed in to the console through the session cookie. */
export interface Account {
  email: string;
  sessionId: string;
  csrfToken: string;
  mustChangePassword: boolean;
  /** Set when the session was opened through the identity provider. */
  method: 'password' | 'oidc';
  /** The provider's roles by tenant, from its groups claim at sign-in. */
  providerRoles: Readonly<Record<string, Role>>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
    account: Account | null;
    /** The person an identity provider's access token names (bearer tokens that are not API keys). */
    tokenEmail: string | null;
    /** What limits count the client as: its IPv4 address, or its IPv6 network (KUPE_IPV6_PREFIX_BITS). */
    readonly clientAddress: string;
    /** On the gateway route: what the policy decided about the request the gateway described. */
    gatewayDecision: Decision | null;
  }
}

/** The identity provider's access tokens, when KUPE_OIDC_ISSUER is set (src/oidc/access-tokens.ts). */
export interface BearerTokens {
  /** Verifies a token at `now` (the request's one clock reading). */
  verify: (token: string, now: Date) => Promise<TokenCheck>;
  /** Retry-After when a token's key cannot be fetched: the wait before the keys are fetched again. */
  retryAfterSeconds: number;
}

export interface GuardDeps {
  store: Store;
  limits: ClientLimits;
  lastUsed: LastUsedTracker;
  metrics: Metrics;
  clock: Clock;
  sessions: SessionSettings;
  /** null: no identity provider, a JWT is read as an unknown key. */
  accessTokens: BearerTokens | null;
  /** What the gateway route decides by (KUPE_GATEWAY_POLICY, or the default policy). */
  gatewayPolicy: GatewayPolicy;
}
