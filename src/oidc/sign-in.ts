import * as client from 'openid-client';
import type { ProviderIdentity } from '../domain/provider-sign-in.ts';
import { type GroupTemplates, rolesFromGroups } from '../domain/provider-groups.ts';
import type { IssuerKeys } from './issuer.ts';

export interface SignInSettings extends GroupTemplates {
  clientId: string;
  clientSecret: string | undefined;
  scopes: string;
  groupsClaim: string;
}

/** What the browser keeps (in an HttpOnly cookie) between leaving for the provider and coming back. */
export interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
}

/** Calls to the provider's token endpoint give up after this many seconds. */
const PROVIDER_TIMEOUT_SECONDS = 10;

/**
 * The console's sign-in through the identity provider: the authorization-code flow with PKCE (S256), `state`
 * and `nonce`, by openid-client. The provider's metadata comes from the same discovery as the keys.
 */
export class ConsoleSignIn {
  readonly #keys: IssuerKeys;
  readonly #settings: SignInSettings;
  #configuration: client.Configuration | undefined;

  constructor(keys: IssuerKeys, settings: SignInSettings) {
    this.#keys = keys;
    this.#settings = settings;
  }

  async #client(): Promise<client.Configuration> {
    if (this.#configuration) return this.#configuration;
    const metadata = await this.#keys.metadata();
    const { clientId, clientSecret } = this.#settings;
    const methods = metadata.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
    const auth = clientSecret === undefined ? client.None()
      : methods.includes('client_secret_basic') ? client.ClientSecretBasic(clientSecret) : client.ClientSecretPost(clientSecret);
    const configuration = new client.Configuration(metadata as client.ServerMetadata, clientId, clientSecret, auth);
    configuration.timeout = PROVIDER_TIMEOUT_SECONDS;
    // KUPE_OIDC_ISSUER allows http only on loopback (src/config.ts): a provider on this machine.
    if (new URL(metadata.issuer).protocol === 'http:') client.allowInsecureRequests(configuration);
    this.#configuration = configuration;
    return configuration;
  }

  /** Where to send the browser, and what to keep until it comes back. */
  async begin(redirectUri: string): Promise<{ url: string; pending: PendingSignIn }> {
    const configuration = await this.#client();
    const verifier = client.randomPKCECodeVerifier();
    const pending: PendingSignIn = { state: client.randomState(), nonce: client.randomNonce(), verifier, redirectUri };
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: redirectUri, scope: this.#settings.scopes, response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      state: pending.state, nonce: pending.nonce,
    });
    return { url: url.href, pending };
  }

  /**
   * The browser came back to `redirectUri` with `query`: checks state, trades the code (with the PKCE verifier)
   * for tokens, checks the ID token (issuer, audience, expiry, nonce) and reads the person from it.
   */
  async finish(query: string, pending: PendingSignIn): Promise<ProviderIdentity> {
    const configuration = await this.#client();
    const currentUrl = new URL(pending.redirectUri);
    currentUrl.search = query;
    const tokens = await client.authorizationCodeGrant(configuration, currentUrl, {
      pkceCodeVerifier: pending.verifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (!claims) throw new Error('the identity provider sent no ID token');
    const email = claims.email;
    if (typeof email !== 'string' || email === '') throw new Error('the identity provider sent no email for this person (ask for the email scope)');
    return {
      issuer: claims.iss,
      subject: claims.sub,
      email,
      emailVerified: claims.email_verified === true,
      roles: rolesFromGroups(claims[this.#settings.groupsClaim], this.#settings),
    };
  }
}
