import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { FastifyBaseLogger } from 'fastify';
import type { Config, OidcConfig } from './config.ts';
import { LastUsedTracker } from './domain/last-used.ts';
import { providerIdentityMatches } from './domain/provider-sign-in.ts';
import { DEFAULT_CATALOGUE, parsePlanCatalogue, type PlanCatalogue } from './domain/plans.ts';
import { DEFAULT_POLICY_SOURCE, type GatewayPolicy, parsePolicy } from './gateway/policy.ts';
import type { Store } from './domain/store.ts';
import type { Clock } from './domain/time.ts';
import type { AppServices } from './http/app.ts';
import type { BearerTokens } from './http/guard.ts';
import type { Metrics } from './http/metrics.ts';
import type { ProviderSignIn } from './http/routes/provider-sign-in.ts';
import type { StoreFaults } from './http/store-faults.ts';
import type { IssuerKeys } from './oidc/issuer.ts';
import { ScannerKeys } from './outbound/github-scanning-keys.ts';
import { WebhookWorker } from './webhook-worker.ts';
import { MailWorker } from './mail-worker.ts';
import { SmtpSender } from './outbound/smtp.ts';
import { mailOn } from './config.ts';

/**
 * The long-lived objects the HTTP app is built from (AppServices), from the parts the composition root
 * (src/server.ts) made. The tests' helper (test/helpers.ts) builds them the same way: a test runs the same
 * parts as a server.
 */
export interface ServiceParts {
  config: Pick<Config, 'oidc' | 'gatewayPolicyFile' | 'plansFile' | 'leaks' | 'webhookAllowPrivate' | 'webhookTimeoutSeconds' | 'mail'>;
  store: Store;
  logger: FastifyBaseLogger;
  clock: Clock;
  metrics: Metrics;
  faults: StoreFaults;
  /** The identity provider's keys (src/oidc/issuer.ts), started by the caller; required when config.oidc is set. */
  issuerKeys: IssuerKeys | null;
}

export async function buildServices({ config, store, logger, clock, metrics, faults, issuerKeys }: ServiceParts): Promise<AppServices> {
  const oidc = config.oidc;
  if (oidc && !issuerKeys) throw new Error('config.oidc is set but no issuer keys were given');
  const provider = oidc && issuerKeys ? { oidc, issuerKeys } : undefined;
  return {
    clock, logger, metrics, faults,
    lastUsed: new LastUsedTracker(store.apiKeys),
    accessTokens: provider ? await accessTokens(provider.issuerKeys, provider.oidc, store) : null,
    gatewayPolicy: readGatewayPolicy(config.gatewayPolicyFile),
    plans: readPlanCatalogue(config.plansFile),
    providerSignIn: provider?.oidc.clientId === undefined ? null : await providerSignIn(provider.issuerKeys, provider.oidc, provider.oidc.clientId),
    scanners: {
      github: config.leaks.githubKeysUrl === undefined ? null : new ScannerKeys({
        url: config.leaks.githubKeysUrl, clock,
        onError: (message) => logger.warn({ url: config.leaks.githubKeysUrl }, `GitHub's secret-scanning keys: ${message}`),
      }),
      gitlabToken: config.leaks.gitlabToken,
    },
    // Started by the composition root (src/server.ts) once the server listens; tests start it when they need it.
    webhookWorker: new WebhookWorker(store, {
      allowPrivate: config.webhookAllowPrivate, timeoutMs: config.webhookTimeoutSeconds * 1000, maxResponseBytes: 4096,
    }, clock, logger, { mail: mailOn(config) }),
    // The same: started by the composition root; null when email is off.
    mailWorker: config.mail === undefined ? null
      : new MailWorker(store, new SmtpSender({ url: config.mail.smtpUrl, from: config.mail.from, timeoutMs: 20_000 }), clock, logger),
  };
}

/** The JSON of a file a setting names; a file that cannot be read or parsed is a start failure naming both. */
function readJsonSetting(setting: string, file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${setting}=${JSON.stringify(file)}: ${(error as Error).message}`);
  }
}

/**
 * The gateway policy from its file (KUPE_GATEWAY_POLICY), or the default one. A file that cannot be read or
 * holds a bad policy stops the start, with every problem named.
 */
export function readGatewayPolicy(file: string | undefined): GatewayPolicy {
  const source = file === undefined ? DEFAULT_POLICY_SOURCE : readJsonSetting('KUPE_GATEWAY_POLICY', file);
  const { policy, problems } = parsePolicy(source);
  if (!policy) throw new Error(`invalid gateway policy${file === undefined ? '' : ` in ${file}`}:\n  - ${problems.join('\n  - ')}`);
  return policy;
}

/** The certificate and key Kupe serves HTTPS with, checked to belong together; a problem names the settings. */
export function readTlsFiles(files: { certFile: string; keyFile: string }): { cert: Buffer; key: Buffer } {
  let pair: { cert: Buffer; key: Buffer };
  try {
    pair = { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
    createSecureContext(pair); // a key of another certificate, or no PEM at all, is found here
  } catch (error) {
    throw new Error(`KUPE_TLS_CERT_FILE=${JSON.stringify(files.certFile)}, KUPE_TLS_KEY_FILE=${JSON.stringify(files.keyFile)}: ${(error as Error).message}`);
  }
  return pair;
}

/**
 * The plan catalogue from its file (KUPE_PLANS_FILE), or display names only. A file that cannot be read or
 * describes the plans wrongly stops the start, with every problem named.
 */
export function readPlanCatalogue(file: string | undefined): PlanCatalogue {
  if (file === undefined) return DEFAULT_CATALOGUE;
  const { catalogue, problems } = parsePlanCatalogue(readJsonSetting('KUPE_PLANS_FILE', file));
  if (!catalogue) throw new Error(`invalid plan catalogue in ${file}:\n  - ${problems.join('\n  - ')}`);
  return catalogue;
}

/** Access-token verification, with jose loaded only when an identity provider is configured. */
async function accessTokens(keys: IssuerKeys, settings: OidcConfig, store: Store): Promise<BearerTokens> {
  const { VerifiedTokens, verifyAccessToken } = await import('./oidc/access-tokens.ts');
  const verified = new VerifiedTokens(settings.verifiedTokenCacheSeconds);
  const identityMatches = (subject: string, email: string) => providerIdentityMatches(store, settings.issuer, subject, email);
  return {
    verify: (token, now) => verifyAccessToken(token, now, keys, settings, verified, identityMatches),
    retryAfterSeconds: Math.max(1, Math.ceil(keys.settings.unknownKeyCooldownMs / 1000)),
  };
}

/** The console's sign-in through the provider, with openid-client loaded only then. */
async function providerSignIn(keys: IssuerKeys, settings: OidcConfig, clientId: string): Promise<ProviderSignIn> {
  const { ConsoleSignIn } = await import('./oidc/sign-in.ts');
  return { flow: new ConsoleSignIn(keys, { ...settings, clientId }), name: settings.providerName, redirectUri: settings.redirectUri };
}
