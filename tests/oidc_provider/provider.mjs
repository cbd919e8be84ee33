// node-oidc-provider set up as an operator would for the arcade's badges (docs/identity-providers.md):
// the device flow, resource indicators giving JWT access tokens for the arcade's API, a public client
// for the badges, a web client for signing in on the arcade's pages, the built-in login and consent
// pages. tests/test_idp_node_oidc.py runs it.
//
//   WEB_CLIENT_SECRET=... node provider.mjs PORT ARCADE_URL ACCOUNTS_JSON
//
// Each request is logged as "request METHOD PATH host=HOST" on stdout, so a test can tell which
// endpoints were used and with what Host; "ready ISSUER" says it listens.
import { generateKeyPairSync } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(process.env.OIDC_PROVIDER_MODULES + '/');
const { default: Provider, errors } = await import(require.resolve('oidc-provider'));

const [port, arcade, accountsJson] = process.argv.slice(2);
const accounts = JSON.parse(accountsJson);
const issuer = `http://127.0.0.1:${port}`;
const audience = `${arcade}/api`;
const signingKey = {
  ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
  kid: 'arcade-test-1', use: 'sig', alg: 'RS256',
};

const htmlSafe = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'badge',
    client_name: 'Badge Arcade',
    token_endpoint_auth_method: 'none',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    response_types: [],
    redirect_uris: [],
  }, {
    client_id: 'arcade-web',
    client_secret: process.env.WEB_CLIENT_SECRET,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: [`${arcade}/sign-in/callback`],
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: ['arcade-test-cookie-key'] },
  claims: { openid: ['sub'], profile: ['name', 'nickname'], groups: ['groups'] },
  // The badge's device_name, kept with the device code and shown on the confirm page.
  extraParams: ['device_name'],
  async findAccount(ctx, id) {
    const person = accounts[id];
    return person && { accountId: id, claims: async () => ({ sub: id, ...person }) };
  },
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    deviceFlow: {
      enabled: true,
      deviceInfo: (ctx) => ({ ip: ctx.ip, ua: ctx.get('user-agent'), name: ctx.oidc.params.device_name }),
      async userCodeConfirmSource(ctx, form, client, deviceInfo, userCode) {
        ctx.body = `<!DOCTYPE html><html><head><title>Confirm Device</title></head><body>
          <h1>Confirm Device</h1>
          <p><strong>${htmlSafe(client.clientName)}</strong> on <strong>${htmlSafe(deviceInfo.name)}</strong></p>
          <p>The following code should be displayed on your device: <code>${htmlSafe(userCode)}</code></p>
          ${form}<button type="submit" form="op.deviceConfirmForm">Continue</button></body></html>`;
      },
    },
    resourceIndicators: {
      enabled: true,
      async getResourceServerInfo(ctx, resource) {
        if (resource !== audience) throw new errors.InvalidTarget();
        return { audience, scope: 'scores:write', accessTokenFormat: 'jwt', accessTokenTTL: 3600 };
      },
    },
  },
});

provider.use(async (ctx, next) => {
  console.log(`request ${ctx.method} ${ctx.path} host=${ctx.get('host')}`);
  await next();
});

provider.listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));
