import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../src/config.ts';

test('defaults run one machine on SQLite under ./data', () => {
  assert.deepEqual({ ...loadConfig({}) }, {
    host: '127.0.0.1', port: 8080, tls: undefined, databaseUrl: 'sqlite:./data/kupe.db', logLevel: 'info',
    database: { poolSize: 10, connectTimeoutMs: 5000, statementTimeoutMs: 5000, idleInTransactionTimeoutMs: 10_000, keyCacheSize: 10_000, keyCacheLeaseMs: 3000 },
    requestTimeoutSeconds: 30, keepAliveTimeoutSeconds: 65, maxConnections: 1024, maxConnectionsPerAddress: 100,
    headersTimeoutSeconds: 10, ipv6PrefixBits: 64, tenantCaps: { maxApiKeys: 1000, maxMembers: 1000 }, retention: { auditDays: 365, endedDays: 30 }, metricsToken: undefined, trustProxy: false, redisUrl: undefined, redisPrefix: 'kupe:',
    rateLimit: 600, authBackoffAfter: 5, authBackoffMaxSeconds: 300, lastUsedFlushSeconds: 30,
    sessionIdleMinutes: 480, sessionMaxHours: 168, shutdownDelaySeconds: 5, passwordSignIn: true, tenantAdminsChangePlan: false, gatewayPolicyFile: undefined, plansFile: undefined, oidc: undefined, webhookAllowPrivate: false, webhookTimeoutSeconds: 10, mail: undefined,
    leaks: { githubKeysUrl: 'https://api.github.com/meta/public_keys/secret_scanning', gitlabToken: undefined },
  });
  assert.ok(Object.isFrozen(loadConfig({})), 'frozen');
  // Behind a proxy the direct peer is the proxy: no per-address connection cap unless one is set.
  assert.equal(loadConfig({ KUPE_TRUST_PROXY: 'loopback' }).maxConnectionsPerAddress, 0);
  assert.equal(loadConfig({ KUPE_TRUST_PROXY: 'loopback', KUPE_MAX_CONNECTIONS_PER_ADDRESS: '500' }).maxConnectionsPerAddress, 500);
});

test('every setting is read', () => {
  const config = loadConfig({
    KUPE_HOST: '0.0.0.0', KUPE_PORT: '9000', KUPE_DATABASE_URL: 'sqlite:/var/lib/kupe/kupe.db',
    KUPE_LOG_LEVEL: 'debug', KUPE_TRUST_PROXY: '10.0.0.0/8, loopback', KUPE_RATE_LIMIT: '0',
    KUPE_AUTH_BACKOFF_AFTER: '3', KUPE_AUTH_BACKOFF_MAX_SECONDS: '60', KUPE_LAST_USED_FLUSH_SECONDS: '5',
    KUPE_DB_POOL_SIZE: '4', KUPE_DB_CONNECT_TIMEOUT_MS: '1500', KUPE_DB_STATEMENT_TIMEOUT_MS: '2500',
    KUPE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '3500', KUPE_REQUEST_TIMEOUT_SECONDS: '7', KUPE_KEEP_ALIVE_TIMEOUT_SECONDS: '75',
    KUPE_MAX_CONNECTIONS: '50',
  });
  assert.deepEqual({ ...config.database }, { poolSize: 4, connectTimeoutMs: 1500, statementTimeoutMs: 2500, idleInTransactionTimeoutMs: 3500, keyCacheSize: 10_000, keyCacheLeaseMs: 3000 });
  assert.deepEqual([config.requestTimeoutSeconds, config.keepAliveTimeoutSeconds, config.maxConnections], [7, 75, 50]);
  assert.equal(config.port, 9000);
  assert.deepEqual(config.trustProxy, ['10.0.0.0/8', 'loopback']);
  assert.equal(config.rateLimit, 0);
  assert.throws(() => loadConfig({ KUPE_TRUST_PROXY: '2' }), /hop count lets any direct client choose its IP/);
  assert.throws(() => loadConfig({ KUPE_TRUST_PROXY: '0' }), /KUPE_TRUST_PROXY/);
});

