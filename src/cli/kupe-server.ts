import { parseArgs } from 'node:util';
import { AppError, type ErrorCode } from '../domain/errors.ts';
import { isRole, OPERATOR_ACTOR } from '../domain/roles.ts';
import { PLANS, type Plan } from '../domain/vocabulary.ts';
import { type Config, loadConfig, mailOn } from '../config.ts';
import type { Store } from '../domain/store.ts';
import { KUPE_VERSION } from '../version.ts';

// The heavy modules (the store's drivers, argon2, the HTTP server) are imported by the commands that need
// them, so `--version`, `help` and usage errors answer without loading them.


class UsageError extends Error {}
/** Bad input that is no misuse of the command line (exit 2, without the usage text). */
class InputError extends Error {}

/**
 * Exit codes for the catalogue's codes the operator CLI can meet (2 bad
 * input, 3 not found, 4 conflict); anything else is 1.
 */
const EXIT_CODES: Partial<Record<ErrorCode, number>> = {
  validation_failed: 2, invalid_tenant_name: 2, invalid_api_key_id: 2,
  tenant_not_found: 3, user_not_found: 3, api_key_not_found: 3,
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
      output: { type: 'string' }, source: { type: 'string' }, state: { type: 'string' },
      help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' },
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
  const { unknownSettingWarnings } = await import('../settings.ts');
  for (const warning of unknownSettingWarnings(process.env)) logger.warn(warning);
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
  // SIGHUP: a renewed certificate (HTTPS); otherwise nothing to reload, and no reason to stop.
  process.on('SIGHUP', () => {
    try {
      server.reloadTls();
    } catch (err) {
      logger.error({ err }, 'SIGHUP: TLS not reloaded; the certificate in use is kept');
    }
  });
}

type Values = ReturnType<typeof parse>['values'];
type Option = Exclude<keyof Values, 'help' | 'version' | 'output'>;
type Output = 'text' | 'json';

/** One command: its words, positional arguments, options, whether it prints JSON, and what it does. */
interface Command {
  words: string[];
  /** Names of the positional arguments after the words, for the usage error. */
  args: string[];
  /** The options it takes (besides --help; --output when `json`). */
  options: Option[];
  /** Takes `--output json`: what it prints, as one JSON document. */
  json: boolean;
  /** Its usage line after `kupe-server`, and what it does (the first line is the summary in the list). */
  usage: string;
  about: string;
  run: (values: Values, args: string[], output: Output) => Promise<void>;
}

const PLAN_CHOICES = PLANS.join('|');

