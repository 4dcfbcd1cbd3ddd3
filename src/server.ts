import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { type Config, mailOn } from './config.ts';
import type { Store } from './domain/store.ts';
import { bootstrapEmptyStore } from './domain/bootstrap.ts';
import { LEAK_REPORTERS, revokeLeakedKeys } from './domain/leaks.ts';
import { revokeApiKey } from './domain/api-keys.ts';
import { setTenantDisabled } from './domain/tenants.ts';
import { OPERATOR_ACTOR } from './domain/roles.ts';
import { controlSocketPath, serveControl } from './control.ts';
import { purgeExpiredRecords } from './domain/retention.ts';
import { sweepExpiringKeys } from './domain/expiry.ts';
import { systemClock, type Clock } from './domain/time.ts';
import { type AppServices, buildApp, sessionSettings } from './http/app.ts';
import { Metrics } from './http/metrics.ts';
import { openLimits } from './limits/index.ts';
import { limitSettings } from './limits/policy.ts';
import { StoreFaults } from './http/store-faults.ts';
import { describeStoreFault } from './store/faults.ts';
import { openStore } from './store/index.ts';
import { buildServices, readTlsFiles } from './services.ts';
import type { Server as TlsServer } from 'node:tls';
import { lockForServing } from './store/serve-lock.ts';

export const CONSOLE_DIR = fileURLToPath(new URL('../console/dist', import.meta.url));

/** Where a person on this machine reaches the console (0.0.0.0 is no address to browse to). */
function consoleUrl(listening: string, host: string): string {
  return host === '0.0.0.0' || host === '::' ? listening.replace(/\/\/[^/]+:/, '//127.0.0.1:') + '/' : `${listening}/`;
}

/** What has been started, in order, with how to stop it. */
type StartedParts = { what: string; stop: () => unknown }[];

export interface RunningServer {
  url: string;
  /**
   * Readiness false, then after delaySeconds (for load balancers to notice)
   * stop accepting, finish requests in flight, flush lastUsedAt, close the store.
   */
  stop(delaySeconds?: number): Promise<void>;
  /**
   * HTTPS: reads KUPE_TLS_CERT_FILE and KUPE_TLS_KEY_FILE again (SIGHUP) and serves new connections with them;
   * open connections keep theirs. Throws, keeping the pair in use, when the files are unreadable or do not match.
   */
  reloadTls(): void;
}

/**
 * The composition root: config and logger in; the clock, metrics, store, limits (memory or Redis), the
 * identity provider's keys, the services (src/services.ts) and the app made here and passed in; then listen.
 * It owns start and stop: whatever it started is stopped in reverse order, at stop or when a start fails.
 */
export async function startServer(
  config: Config, logger: Logger, announce: (text: string) => void = (text) => process.stderr.write(text),
): Promise<RunningServer> {
  // What has been started, to stop in reverse order: on a failed start (port taken, database unreachable)
  // everything is stopped before the error reaches the caller, so the process can exit instead of living
  // on with a pool, a fence or a timer and serving nothing.
  const started: StartedParts = [];
  const stopStarted = async () => {
    for (const { what, stop } of started.splice(0).reverse()) {
      try {
        await stop();
      } catch (err) {
        logger.error({ err }, `could not stop ${what}`);
      }
    }
  };
  try {
    return await startParts(config, logger, announce, started, stopStarted);
  } catch (error) {
    await stopStarted();
    throw error;
  }
}

