import { parseArgs } from 'node:util';
import { createAccountWithOneTimePassword, resetPassword } from '../domain/accounts.ts';
import { createApiKey } from '../domain/api-keys.ts';
import { AppError } from '../domain/errors.ts';
import { isRole, OPERATOR_ACTOR } from '../domain/roles.ts';
import { PLANS, type Plan } from '../domain/store.ts';
import { createTenant, listTenants } from '../domain/tenants.ts';
import { loadConfig } from '../config.ts';
import { STATUS_BY_CODE } from '../http/errors.ts';
import { toApiKeyJson } from '../http/routes/api-keys.ts';
import { createLogger } from '../logger.ts';
import { startServer } from '../server.ts';
import { openStore } from '../store/index.ts';

const USAGE = `Usage: kupe-server [command]

Commands:
  serve                       run the API server (the default)
  migrate                     bring the database schema up to date
  tenants create NAME --admin EMAIL [--display-name TEXT] [--plan ${PLANS.join('|')}]
  tenants list [--output json]
  users reset-password EMAIL  give a console account a new one-time password
  apikeys create --tenant NAME --role admin|readonly --display-name TEXT
                 [--expires-at RFC3339] [--output json]
  help                        show this text

Configuration comes from KUPE_* environment variables (see README.md).
Exit codes: 0 ok, 1 failure, 2 bad arguments or input, 3 not found, 4 conflict.`;

class UsageError extends Error {}

/** Exit code for a domain error: the CLI's side of the one error catalogue. */
export function exitCodeFor(error: AppError): number {
  const status = STATUS_BY_CODE[error.code];
  if (status === 400) return 2;
  if (status === 404) return 3;
  if (status === 409) return 4;
  return 1;
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`missing ${flag}`);
  return value;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      admin: { type: 'string' }, 'display-name': { type: 'string' }, plan: { type: 'string' },
      tenant: { type: 'string' }, role: { type: 'string' }, 'expires-at': { type: 'string' },
      output: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
}

async function withStore<T>(fn: (store: ReturnType<typeof openStore>['store']) => Promise<T>): Promise<T> {
  const config = loadConfig(process.env);
  const { store, migrate } = openStore(config.databaseUrl, config.database);
  try {
    await migrate();
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function serve() {
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel);
  const server = await startServer(config, logger);
  // SIGTERM (an orchestrator): readiness goes 503 first so the load balancer drains this instance.
  // SIGINT (Ctrl-C at a terminal): no wait.
  const shutdown = (signal: string) => {
    const delay = signal === 'SIGTERM' ? config.shutdownDelaySeconds : 0;
    logger.info({ signal, delaySeconds: delay }, 'shutting down');
    server.stop(delay).then(() => process.exit(0), (err: unknown) => {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv);
  const [command = 'serve', sub, name, ...extra] = positionals;
  if (values.help || command === 'help') {
    console.log(USAGE);
    return;
  }
  const output = values.output ?? 'text';
  if (output !== 'text' && output !== 'json') throw new UsageError('--output must be text or json');

  if (command === 'serve' && sub === undefined) return serve();
  if (command === 'migrate' && sub === undefined) {
    const config = loadConfig(process.env);
    const { store, migrate } = openStore(config.databaseUrl, config.database);
    const applied = await migrate().finally(() => store.close());
    console.log(applied.length === 0 ? 'database is up to date' : `applied: ${applied.join(', ')}`);
    return;
  }
  if (command === 'tenants' && sub === 'create' && name !== undefined && extra.length === 0) {
    if (values.plan !== undefined && !(PLANS as readonly string[]).includes(values.plan)) {
      throw new UsageError(`--plan must be one of ${PLANS.join(', ')}`);
    }
    const { tenant, password, existing } = await withStore(async (store) => {
      const created = await createTenant(store, {
        name, adminEmail: required(values.admin, '--admin EMAIL'),
        displayName: values['display-name'], plan: values.plan as Plan | undefined,
      }, new Date());
      const password = await createAccountWithOneTimePassword(store, created.contactEmail, new Date());
      return { tenant: created, password, existing: password ? undefined : await store.users.get(created.contactEmail) };
    });
    console.log(`created tenant ${tenant.name} with admin ${tenant.contactEmail}`);
    if (password) {
      console.log(`console sign-in for ${tenant.contactEmail}, one-time password (shown only now; changed at first sign-in):`);
      console.log(password);
    } else if (existing) {
      // Whoever holds that account is admin now: it may have been made by someone else through an invite.
      console.log(`warning: a console account for ${tenant.contactEmail} exists already (created ${existing.createdAt}); ` +
        `whoever holds it is admin of ${tenant.name} now. If you did not expect an account, run ` +
        `'npx kupe-server users reset-password ${tenant.contactEmail}' and give the new password to its rightful owner.`);
    }
    console.log(`for a pipeline: npx kupe-server apikeys create --tenant ${tenant.name} --role readonly --display-name 'ci'`);
    return;
  }
  if (command === 'users' && sub === 'reset-password' && name !== undefined && extra.length === 0) {
    const password = await withStore((store) => resetPassword(store, name, new Date()));
    console.log(`new one-time password for ${name.toLowerCase()} (every session of the account has ended; changed at first sign-in):`);
    console.log(password);
    return;
  }
  if (command === 'tenants' && sub === 'list' && name === undefined) {
    const tenants = await withStore((store) => listTenants(store));
    if (output === 'json') console.log(JSON.stringify({ items: tenants.map((t) => ({ name: t.name, displayName: t.displayName, plan: t.plan, createdAt: t.createdAt })) }));
    else if (tenants.length === 0) console.log('no tenants yet; create one with: npx kupe-server tenants create NAME --admin EMAIL');
    else for (const t of tenants) console.log(`${t.name}\t${t.plan}\t${t.displayName}`);
    return;
  }
  if (command === 'apikeys' && sub === 'create' && name === undefined) {
    const role = required(values.role, '--role admin|readonly');
    if (!isRole(role)) throw new UsageError('--role must be admin or readonly');
    const tenantName = required(values.tenant, '--tenant NAME');
    const created = await withStore(async (store) => {
      if (!(await store.tenants.get(tenantName))) throw new AppError('tenant_not_found', `tenant ${tenantName} not found`);
      return createApiKey(store, tenantName, {
        displayName: required(values['display-name'], '--display-name TEXT'), role, expiresAt: values['expires-at'],
      }, { actor: OPERATOR_ACTOR, now: new Date() }, loadConfig(process.env).tenantCaps);
    });
    if (output === 'json') console.log(JSON.stringify({ ...toApiKeyJson(created.record), key: created.key }));
    else {
      console.log(`created ${created.record.id} (${created.record.role}) in tenant ${tenantName}. ` +
        'The key is shown only now; store it as a secret:');
      console.log(created.key);
    }
    return;
  }
  throw new UsageError(`unknown command: ${positionals.join(' ') || command}`);
}

export async function main(argv: string[]): Promise<number> {
  try {
    await run(argv);
    return 0;
  } catch (error) {
    if (error instanceof AppError) {
      console.error(`kupe-server: ${error.message}`);
      return exitCodeFor(error);
    }
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`kupe-server: ${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    console.error(`kupe-server: ${(error as Error).message}`);
    return 1;
  }
}