test('one error names every bad value', () => {
  assert.throws(
    () => loadConfig({
      KUPE_PORT: '80a', KUPE_LOG_LEVEL: 'loud', KUPE_DATABASE_URL: 'mysql://u:secret@db/kupe',
      KUPE_TRUST_PROXY: '10.0.0.0/99,proxy.local', KUPE_RATE_LIMIT: '-1',
    }),
    (error: Error) => {
      for (const name of ['KUPE_PORT="80a"', 'KUPE_LOG_LEVEL="loud"', 'KUPE_DATABASE_URL', '"10.0.0.0/99"',
        '"proxy.local"', 'KUPE_RATE_LIMIT="-1"']) {
        assert.ok(error.message.includes(name), `${name} missing from: ${error.message}`);
      }
      assert.ok(!error.message.includes('secret'), 'a password in a URL is not echoed');
      return true;
    },
  );
});

test('the identity provider settings: defaults, and every bad value named at start', () => {
  const oidc = loadConfig({
    KUPE_OIDC_ISSUER: 'https://sso.example.com/application/o/kupe/', KUPE_OIDC_CLIENT_ID: 'kupe-console',
    KUPE_OIDC_CLIENT_SECRET: 's3cret', KUPE_OIDC_AUDIENCE: 'kupe-console, kupe-cli',
  }).oidc;
  assert.deepEqual({ ...oidc }, {
    issuer: 'https://sso.example.com/application/o/kupe/', clientId: 'kupe-console', clientSecret: 's3cret',
    audience: ['kupe-console', 'kupe-cli'], redirectUri: undefined, providerName: 'your identity provider',
    scopes: 'openid email profile', groupsClaim: 'groups', adminGroup: '{tenant}-admins', readonlyGroup: '{tenant}-readonly',
    algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'], clockToleranceSeconds: 60, jwksRefreshSeconds: 300,
    acceptMissingEmailVerified: false, verifiedTokenCacheSeconds: 300,
  });
  // The audience defaults to the client id; http only on loopback.
  assert.deepEqual(loadConfig({ KUPE_OIDC_ISSUER: 'http://127.0.0.1:9000/o/', KUPE_OIDC_CLIENT_ID: 'c' }).oidc?.audience, ['c']);

  assert.throws(
    () => loadConfig({
      KUPE_OIDC_ISSUER: 'http://sso.example.com/', KUPE_OIDC_ALGORITHMS: 'RS256,HS256,none',
      KUPE_OIDC_ADMIN_GROUP: 'admins', KUPE_OIDC_READONLY_GROUP: '{tenant}-{tenant}', KUPE_OIDC_REDIRECT_URI: 'ftp://x/cb',
      KUPE_OIDC_CLOCK_SKEW_SECONDS: '3600',
    }),
    (error: Error) => {
      for (const part of ['KUPE_OIDC_ISSUER="http://sso.example.com/": must be https', 'HS256, none not allowed',
        'KUPE_OIDC_ADMIN_GROUP="admins": must hold {tenant} exactly once', 'KUPE_OIDC_READONLY_GROUP',
        'KUPE_OIDC_REDIRECT_URI', 'KUPE_OIDC_AUDIENCE: required', 'KUPE_OIDC_CLOCK_SKEW_SECONDS']) {
        assert.ok(error.message.includes(part), `${part} missing from: ${error.message}`);
      }
      return true;
    },
  );
  assert.throws(() => loadConfig({ KUPE_OIDC_CLIENT_ID: 'kupe-console' }), /KUPE_OIDC_CLIENT_ID is set but KUPE_OIDC_ISSUER is not/);
  // Group templates: literal text needed, and no group name may match both.
  const issuer = { KUPE_OIDC_ISSUER: 'https://sso.example.com/', KUPE_OIDC_AUDIENCE: 'kupe' };
  assert.throws(() => loadConfig({ ...issuer, KUPE_OIDC_READONLY_GROUP: '{tenant}' }), /KUPE_OIDC_READONLY_GROUP="\{tenant\}": needs literal text/);
  assert.throws(() => loadConfig({ ...issuer, KUPE_OIDC_ADMIN_GROUP: 'team-{tenant}' }),
    /KUPE_OIDC_ADMIN_GROUP and KUPE_OIDC_READONLY_GROUP \("team-\{tenant\}", "\{tenant\}-readonly"\) can match the same group name/);
  assert.throws(() => loadConfig({ ...issuer, KUPE_OIDC_ADMIN_GROUP: 'kupe-{tenant}', KUPE_OIDC_READONLY_GROUP: 'kupe-{tenant}-ro' }), /can match the same group/);
  assert.equal(loadConfig({ ...issuer, KUPE_OIDC_ADMIN_GROUP: 'kupe-{tenant}-admin', KUPE_OIDC_READONLY_GROUP: 'kupe-{tenant}-ro' }).oidc?.adminGroup,
    'kupe-{tenant}-admin');
  assert.throws(() => loadConfig({ KUPE_PASSWORD_SIGN_IN: 'false' }), /nobody can sign in to the console/);
  assert.throws(() => loadConfig({ KUPE_PASSWORD_SIGN_IN: 'nope' }), /KUPE_PASSWORD_SIGN_IN="nope": must be true or false/);
  assert.equal(loadConfig({
    KUPE_PASSWORD_SIGN_IN: 'false', KUPE_OIDC_ISSUER: 'https://sso.example.com/', KUPE_OIDC_CLIENT_ID: 'c',
  }).passwordSignIn, false);
});