const COMMANDS: Command[] = [
  {
    words: ['serve'], args: [], options: [], json: false, usage: 'serve',
    about: 'Run the API server and the console (settings: KUPE_* variables, README.md). SIGTERM drains, then stops.',
    run: () => serve(),
  },
  {
    words: ['migrate'], args: [], options: [], json: true, usage: 'migrate [--output json]',
    about: 'Bring the database schema up to date (serve does it too). Refuses a database a newer Kupe migrated.',
    run: async (_values, _args, output) => {
      const config = loadConfig(process.env);
      const { openStore } = await import('../store/index.ts');
      const { store, migrate } = openStore(config.databaseUrl, config.database);
      const applied = await migrate().finally(() => store.close());
      print(output, { applied }, () => applied.length === 0 ? 'database is up to date' : `applied: ${applied.join(', ')}`);
    },
  },
  {
    words: ['backup'], args: ['FILE'], options: [], json: true, usage: 'backup FILE [--output json]',
    about: 'Copy the SQLite database to FILE (a new file) while the server serves: every change committed before\n'
      + 'the backup began, nothing after. Restore: stop the server, put FILE in place of the database (docs/backup.md).\n'
      + 'PostgreSQL: pg_dump.',
    run: async (_values, [file], output) => {
      const config = loadConfig(process.env);
      const { backupSqlite, BackupError } = await import('../store/index.ts');
      let result: { bytes: number };
      try {
        result = backupSqlite(config.databaseUrl, file!);
      } catch (error) {
        if (error instanceof BackupError) throw new InputError(error.message);
        throw error;
      }
      print(output, { file, bytes: result.bytes }, () => `backed up ${config.databaseUrl} to ${file} (${result.bytes} bytes)`);
    },
  },
  {
    words: ['tenants', 'create'], args: ['NAME'], options: ['admin', 'display-name', 'plan'], json: true,
    usage: `tenants create NAME --admin EMAIL [--display-name TEXT] [--plan ${PLAN_CHOICES}] [--output json]`,
    about: 'Create a tenant with its first admin, whose membership takes effect at once. A new console account gets\n'
      + 'a one-time password, printed once (changed at first sign-in).',
    run: (values, [name], output) => tenantsCreate(values, name!, output),
  },
  {
    words: ['tenants', 'list'], args: [], options: [], json: true, usage: 'tenants list [--output json]',
    about: 'Every tenant: name, plan, display name.',
    run: (_values, _args, output) => tenantsList(output),
  },
  {
    words: ['tenants', 'set-plan'], args: ['NAME', 'PLAN'], options: [], json: true, usage: `tenants set-plan NAME ${PLAN_CHOICES} [--output json]`,
    about: "Move a tenant to another plan (the operator's, or billing's, decision).",
    run: async (_values, [name, plan], output) => {
      const changes = { plan: planArgument(plan!, 'PLAN') };
      const { updateTenant } = await import('../domain/tenants.ts');
      const tenant = await withStore((store) => updateTenant(store, name!, changes, undefined, { actor: OPERATOR_ACTOR, now: new Date() }));
      print(output, { name: tenant.name, plan: tenant.plan }, () => `tenant ${tenant.name} is on plan ${tenant.plan}`);
    },
  },
  {
    words: ['tenants', 'disable'], args: ['NAME'], options: [], json: true, usage: 'tenants disable NAME [--output json]',
    about: 'Disable a tenant: its API keys and its members are refused (403 tenant_disabled) until it is enabled\n'
      + 'again; nothing of it is deleted. Like a revocation, it reaches every key cache before this returns: on SQLite\n'
      + "with a server running, through that server's control socket; on PostgreSQL, through the revocation fence.",
    run: (_values, [name], output) => tenantsSetDisabled(name!, true, output),
  },
  {
    words: ['tenants', 'enable'], args: ['NAME'], options: [], json: true, usage: 'tenants enable NAME [--output json]',
    about: 'Enable a disabled tenant again: its keys (those not revoked or expired meanwhile) and members work again.',
    run: (_values, [name], output) => tenantsSetDisabled(name!, false, output),
  },
  {
    words: ['users', 'list'], args: [], options: [], json: true, usage: 'users list [--output json]',
    about: 'Every console account: email, how it signs in, whether a new password is due, when it was made, whether it is disabled.',
    run: (_values, _args, output) => usersList(output),
  },
  {
    words: ['users', 'reset-password'], args: ['EMAIL'], options: [], json: true, usage: 'users reset-password EMAIL [--output json]',
    about: 'Give a console account a new one-time password (printed once; changed at first sign-in). Every session\n'
      + 'of the account ends.',
    run: async (_values, [email], output) => {
      const { resetPassword } = await import('../domain/accounts.ts');
      const reset = await withStore((store) => resetPassword(store, email!, new Date()));
      print(output, { email: reset.email, oneTimePassword: reset.password }, () =>
        `new one-time password for ${reset.email} (every session of the account has ended; changed at first sign-in):\n${reset.password}`);
    },
  },
  {
    words: ['users', 'disable'], args: ['EMAIL'], options: [], json: true, usage: 'users disable EMAIL [--output json]',
    about: 'Disable a console account: its sign-in is refused (403 account_disabled), every session of it ends at once,\n'
      + "and the identity provider's access tokens for its email are refused. Its memberships stay; the API keys of\n"
      + 'its tenants are not its own and keep working (revoke those it knew: kupe-server apikeys revoke).',
    run: (_values, [email], output) => usersSetDisabled(email!, true, output),
  },
  {
    words: ['users', 'enable'], args: ['EMAIL'], options: [], json: true, usage: 'users enable EMAIL [--output json]',
    about: 'Enable a disabled console account again: it can sign in (its sessions ended for good).',
    run: (_values, [email], output) => usersSetDisabled(email!, false, output),
  },
  {
    words: ['users', 'unlink-provider'], args: ['EMAIL'], options: [], json: true, usage: 'users unlink-provider EMAIL [--output json]',
    about: "Unlink the account from its identity provider's identities (docs/oidc.md): the next sign-in there links anew.",
    run: async (_values, [email], output) => {
      const { unlinkProviderIdentities } = await import('../domain/provider-sign-in.ts');
      const removed = await withStore((store) => unlinkProviderIdentities(store, email!));
      print(output, { unlinked: removed }, () => removed === 0 ? 'the account had no provider identity linked'
        : `unlinked ${removed} provider identit${removed === 1 ? 'y' : 'ies'}: the next sign-in through the provider links anew`);
    },
  },
  {
    words: ['apikeys', 'list'], args: [], options: ['tenant', 'state'], json: true,
    usage: 'apikeys list --tenant NAME [--state active|revoked|all] [--output json]',
    about: "A tenant's API keys (metadata only: never a key): the active ones by default, as the API lists them.",
    run: (values, _args, output) => apiKeysList(values, output),
  },
  {
    words: ['apikeys', 'create'], args: [], options: ['tenant', 'role', 'display-name', 'expires-at'], json: true,
    usage: 'apikeys create --tenant NAME --role admin|readonly --display-name TEXT [--expires-at RFC3339] [--output json]',
    about: 'Create an API key; the key is printed once. `createdBy` is "operator".',
    run: (values, _args, output) => apiKeysCreate(values, output),
  },
  {
    words: ['apikeys', 'revoke'], args: ['ID'], options: ['tenant'], json: true, usage: 'apikeys revoke --tenant NAME ID [--output json]',
    about: 'Revoke a key at once, as the API\'s DELETE does (audited, reason "operator"). On SQLite with a server\n'
      + 'running, that server revokes it through its control socket, so its key cache forgets the key; on PostgreSQL\n'
      + 'the revocation fence reaches every instance before this returns.',
    run: (values, [id], output) => apiKeysRevoke(values, id!, output),
  },
  {
    words: ['apikeys', 'revoke-leaked'], args: [], options: ['source'], json: true, usage: 'apikeys revoke-leaked [--source TEXT] [--output json]',
    about: 'Revoke every Kupe key found in standard input (a leaked file, a log), as leaked (docs/leaks.md); a\n'
      + 'running SQLite server is reached through its control socket. Never prints a secret.',
    run: (values, _args, output) => apiKeysRevokeLeaked(values, output),
  },
];

