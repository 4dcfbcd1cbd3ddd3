import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { buildApp } from './http/app.ts';
import { openStore } from './store/index.ts';

export interface RunningServer {
  url: string;
  /** Readiness false, stop accepting, finish requests in flight, flush lastUsedAt, close the store. */
  stop(): Promise<void>;
}

/** The composition root: config -> logger -> store -> app -> listen. */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const { store, migrate } = openStore(config.databaseUrl);
  const applied = await migrate();
  if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');

  const { app, lastUsed, drain } = await buildApp({ config, store, logger });
  const flushLastUsed = async () => {
    try {
      await lastUsed.flush();
    } catch (err) {
      logger.error({ err }, 'could not write lastUsedAt; will retry at the next flush');
    }
  };
  const timer = setInterval(() => void flushLastUsed(), config.lastUsedFlushSeconds * 1000);
  timer.unref();

  const url = await app.listen({ host: config.host, port: config.port });
  if ((await store.tenants.list()).length === 0) {
    logger.warn(
      "no tenants yet. Create one: npx kupe-server tenants create acme --admin you@example.com " +
      "then a key for it: npx kupe-server apikeys create --tenant acme --role admin --display-name 'first key'",
    );
  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      drain();
      await app.close();
      clearInterval(timer);
      await flushLastUsed();
      await store.close();
    })();
    return stopping;
  };
  return { url, stop };
}