async function startParts(
  config: Config, logger: Logger, announce: (text: string) => void,
  started: StartedParts, stopStarted: () => Promise<void>,
): Promise<RunningServer> {
  const releaseLock = lockForServing(config.databaseUrl); // SQLite: one server per file (the key cache needs it)
  started.push({ what: 'the serve lock', stop: releaseLock });
  const clock = systemClock;
  const reportOutage = outageReporter(clock);
  const metrics = new Metrics();
  const faults = new StoreFaults(logger, metrics, clock);
  // A fault no request is waiting for (a pooled connection dropped by a restart) is logged and counted
  // like any other: once per incident.
  const reportBackground = (error: unknown) => {
    faults.report(describeStoreFault(error) ?? { kind: 'unavailable', detail: String(error) }, error);
  };
  const { store, migrate, startKeyCache } = openStore(config.databaseUrl, { ...config.database, onBackgroundError: reportBackground });
  started.push({ what: 'the store', stop: () => store.close() });
  const applied = await migrate();
  await startKeyCache();
  if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');

  // jose is loaded only when an identity provider is configured.
  const issuerKeys = config.oidc ? new (await import('./oidc/issuer.ts')).IssuerKeys({
    issuer: config.oidc.issuer, refreshSeconds: config.oidc.jwksRefreshSeconds, clock,
    // The keys held keep working: logged once a minute.
    onError: reportOutage(() => metrics.identityProviderErrors.inc(), 60_000, (problem: string) => logger.error({ problem },
      'identity provider unreachable: access tokens signed by keys already held still verify; new keys cannot be fetched')),
    onRecovered: (keyIds) => logger.info({ issuer: config.oidc?.issuer, keyIds }, 'identity provider keys loaded'),
  }) : null;
  const services = await buildServices({ config, store, logger, clock, metrics, faults, issuerKeys });

  const limits = await openLimits(limitSettings(config), config.redisUrl === undefined ? undefined : {
    url: config.redisUrl, prefix: config.redisPrefix,
    onError: reportOutage(() => metrics.limitStoreErrors.inc(), 10_000, (err: unknown) => logger.error({ err },
      'Redis unreachable: rate limits and authentication backoff are NOT enforced (failing open)')),
    onSlowStart: () => logger.error('Redis did not answer within 2 s: starting anyway; limits fail open until it does'),
  });
  started.push({ what: 'the limits', stop: () => limits.close() });

  issuerKeys?.start(); // not awaited: API keys and passwords work while the provider is down
  if (issuerKeys) started.push({ what: 'the identity provider keys', stop: () => issuerKeys.stop() });

  // HTTPS by settings (read here, and again on SIGHUP); plain HTTP otherwise.
  const tls = config.tls === undefined ? null : readTlsFiles(config.tls);
  const { app, drain } = await buildApp({ ...services, config, store, limits, consoleDir: CONSOLE_DIR, tls });
  startBackgroundWork(config, store, services, started, () => app.close());
  await startControl(config, store, logger, clock, started);
  services.webhookWorker.start();
  started.push({ what: 'the webhook deliveries', stop: () => services.webhookWorker.stop() });
  const { mailWorker } = services;
  if (mailWorker) {
    mailWorker.start();
    started.push({ what: 'the mail outbox', stop: () => mailWorker.stop() });
  }

  // Before listening: once the "listening" line is out, serve() must already handle SIGTERM (an
  // orchestrator may send it at once), so nothing slow may come between listening and returning.
  // Without passwords the demo admin could never sign in: tenants come from `kupe-server tenants create`.
  const demo = config.passwordSignIn ? await bootstrapEmptyStore(store, clock()) : undefined;
  const url = await app.listen({ host: config.host, port: config.port });
  announceFirstStart(demo, config, url, logger, announce);

  let stopping: Promise<void> | undefined;
  const stop = (delaySeconds = 0) => {
    stopping ??= (async () => {
      drain();
      if (delaySeconds > 0) await new Promise((resolve) => setTimeout(resolve, delaySeconds * 1000));
      await stopStarted(); // the HTTP server (requests in flight finish), then the flush, limits, store, lock
      logger.info('stopped');
    })();
    return stopping;
  };
  const reloadTls = () => {
    if (config.tls === undefined) throw new Error('no TLS to reload: KUPE_TLS_CERT_FILE and KUPE_TLS_KEY_FILE are not set');
    (app.server as unknown as TlsServer).setSecureContext(readTlsFiles(config.tls));
    logger.info({ certFile: config.tls.certFile }, 'TLS certificate reloaded: new connections use it');
  };
  return { url, stop, reloadTls };
}

/**
 * The lastUsedAt flush and the hourly retention purge, each stopped in its turn. Stopped in reverse order:
 * the HTTP server first (requests in flight finish), then the last lastUsedAt values are written, then the
 * store closes.
 */
