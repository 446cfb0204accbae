// A real, certified third-party OpenID provider (npm `oidc-provider`) for the browser login tests.
//
//   node server.mjs <port> <redirect_uri> [client_secret]
//   (or PORT, REDIRECT_URI, CLIENT_SECRET in the environment)
//
// Listens on 127.0.0.1 only. One confidential client, `nomad-dashboard`; a `groups` scope and claim;
// `conformIdTokenClaims: false` so the scope's claims reach the ID token (Streamlit reads only the
// ID token). Sign-in uses the provider's development login form (devInteractions): any password is
// accepted for the test accounts below, unknown logins are refused by findAccount. Consent is
// granted automatically for this one client. Test-only: never run this for real people.
import { randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

const port = Number(process.argv[2] ?? process.env.PORT);
const redirectUri = process.argv[3] ?? process.env.REDIRECT_URI;
const clientSecret = process.argv[4] ?? process.env.CLIENT_SECRET ?? randomBytes(24).toString('base64url');
if (!Number.isInteger(port) || port <= 0 || !redirectUri) {
  console.error('usage: node server.mjs <port> <redirect_uri> [client_secret]');
  process.exit(2);
}

const ACCOUNTS = {
  viewer: { name: 'Vera Viewer', groups: ['dash-viewers'] },
  support: { name: 'Sol Support', groups: ['dash-support'] },
  manager: { name: 'Mina Manager', groups: ['dash-managers'] },
  admin: { name: 'Arno Admin', groups: ['dash-admins'] },
  nobody: { name: 'Nell Nobody', groups: ['finance'] },
};
const SCOPE = 'openid profile email groups';
const CLAIMS = ['sub', 'name', 'preferred_username', 'email', 'email_verified', 'groups'];

const configuration = {
  clients: [{
    client_id: 'nomad-dashboard',
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  scopes: SCOPE.split(' '),
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  conformIdTokenClaims: false,
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => false },
  async findAccount(ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          name: account.name,
          preferred_username: id,
          email: `${id}@oidc.test`,
          email_verified: true,
          groups: account.groups,
        };
      },
    };
  },
  // First-party client: grant the requested scopes without a consent screen.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(SCOPE);
    grant.addOIDCClaims(CLAIMS);
    await grant.save();
    return grant;
  },
};

const provider = new Provider(`http://127.0.0.1:${port}`, configuration);
provider.on('server_error', (ctx, err) => console.error('server_error', err));
const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on http://127.0.0.1:${port}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
