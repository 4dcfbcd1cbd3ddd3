import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AppError, type ErrorCode } from '../domain/errors.ts';
import { isRole, OPERATOR_ACTOR } from '../domain/roles.ts';
import { PLANS, type Plan } from '../domain/vocabulary.ts';
import { loadConfig, mailOn } from '../config.ts';
import type { Store } from '../domain/store.ts';

// The heavy modules (the store's drivers, argon2, the HTTP server) are imported by the commands that need
// them, so `--version`, `help` and usage errors answer without loading them.

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const USAGE = `Usage: kupe-server COMMAND [options]

Commands:
  serve                       run the API server and the console
  migrate                     bring the database schema up to date
  tenants create NAME --admin EMAIL [--display-name TEXT] [--plan ${PLANS.join('|')}]
  tenants list [--output json]
  tenants set-plan NAME ${PLANS.join('|')}
  users reset-password EMAIL  give a console account a new one-time password
  users unlink-provider EMAIL unlink the account from its identity-provider identities
  apikeys create --tenant NAME --role admin|readonly --display-name TEXT
                 [--expires-at RFC3339] [--output json]
  apikeys revoke-leaked [--source TEXT] [--output json]
                              revoke every Kupe key found in standard input (a leaked file,
                              a log), as leaked; a running SQLite server is reached through
                              its control socket (docs/leaks.md)
  help, --help, -h            show this text
  --version                   print the version

Configuration comes from KUPE_* environment variables (see README.md).
Exit codes: 0 ok, 1 failure, 2 bad arguments or input, 3 not found, 4 conflict.`;

class UsageError extends Error {}

/**
 * Exit codes for the catalogue's codes the operator CLI can meet (2 bad
 * input, 3 not found, 4 conflict); anything else is 1.
 */
const EXIT_CODES: Partial<Record<ErrorCode, number>> = {
  validation_failed: 2, invalid_tenant_name: 2,
  tenant_not_found: 3, user_not_found: 3,
  tenant_already_exists: 4, api_key_limit_reached: 4, member_limit_reached: 4,
};

export function exitCodeFor(error: AppError): number {
  return EXIT_CODES[error.code] ?? 1;
}

function planArgument(value: string, what: string): Plan {
  if (!(PLANS as readonly string[]).includes(value)) throw new UsageError(`${what} must be one of ${PLANS.join(', ')}`);
  return value as Plan;
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
      output: { type: 'string' }, source: { type: 'string' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' },
    },
  });
}

async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const config = loadConfig(process.env);
  const { openStore } = await import('../store/index.ts');
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
  const [{ createLogger }, { startServer }] = await Promise.all([import('../logger.ts'), import('../server.ts')]);
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

type Values = ReturnType<typeof parse>['values'];

/** One command: how many positional arguments it takes after its words, and what it does. */
interface Command {
  words: string[];
  /** Names of the positional arguments after the words, for the usage error. */
  args: string[];
  run: (values: Values, args: string[], output: 'text' | 'json') => Promise<void>;
}