function startBackgroundWork(
  config: Config, store: Store, { lastUsed, faults, logger, clock }: AppServices, started: StartedParts, closeHttp: () => Promise<unknown>,
) {
  // A database fault in background work is reported like a request's (once per incident); anything else is logged.
  const reportFailure = (err: unknown, message: string) => {
    const fault = store.describeFault(err);
    if (fault) faults.report(fault, err);
    else logger.error({ err }, message);
  };
  const flushLastUsed = () => lastUsed.flush()
    .catch((err: unknown) => reportFailure(err, 'could not write lastUsedAt; will retry at the next flush')); // values kept
  const timer = setInterval(() => void flushLastUsed(), config.lastUsedFlushSeconds * 1000);
  timer.unref();
  started.push({ what: 'the lastUsedAt flush', stop: async () => { clearInterval(timer); await flushLastUsed(); } });
  started.push({ what: 'the HTTP server', stop: closeHttp });
  const purge = () => purgeExpiredRecords(store, clock(), config.retention, sessionSettings(config))
    .then((deleted) => {
      if (Object.values(deleted).some((n) => n > 0)) logger.info({ deleted }, 'retention: old records deleted');
    })
    .catch((err: unknown) => reportFailure(err, 'retention: could not delete old records; will retry in an hour'));
  void purge();
  const purgeTimer = setInterval(() => void purge(), 3600_000);
  purgeTimer.unref();
  started.push({ what: 'the retention timer', stop: () => clearInterval(purgeTimer) });
  // Expiry warnings (docs/notifications.md): every instance sweeps; each warning is written once.
  const sweep = () => sweepExpiringKeys(store, { now: clock(), mail: mailOn(config) })
    .catch((err: unknown) => reportFailure(err, 'expiry warnings: could not sweep; will retry in a minute'));
  void sweep();
  const sweepTimer = setInterval(() => void sweep(), 60_000);
  sweepTimer.unref();
  started.push({ what: 'the expiry sweep', stop: () => clearInterval(sweepTimer) });
}

/**
 * SQLite: the socket through which `kupe-server apikeys revoke` and `revoke-leaked` reach this server (src/control.ts),
 * so that a leaked key is evicted from this process's key cache as it is revoked.
 */
async function startControl(config: Config, store: Store, logger: Logger, clock: Clock, started: StartedParts) {
  const path = controlSocketPath(config.databaseUrl);
  if (path === undefined) return;
  const ctx = () => ({ now: clock(), mail: mailOn(config) });
  const control = await serveControl(path, {
    async revokeLeaked(reports) {
      const findings = await revokeLeakedKeys(store, reports, LEAK_REPORTERS.operator, ctx());
      for (const { outcome, keyId, tenant } of findings) {
        if (outcome === 'revoked') logger.warn({ keyId, tenant, reporter: LEAK_REPORTERS.operator }, 'leaked api key revoked');
      }
      return findings;
    },
    async revoke(tenant, id) {
      await revokeApiKey(store, tenant, id, { ...ctx(), actor: OPERATOR_ACTOR }, 'operator');
      logger.info({ keyId: id, tenant }, 'api key revoked by the operator (kupe-server apikeys revoke)');
    },
    async setTenantDisabled(tenant, disabled) {
      const { changed } = await setTenantDisabled(store, tenant, disabled, { ...ctx(), actor: OPERATOR_ACTOR });
      if (changed) logger.warn({ tenant }, `tenant ${disabled ? 'disabled' : 'enabled'} by the operator (kupe-server tenants ${disabled ? 'disable' : 'enable'})`);
      return { changed };
    },
  });
  if ('problem' in control) {
    logger.warn(`no control socket: ${control.problem}; kupe-server apikeys revoke, revoke-leaked and tenants disable cannot reach this server (revoke through the API instead; disable a tenant once this server is stopped)`);
    return;
  }
  started.push({ what: 'the control socket', stop: control.close });
}

/** What the first start created, told once: the password to the terminal, never into the log. */
function announceFirstStart(
  demo: Awaited<ReturnType<typeof bootstrapEmptyStore>>, config: Config, url: string, logger: Logger, announce: (text: string) => void,
) {
  if (demo) {
    logger.warn({ tenant: demo.tenant, email: demo.email }, 'first start: created the demo tenant and its admin; the one-time password is on stderr');
    announce(`Kupe is running. Sign in to the console at ${consoleUrl(url, config.host)}\n` +
      `  email:              ${demo.email}\n  one-time password:  ${demo.password}\n` +
      'You will choose a new password at first sign-in. This password is not shown again.\n');
  } else if (config.passwordSignIn) {
    logger.info('the store has tenants already: no demo tenant created');
  } else {
    logger.info('password sign-in is off: no demo tenant; create tenants with kupe-server tenants create');
  }
}

/** Counts every failure and logs at most once every `everyMs`: an outage is a line now and then, not one a request. */
function outageReporter(clock: Clock) {
  return <T>(count: () => void, everyMs: number, log: (detail: T) => void): (detail: T) => void => {
    let lastLogged = -Infinity;
    return (detail) => {
      count();
      const now = clock().getTime();
      if (now - lastLogged < everyMs) return;
      lastLogged = now;
      log(detail);
    };
  };
}