test('leak reports: GitHub on by default, off by KUPE_GITHUB_SCANNING_KEYS_URL=off; https only (http on loopback); a GitLab token of 32+ characters', () => {
  assert.equal(loadConfig({ KUPE_GITHUB_SCANNING_KEYS_URL: 'off' }).leaks.githubKeysUrl, undefined);
  assert.equal(loadConfig({ KUPE_GITHUB_SCANNING_KEYS_URL: 'http://127.0.0.1:9000/keys' }).leaks.githubKeysUrl, 'http://127.0.0.1:9000/keys');
  assert.throws(() => loadConfig({ KUPE_GITHUB_SCANNING_KEYS_URL: 'http://keys.example.com/' }), /KUPE_GITHUB_SCANNING_KEYS_URL="http:\/\/keys.example.com\/": must be https/);
  assert.throws(() => loadConfig({ KUPE_GITLAB_REVOCATION_TOKEN: 'short' }), /KUPE_GITLAB_REVOCATION_TOKEN: must be at least 32 characters/);
  assert.equal(loadConfig({ KUPE_GITLAB_REVOCATION_TOKEN: 'a'.repeat(32) }).leaks.gitlabToken, 'a'.repeat(32));
});

test('email needs a mail server, a sender and the public address together; each problem is named', () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return '';
    } catch (error) {
      return (error as Error).message;
    }
  };
  assert.match(problems({ KUPE_SMTP_URL: 'smtp://mail.example.com:587' }), /KUPE_SMTP_URL needs KUPE_MAIL_FROM[\s\S]*KUPE_SMTP_URL needs KUPE_PUBLIC_URL/);
  assert.match(problems({ KUPE_SMTP_URL: 'http://mail.example.com', KUPE_MAIL_FROM: 'k@example.com', KUPE_PUBLIC_URL: 'https://kupe.example.com' }),
    /KUPE_SMTP_URL: must start with smtp:\/\/ or smtps:\/\//);
  assert.match(problems({ KUPE_SMTP_URL: 'smtp://mail.example.com', KUPE_MAIL_FROM: 'k@example.com', KUPE_PUBLIC_URL: 'http://kupe.example.com' }),
    /KUPE_PUBLIC_URL="http:\/\/kupe.example.com": must be https/);
  assert.match(problems({ KUPE_PUBLIC_URL: 'https://kupe.example.com' }), /KUPE_PUBLIC_URL is set but KUPE_SMTP_URL is not/);
  const on = loadConfig({ KUPE_SMTP_URL: 'smtps://u:p@mail.example.com', KUPE_MAIL_FROM: 'Kupe <k@example.com>', KUPE_PUBLIC_URL: 'https://kupe.example.com/' });
  assert.deepEqual(on.mail, { smtpUrl: 'smtps://u:p@mail.example.com', from: 'Kupe <k@example.com>', publicUrl: 'https://kupe.example.com' });
});

test('HTTPS takes a certificate and its key together', () => {
  assert.throws(() => loadConfig({ KUPE_TLS_CERT_FILE: '/etc/kupe/tls.crt' }), /KUPE_TLS_CERT_FILE and KUPE_TLS_KEY_FILE go together/);
  assert.throws(() => loadConfig({ KUPE_TLS_KEY_FILE: '/etc/kupe/tls.key' }), /KUPE_TLS_CERT_FILE and KUPE_TLS_KEY_FILE go together/);
  assert.deepEqual(loadConfig({ KUPE_TLS_CERT_FILE: '/a.crt', KUPE_TLS_KEY_FILE: '/a.key' }).tls, { certFile: '/a.crt', keyFile: '/a.key' });
});