const COMMANDS: Command[] = [
  { words: ['serve'], args: [], run: () => serve() },
  {
    words: ['migrate'], args: [], run: async () => {
      const config = loadConfig(process.env);
      const { openStore } = await import('../store/index.ts');
      const { store, migrate } = openStore(config.databaseUrl, config.database);
      const applied = await migrate().finally(() => store.close());
      console.log(applied.length === 0 ? 'database is up to date' : `applied: ${applied.join(', ')}`);
    },
  },
  { words: ['tenants', 'create'], args: ['NAME'], run: (values, [name]) => tenantsCreate(values, name!) },
  { words: ['tenants', 'list'], args: [], run: (_values, _args, output) => tenantsList(output) },
  {
    words: ['tenants', 'set-plan'], args: ['NAME', 'PLAN'], run: async (_values, [name, plan]) => {
      const changes = { plan: planArgument(plan!, 'PLAN') };
      const { updateTenant } = await import('../domain/tenants.ts');
      const tenant = await withStore((store) => updateTenant(store, name!, changes, undefined, { actor: OPERATOR_ACTOR, now: new Date() }));
      console.log(`tenant ${tenant.name} is on plan ${tenant.plan}`);
    },
  },
  {
    words: ['users', 'reset-password'], args: ['EMAIL'], run: async (_values, [email]) => {
      const { resetPassword } = await import('../domain/accounts.ts');
      const reset = await withStore((store) => resetPassword(store, email!, new Date()));
      console.log(`new one-time password for ${reset.email} (every session of the account has ended; changed at first sign-in):`);
      console.log(reset.password);
    },
  },
  {
    words: ['users', 'unlink-provider'], args: ['EMAIL'], run: async (_values, [email]) => {
      const { unlinkProviderIdentities } = await import('../domain/provider-sign-in.ts');
      const removed = await withStore((store) => unlinkProviderIdentities(store, email!));
      console.log(removed === 0 ? 'the account had no provider identity linked'
        : `unlinked ${removed} provider identit${removed === 1 ? 'y' : 'ies'}: the next sign-in through the provider links anew`);
    },
  },
  { words: ['apikeys', 'create'], args: [], run: (values, _args, output) => apiKeysCreate(values, output) },
  { words: ['apikeys', 'revoke-leaked'], args: [], run: (values, _args, output) => apiKeysRevokeLeaked(values, output) },
];

