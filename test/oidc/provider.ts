import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import Provider from 'oidc-provider';

/**
 * A real OpenID provider for the tests: npm's oidc-provider (OpenID Certified) on loopback, under an
 * Authentik-shaped issuer path (`/application/o/<slug>/`), with a `groups` claim, JWT access tokens,
 * key rotation, and a switch that stops it answering.
 */

export interface TestUser {
  email: string;
  email_verified?: boolean;
  /** Absent: the claim is left out. */
  groups?: string[];
}

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  privateJwk: JWK;
}

export async function newSigningKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const base = { kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), ...base }, privateJwk: { ...(await exportJWK(privateKey)), ...base } };
}

export interface ProviderOptions {
  /** The Authentik application slug in the issuer path; also the CLI's client id. */
  slug?: string;
  users: Record<string, TestUser>;
  /** The aud of access tokens the provider issues. */
  audience?: string;
}

export interface TestProvider {
  issuer: string;
  /** The base URL the kupe CLI takes as --oidc-base-url. */
  baseUrl: string;
  audience: string;
  keys: SigningKey[];
  /** Adds (or replaces) a client: confidential with a secret (the console), public without (a CLI, PKCE only). */
  addClient(clientId: string, secret: string | undefined, redirectUri: string): void;
  /** An access token (JWT) the provider itself issues, for a user by login. */
  issueAccessToken(login: string, options?: { audience?: string }): Promise<string>;
  /** Replaces the signing keys (publishes only these from now on). */
  rotate(keys: SigningKey[]): void;
  /** 'up' answers; 'refusing' closes connections at once; 'silent' accepts and never answers. */
  setState(state: 'up' | 'refusing' | 'silent'): void;
  /** Requests the provider answered for the keys (jwks). */
  jwksFetches: number;
  close(): Promise<void>;
}

/** Signs a token with a key the test holds: for the claims and headers a provider would never send. */
export function signToken(key: SigningKey, claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'at+jwt', ...header }).sign(key.privateKey);
}

export async function startTestProvider(options: ProviderOptions): Promise<TestProvider> {
  const slug = options.slug ?? 'kupe';
  const mount = `/application/o/${slug}`;
  const audience = options.audience ?? 'kupe-api';
  // The slug's own client (public, as the kupe CLI's is) issues the tokens tests ask for directly.
  type Client = { client_id: string; client_secret?: string; token_endpoint_auth_method?: 'none'; redirect_uris: string[] };
  let clients: Client[] = [{ client_id: slug, token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1/callback'] }];
  let keys = [await newSigningKey('key-1')];
  let state: 'up' | 'refusing' | 'silent' = 'up';
  const waiting = new Set<ServerResponse>();

  let provider: Provider | undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (state === 'refusing') {
      req.socket.destroy();
      return;
    }
    if (state === 'silent') {
      waiting.add(res);
      return;
    }
    if (!provider || !req.url?.startsWith(mount)) {
      res.writeHead(404).end();
      return;
    }
    if (req.url.startsWith(`${mount}/jwks`)) handle.jwksFetches += 1;
    // Mounted under the issuer's path as Express would: oidc-provider reads originalUrl for its own URLs.
    Object.assign(req, { originalUrl: req.url, url: req.url.slice(mount.length) || '/' });
    void provider.callback()(req, res);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${baseUrl}${mount}/`;

  const build = () => {
    // oidc-provider says, on each construction, that its development defaults are in use: they are, on purpose.
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (!String(args[0]).startsWith('oidc-provider WARNING: a quick start development-only')) warn(...args);
    };
    try {
      build_();
    } finally {
      console.warn = warn;
    }
  };
  const build_ = () => {
    provider = new Provider(issuer, {
      clients,
      jwks: { keys: keys.map((k) => k.privateJwk) },
      // As Authentik: groups come with the profile scope.
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'groups'] },
      scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
      conformIdTokenClaims: false, // the groups and email claims in the ID token, as Authentik sends them
      pkce: { required: () => true },
      features: {
        devInteractions: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => 'urn:kupe:api',
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({ scope: 'openid email profile groups', audience, accessTokenFormat: 'jwt' }),
        },
      },
      ttl: { AccessToken: 600, IdToken: 600, Interaction: 600, Session: 600, Grant: 600, AuthorizationCode: 60 },
      findAccount: (_ctx, id) => {
        const user = options.users[id];
        if (!user) return undefined;
        return { accountId: id, claims: () => ({ sub: id, ...user }) };
      },
      extraTokenClaims: (_ctx, token) => {
        const user = options.users[(token as { accountId?: string }).accountId ?? ''];
        if (!user) return undefined;
        return { email: user.email, ...(user.email_verified !== undefined && { email_verified: user.email_verified }), ...(user.groups && { groups: user.groups }) };
      },
    });
  };
  build();

  const handle: TestProvider = {
    issuer, baseUrl, audience, jwksFetches: 0,
    get keys() { return keys; },
    addClient(clientId, secret, redirectUri) {
      clients = clients.filter((c) => c.client_id !== clientId).concat(secret === undefined
        ? { client_id: clientId, token_endpoint_auth_method: 'none', redirect_uris: [redirectUri] }
        : { client_id: clientId, client_secret: secret, redirect_uris: [redirectUri] });
      build();
    },
    async issueAccessToken(login, opts = {}) {
      if (!provider) throw new Error('provider not built');
      const client = await provider.Client.find(slug);
      if (!client) throw new Error(`no client ${slug}`);
      const resourceServer = { audience: opts.audience ?? audience, accessTokenFormat: 'jwt', scope: 'openid email groups' };
      // As the token endpoint would make it (the types want a grant; a token minted here has none).
      const token = new provider.AccessToken({ accountId: login, client, scope: 'openid email groups', resourceServer } as never);
      return token.save();
    },
    rotate(next) {
      keys = next;
      build();
    },
    setState(next) {
      state = next;
      if (next !== 'silent') {
        for (const res of waiting) res.socket?.destroy();
        waiting.clear();
      }
    },
    async close() {
      for (const res of waiting) res.socket?.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return handle;
}
