import { fileURLToPath } from 'node:url';
import { bootstrapEmptyStore } from "./domain/bootstrap.js";
import { purgeExpiredRecords } from "./domain/retention.js";
import { buildApp, sessionSettings } from "./http/app.js";
import { Metrics } from "./http/metrics.js";
import { StoreFaults } from "./http/store-faults.js";
import { describeStoreFault } from "./store/faults.js";
import { openStore } from "./store/index.js";
export const CONSOLE_DIR = fileURLToPath(new URL('../console/dist', import.meta.url));
/** Where a person on this machine reaches the console (0.0.0.0 is no address to browse to). */
function consoleUrl(listening, host) {
    return host === '0.0.0.0' || host === '::' ? listening.replace(/\/\/[^/]+:/, '//127.0.0.1:') + '/' : `${listening}/`;
}
/** The composition root: config -> logger -> store -> app -> listen. */
export async function startServer(config, logger, announce = (text) => process.stderr.write(text)) {
    const metrics = new Metrics();
    const faults = new StoreFaults(logger, metrics);
    // A fault no request is waiting for (a pooled connection dropped by a restart) is logged and counted
    // like any other: once per incident.
    const reportBackground = (error) => {
        faults.report(describeStoreFault(error) ?? { kind: 'unavailable', detail: String(error) }, error);
    };
    const { store, migrate } = openStore(config.databaseUrl, { ...config.database, onBackgroundError: reportBackground });
    const applied = await migrate();
    if (applied.length > 0)
        logger.info({ migrations: applied }, 'database migrated');
    const { app, lastUsed, drain } = await buildApp({ config, store, logger, metrics, faults, consoleDir: CONSOLE_DIR });
    // A database fault in background work is reported like a request's (once per incident); anything else is logged.
    const reportFailure = (err, message) => {
        const fault = store.describeFault(err);
        if (fault)
            faults.report(fault, err);
        else
            logger.error({ err }, message);
    };
    const flushLastUsed = () => lastUsed.flush()
        .catch((err) => reportFailure(err, 'could not write lastUsedAt; will retry at the next flush')); // values kept
    const timer = setInterval(() => void flushLastUsed(), config.lastUsedFlushSeconds * 1000);
    timer.unref();
    const purge = () => purgeExpiredRecords(store, new Date(), config.retention, sessionSettings(config))
        .then((deleted) => {
        if (deleted.audit + deleted.sessions + deleted.invites > 0)
            logger.info({ deleted }, 'retention: old records deleted');
    })
        .catch((err) => reportFailure(err, 'retention: could not delete old records; will retry in an hour'));
    void purge();
    const purgeTimer = setInterval(() => void purge(), 3600_000);
    purgeTimer.unref();
    // Before listening: once the "listening" line is out, serve() must already handle SIGTERM (an
    // orchestrator may send it at once), so nothing slow may come between listening and returning.
    const demo = await bootstrapEmptyStore(store, new Date());
    const url = await app.listen({ host: config.host, port: config.port });
    if (demo) {
        // The password goes to the terminal once, never into the log.
        logger.warn({ tenant: demo.tenant, email: demo.email }, 'first start: created the demo tenant and its admin; the one-time password is on stderr');
        announce(`Kupe is running. Sign in to the console at ${consoleUrl(url, config.host)}\n` +
            `  email:              ${demo.email}\n  one-time password:  ${demo.password}\n` +
            'You will choose a new password at first sign-in. This password is not shown again.\n');
    }
    else {
        logger.info('the store has tenants already: no demo tenant created');
    }
    let stopping;
    const stop = (delaySeconds = 0) => {
        stopping ??= (async () => {
            drain();
            if (delaySeconds > 0)
                await new Promise((resolve) => setTimeout(resolve, delaySeconds * 1000));
            await app.close();
            clearInterval(timer);
            clearInterval(purgeTimer);
            await flushLastUsed();
            await store.close();
            logger.info('stopped');
        })();
        return stopping;
    };
    return { url, stop };
}