async function tenantsCreate(values: Values, name: string) {
  const plan = values.plan === undefined ? undefined : planArgument(values.plan, '--plan');
  const [{ createTenant }, { createAccountWithOneTimePassword, findAccount }] =
    await Promise.all([import('../domain/tenants.ts'), import('../domain/accounts.ts')]);
  const { tenant, password, existing } = await withStore(async (store) => {
    const created = await createTenant(store, {
      name, adminEmail: required(values.admin, '--admin EMAIL'),
      displayName: values['display-name'], plan,
    }, new Date());
    const password = await createAccountWithOneTimePassword(store, created.contactEmail, new Date());
    return { tenant: created, password, existing: password ? undefined : await findAccount(store, created.contactEmail) };
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
}

async function tenantsList(output: 'text' | 'json') {
  const { listTenants } = await import('../domain/tenants.ts');
  const tenants = await withStore((store) => listTenants(store));
  if (output === 'json') {
    console.log(JSON.stringify({ items: tenants.map((t) => ({ name: t.name, displayName: t.displayName, plan: t.plan, createdAt: t.createdAt })) }));
  } else if (tenants.length === 0) {
    console.log('no tenants yet; create one with: npx kupe-server tenants create NAME --admin EMAIL');
  } else {
    for (const t of tenants) console.log(`${t.name}\t${t.plan}\t${t.displayName}`);
  }
}

async function apiKeysCreate(values: Values, output: 'text' | 'json') {
  const role = required(values.role, '--role admin|readonly');
  if (!isRole(role)) throw new UsageError('--role must be admin or readonly');
  const tenantName = required(values.tenant, '--tenant NAME');
  const displayName = required(values['display-name'], '--display-name TEXT');
  const { createApiKey, toApiKeyView } = await import('../domain/api-keys.ts');
  const created = await withStore((store) => createApiKey(store, tenantName, {
    displayName, role, expiresAt: values['expires-at'],
  }, { actor: OPERATOR_ACTOR, now: new Date() }, loadConfig(process.env).tenantCaps));
  if (output === 'json') {
    console.log(JSON.stringify({ ...toApiKeyView(created.record), key: created.key }));
  } else {
    console.log(`created ${created.record.id} (${created.record.role}) in tenant ${tenantName}. ` +
      'The key is shown only now; store it as a secret:');
    console.log(created.key);
  }
}

async function readStandardInput(): Promise<string> {
  if (process.stdin.isTTY) console.error('reading leaked keys from standard input (paste them, then Ctrl-D)...');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Tokens come from standard input, never from the command line (where the shell's history and `ps` would
 * keep them). On SQLite with a server running, the server revokes them (src/control.ts): its key cache
 * must hear the revocation. Otherwise (no server on the file, or PostgreSQL, whose fence reaches every
 * instance) this process revokes them through the same domain path.
 */
async function apiKeysRevokeLeaked(values: Values, output: 'text' | 'json') {
  const [{ keysIn }, { LEAK_REPORTERS, revokeLeakedKeys }, control] = await Promise.all([
    import('../domain/key-format.ts'), import('../domain/leaks.ts'), import('../control.ts'),
  ]);
  const tokens = keysIn(await readStandardInput());
  if (tokens.length === 0) throw new UsageError('no Kupe key (kupe_<8 hex>_<49 letters and digits>) found on standard input');
  const source = values.source;
  const config = loadConfig(process.env);
  const socket = control.controlSocketPath(config.databaseUrl);
  const revokeHere = () => withStore((store) => revokeLeakedKeys(store, tokens.map((token) => ({ token, source })), LEAK_REPORTERS.operator, { now: new Date(), mail: mailOn(config) }));
  let findings: Awaited<ReturnType<typeof revokeHere>>;
  if (socket === undefined) {
    findings = await revokeHere();
  } else {
    const { tryLockForServing } = await import('../store/index.ts');
    const release = tryLockForServing(config.databaseUrl, 0);
    if (release) {
      try {
        findings = await revokeHere(); // no server runs on the file, and none starts until this is done
      } finally {
        release();
      }
    } else {
      findings = [];
      for (let i = 0; i < tokens.length; i += control.CONTROL_BATCH) {
        const batch = tokens.slice(i, i + control.CONTROL_BATCH);
        findings.push(...await control.askToRevokeLeaked(socket, batch, source).catch((error: Error) => {
          throw new Error(`a server is running on ${config.databaseUrl} but its control socket ${socket} did not take the keys ` +
            `(${error.message}); ${i === 0 ? 'nothing was revoked' : `the first ${i} were revoked`}: revoke through the API, or run this again`);
        }));
      }
    }
  }
  const shown = (token: string) => `${token.slice(0, 13)}...`; // kupe_ and the id: never the secret
  if (output === 'json') {
    console.log(JSON.stringify({ items: findings.map((f, i) => ({ key: shown(tokens[i]!), ...f })) }));
    return;
  }
  const words = { revoked: 'revoked', already_revoked: 'already revoked', not_ours: 'not a Kupe key (unknown, or its secret does not match)' };
  for (const [i, f] of findings.entries()) {
    console.log(`${shown(tokens[i]!)}\t${words[f.outcome]}${f.keyId ? `\t${f.keyId} in tenant ${f.tenant}` : ''}`);
  }
  const count = (outcome: keyof typeof words) => findings.filter((f) => f.outcome === outcome).length;
  console.log(`${findings.length} found: ${count('revoked')} revoked, ${count('already_revoked')} already revoked, ${count('not_ours')} not Kupe keys`);
}

async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv);
  if (values.version) {
    console.log(`kupe-server ${VERSION}`);
    return;
  }
  if (values.help || positionals[0] === 'help') {
    console.log(USAGE);
    return;
  }
  if (positionals.length === 0) throw new UsageError('no command given (to run the server: kupe-server serve)');
  const output = values.output ?? 'text';
  if (output !== 'text' && output !== 'json') throw new UsageError(`--output must be text or json, not ${JSON.stringify(output)}`);
  const command = COMMANDS.find((c) => c.words.every((word, i) => positionals[i] === word));
  if (!command) throw new UsageError(`unknown command: ${positionals.join(' ')}`);
  const args = positionals.slice(command.words.length);
  if (args.length !== command.args.length) {
    const usage = [...command.words, ...command.args].join(' ');
    throw new UsageError(args.length < command.args.length
      ? `missing ${command.args[args.length]}: ${usage}`
      : `unexpected argument ${JSON.stringify(args[command.args.length])}: ${usage}`);
  }
  await command.run(values, args, output);
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