const USAGE = `Usage: kupe-server COMMAND [options]

Commands:
${COMMANDS.map((c) => `  ${c.usage}\n      ${c.about.split('\n')[0]}`).join('\n')}
  help [COMMAND], COMMAND --help   show this text, or one command's
  --version                   print the version

Configuration comes from KUPE_* environment variables (see README.md).
Exit codes: 0 ok, 1 failure, 2 bad arguments or input, 3 not found, 4 conflict.`;

function commandHelp(command: Command): string {
  return `Usage: kupe-server ${command.usage}\n\n${command.about}\n\nExit codes: 0 ok, 1 failure, 2 bad arguments or input, 3 not found, 4 conflict.`;
}

/** What a command prints: its JSON document with --output json, else its text. */
function print(output: Output, json: unknown, text: () => string): void {
  console.log(output === 'json' ? JSON.stringify(json) : text());
}

/** Rows under a header row, tab-separated (for people, and for cut and awk). */
function table(header: string[], rows: string[][]): string {
  return [header, ...rows].map((row) => row.join('\t')).join('\n');
}

async function tenantsCreate(values: Values, name: string, output: Output) {
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
  if (output === 'json') {
    console.log(JSON.stringify({
      tenant: { name: tenant.name, displayName: tenant.displayName, plan: tenant.plan, contactEmail: tenant.contactEmail, createdAt: tenant.createdAt },
      admin: { email: tenant.contactEmail, ...(password && { oneTimePassword: password }), ...(existing && { existingAccountCreatedAt: existing.createdAt }) },
    }));
    return;
  }
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

async function tenantsList(output: Output) {
  const { listTenants } = await import('../domain/tenants.ts');
  const tenants = await withStore((store) => listTenants(store));
  const view = tenants.map((t) => ({
    name: t.name, displayName: t.displayName, plan: t.plan, createdAt: t.createdAt, ...(t.disabledAt !== undefined && { disabledAt: t.disabledAt }),
  }));
  print(output, { items: view }, () =>
    tenants.length === 0 ? 'no tenants yet; create one with: npx kupe-server tenants create NAME --admin EMAIL'
      : table(['NAME', 'PLAN', 'DISPLAY NAME', 'DISABLED'], view.map((t) => [t.name, t.plan, t.displayName, t.disabledAt ?? '-'])));
}

/**
 * SQLite with a server running: the server disables the tenant, so its key cache forgets the tenant's keys.
 * Otherwise here (PostgreSQL: the fence reaches every instance).
 */
async function tenantsSetDisabled(name: string, disabled: boolean, output: Output) {
  const [{ setTenantDisabled }, control] = await Promise.all([import('../domain/tenants.ts'), import('../control.ts')]);
  const config = loadConfig(process.env);
  const { changed } = await onServerOrHere(config,
    (store) => setTenantDisabled(store, name, disabled, { actor: OPERATOR_ACTOR, now: new Date() }),
    (socket) => control.askToSetTenantDisabled(socket, name, disabled).catch(socketFailure(config, socket,
      'stop the server and run this again (disabling has no API route: it is the operator\'s)')),
  );
  const state = disabled ? 'disabled' : 'enabled';
  print(output, { name, disabled, changed }, () => !changed ? `tenant ${name} was already ${state}`
    : disabled ? `tenant ${name} is disabled: its API keys and members are refused from now on (undo: kupe-server tenants enable ${name})`
      : `tenant ${name} is enabled: its keys and members work again`);
}

async function usersList(output: Output) {
  const { NO_PASSWORD } = await import('../domain/accounts.ts');
  const users = await withStore((store) => store.users.list());
  const view = users.map((u) => ({
    email: u.email, signsInWith: u.passwordHash === NO_PASSWORD ? 'identity provider' : 'password',
    mustChangePassword: u.mustChangePassword, createdAt: u.createdAt, ...(u.emailProof && { emailProvenBy: u.emailProof }),
    ...(u.disabledAt !== undefined && { disabledAt: u.disabledAt }),
  }));
  print(output, { items: view }, () => users.length === 0 ? 'no console accounts yet'
    : table(['EMAIL', 'SIGNS IN WITH', 'NEW PASSWORD DUE', 'CREATED', 'DISABLED'],
      view.map((u) => [u.email, u.signsInWith, u.mustChangePassword ? 'yes' : 'no', u.createdAt, u.disabledAt ?? '-'])));
}

/** Nothing caches an account's state (sessions and access tokens read it on every request): written here. */
async function usersSetDisabled(email: string, disabled: boolean, output: Output) {
  const { setAccountDisabled } = await import('../domain/accounts.ts');
  const result = await withStore((store) => setAccountDisabled(store, email, disabled, { actor: OPERATOR_ACTOR, now: new Date() }));
  const state = disabled ? 'disabled' : 'enabled';
  print(output, { email: result.email, disabled, changed: result.changed }, () => !result.changed ? `the account ${result.email} was already ${state}`
    : disabled ? `the account ${result.email} is disabled: every session of it has ended, and its sign-in and access tokens are refused`
      : `the account ${result.email} is enabled: it can sign in again`);
}

async function apiKeysList(values: Values, output: Output) {
  const tenant = required(values.tenant, '--tenant NAME');
  const state = values.state ?? 'active';
  if (state !== 'active' && state !== 'revoked' && state !== 'all') throw new UsageError(`--state must be active, revoked or all, not ${JSON.stringify(state)}`);
  const [{ listApiKeys, toApiKeyView }, { getTenant }] = await Promise.all([import('../domain/api-keys.ts'), import('../domain/tenants.ts')]);
  const keys = await withStore(async (store) => {
    await getTenant(store, tenant); // 404 tenant_not_found, not an empty list
    return listApiKeys(store, tenant, () => undefined, state);
  });
  print(output, { items: keys.map(toApiKeyView) }, () => keys.length === 0 ? `no ${state === 'all' ? '' : `${state} `}API keys in tenant ${tenant}`
    : table(['ID', 'ROLE', 'DISPLAY NAME', 'CREATED BY', 'CREATED', 'EXPIRES', 'LAST USED', 'REVOKED'], keys.map((k) => [
      k.id, k.role, k.displayName, k.createdBy, k.createdAt, k.expiresAt ?? 'never', k.lastUsedAt ?? 'never',
      k.revokedAt === undefined ? '-' : `${k.revokedAt} (${k.revokeReason ?? 'manual'})`,
    ])));
}

/**
 * Where a revocation must happen. SQLite: in the running server, whose key cache must forget the key (through
 * its control socket, src/control.ts), or here holding the serve lock when none runs (so none starts
 * meanwhile). PostgreSQL: here; the revocation fence reaches every instance.
 */
async function onServerOrHere<T>(config: Config, here: (store: Store) => Promise<T>, there: (socket: string) => Promise<T>): Promise<T> {
  const control = await import('../control.ts');
  const socket = control.controlSocketPath(config.databaseUrl);
  if (socket === undefined) return withStore(here);
  const { tryLockForServing } = await import('../store/index.ts');
  const release = tryLockForServing(config.databaseUrl, 0);
  if (!release) return there(socket);
  try {
    return await withStore(here);
  } finally {
    release();
  }
}

/** A control socket's failure: the domain's refusal as it is; anything else says nothing was done, and what to do. */
function socketFailure(config: Config, socket: string, instead: string): (error: Error) => never {
  return (error) => {
    if (error instanceof AppError) throw error;
    throw new Error(`a server is running on ${config.databaseUrl} but its control socket ${socket} did not answer (${error.message}); ` +
      `nothing was changed: ${instead}`);
  };
}

async function apiKeysRevoke(values: Values, id: string, output: Output) {
  const tenant = required(values.tenant, '--tenant NAME');
  const [{ revokeApiKey }, control] = await Promise.all([import('../domain/api-keys.ts'), import('../control.ts')]);
  const config = loadConfig(process.env);
  await onServerOrHere(config,
    (store) => revokeApiKey(store, tenant, id, { actor: OPERATOR_ACTOR, now: new Date(), mail: mailOn(config) }, 'operator'),
    (socket) => control.askToRevoke(socket, tenant, id).catch(socketFailure(config, socket,
      'revoke through the API (DELETE /api/v1/tenants/TENANT/apikeys/ID), or run this again')),
  );
  print(output, { id, tenant, revoked: true }, () => `revoked ${id} in tenant ${tenant}: it is refused from now on`);
}

async function apiKeysCreate(values: Values, output: Output) {
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
async function apiKeysRevokeLeaked(values: Values, output: Output) {
  const [{ keysIn }, { LEAK_REPORTERS, revokeLeakedKeys }, control] = await Promise.all([
    import('../domain/key-format.ts'), import('../domain/leaks.ts'), import('../control.ts'),
  ]);
  const tokens = keysIn(await readStandardInput());
  if (tokens.length === 0) throw new UsageError('no Kupe key (kupe_<8 hex>_<49 letters and digits>) found on standard input');
  const source = values.source;
  const config = loadConfig(process.env);
  const findings = await onServerOrHere(config,
    (store) => revokeLeakedKeys(store, tokens.map((token) => ({ token, source })), LEAK_REPORTERS.operator, { now: new Date(), mail: mailOn(config) }),
    async (socket) => {
      const found = [];
      for (let i = 0; i < tokens.length; i += control.CONTROL_BATCH) {
        const batch = tokens.slice(i, i + control.CONTROL_BATCH);
        found.push(...await control.askToRevokeLeaked(socket, batch, source).catch((error: Error) => {
          throw new Error(`a server is running on ${config.databaseUrl} but its control socket ${socket} did not take the keys ` +
            `(${error.message}); ${i === 0 ? 'nothing was revoked' : `the first ${i} were revoked`}: revoke through the API, or run this again`);
        }));
      }
      return found;
    },
  );
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
    console.log(`kupe-server ${KUPE_VERSION}`);
    return;
  }
  const asked = positionals[0] === 'help' ? positionals.slice(1) : positionals;
  const find = (words: string[]) => COMMANDS.find((c) => c.words.every((word, i) => words[i] === word));
  if (values.help || positionals[0] === 'help') {
    const command = find(asked);
    if (asked.length > 0 && !command) throw new UsageError(`unknown command: ${asked.join(' ')}`);
    console.log(command ? commandHelp(command) : USAGE);
    return;
  }
  if (positionals.length === 0) throw new UsageError('no command given (to run the server: kupe-server serve)');
  const command = find(positionals);
  if (!command) throw new UsageError(`unknown command: ${positionals.join(' ')}`);
  const name = command.words.join(' ');
  const output = values.output ?? 'text';
  if (output !== 'text' && output !== 'json') throw new UsageError(`--output must be text or json, not ${JSON.stringify(output)}`);
  if (values.output !== undefined && !command.json) throw new UsageError(`--output does not apply to ${name}: it prints no result to format`);
  for (const option of Object.keys(values) as (keyof Values)[]) {
    if (option === 'output' || option === 'help' || option === 'version') continue;
    if (!command.options.includes(option)) throw new UsageError(`--${option} does not apply to ${name} (kupe-server ${name} --help)`);
  }
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
    if (error instanceof InputError) {
      console.error(`kupe-server: ${error.message}`);
      return 2;
    }
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`kupe-server: ${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    console.error(`kupe-server: ${(error as Error).message}`);
    return 1;
  }
}
