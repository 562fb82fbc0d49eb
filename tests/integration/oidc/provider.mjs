// The OpenID Connect provider of mozaiek's tests: npm's certified
// `oidc-provider`, configured for mozaiek and served on loopback. Started and
// stopped by oidc-provider.sh (see there); never for production.
//
//   node provider.mjs <workdir> <port>
//
// Machine clients (client-credentials grant), one per role, secret = client
// id + "-secret": mozaiek-<role> (roles [<role>]), mozaiek-nobody (no roles),
// mozaiek-shortlived (analyst, tokens valid MOZAIEK_OIDC_SHORT_TTL seconds,
// default 2), mozaiek-es256 (analyst, ES256-signed). Their access tokens are
// RS256 JWTs (but for mozaiek-es256) for the resource
// urn:mozaiek:api, audience MOZAIEK_OIDC_AUDIENCE (default "mozaiek"), with a `roles` claim, the same
// roles as `groups` ("mozaiek-<role>") and `realm_access.roles`.
//
// The public client `mozaiek-console` uses the authorisation-code flow with
// PKCE; any http://127.0.0.1:<port>/... or http://localhost:<port>/...
// redirect URI is accepted, and its loopback origin may call the token
// endpoint from a browser (CORS). Users log in on the provider's own login page
// (any password); their roles come from USERS below.
//
// Keys: <workdir>/keys.json holds the private JWKs, signing key first. The
// first start makes RSA key A (and an EC P-256 key for ES256); POST
// /admin/rotate (the server listens on loopback only) adds a new RSA signing
// key B, publishes it with the others, and answers {"kid": B}.
import fs from 'node:fs';
import http from 'node:http';
import crypto from 'node:crypto';
import path from 'node:path';
import Provider, { errors } from 'oidc-provider';

const [workdir, portText] = process.argv.slice(2);
if (!workdir || !portText) {
  console.error('usage: node provider.mjs <workdir> <port>');
  process.exit(2);
}
const port = Number(portText);
const issuer = process.env.MOZAIEK_OIDC_ISSUER || `http://127.0.0.1:${port}`;
const audience = process.env.MOZAIEK_OIDC_AUDIENCE || 'mozaiek';
// Resource indicators must be absolute URIs; this one stands for mozaiek's API.
const resourceUri = 'urn:mozaiek:api';
const shortTtl = Number(process.env.MOZAIEK_OIDC_SHORT_TTL || '2');
const keysFile = path.join(workdir, 'keys.json');

const ROLES = ['analyst', 'care', 'oversight', 'privacy_officer', 'operator', 'metrics'];
const USERS = {
  ana: ['analyst'],
  cora: ['care'],
  otto: ['operator'],
  paula: ['privacy_officer'],
  olga: ['oversight'],
};
const MACHINE = {};
for (const role of ROLES) MACHINE[`mozaiek-${role}`] = [role];
MACHINE['mozaiek-nobody'] = [];
MACHINE['mozaiek-shortlived'] = ['analyst'];
MACHINE['mozaiek-es256'] = ['analyst'];

function newKey(name, type = 'rsa') {
  const { privateKey } = type === 'rsa'
    ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
    : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  const alg = type === 'rsa' ? 'RS256' : 'ES256';
  return { ...jwk, kid: `${name}-${crypto.randomBytes(6).toString('hex')}`, alg, use: 'sig' };
}

function loadKeys() {
  if (fs.existsSync(keysFile)) return JSON.parse(fs.readFileSync(keysFile, 'utf8'));
  const keys = [newKey('a'), newKey('a-ec', 'ec')];
  fs.writeFileSync(keysFile, JSON.stringify(keys), { mode: 0o600 });
  return keys;
}

function rolesOf(token) {
  if (token.accountId) return USERS[token.accountId] || [];
  return MACHINE[token.clientId] || [];
}

function ttlOf(client) {
  return client && client.clientId === 'mozaiek-shortlived' ? shortTtl : 300;
}

const loopbackRedirect = /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//;
const loopbackOrigin = /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?$/;

function configuration(keys) {
  const clients = Object.keys(MACHINE).map((id) => ({
    client_id: id,
    client_secret: `${id}-secret`,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_post',
  }));
  clients.push({
    client_id: 'mozaiek-console',
    token_endpoint_auth_method: 'none',
    application_type: 'native', // loopback redirect URIs on any port
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/callback'],
  });
  return {
    clients,
    // The console's page calls discovery and the token endpoint from its own
    // loopback origin (any port, like its redirect URIs).
    clientBasedCORS: (_ctx, origin, client) =>
      client.clientId === 'mozaiek-console' && loopbackOrigin.test(origin),
    jwks: { keys },
    findAccount: async (_ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, name: id, roles: USERS[id] || [] }),
    }),
    claims: { openid: ['sub'], profile: ['name', 'roles'] },
    scopes: ['openid', 'profile', 'mozaiek'],
    pkce: { required: () => true },
    ttl: {
      AccessToken: (_ctx, _token, client) => ttlOf(client),
      ClientCredentials: (_ctx, _token, client) => ttlOf(client),
    },
    features: {
      devInteractions: { enabled: true }, // the provider's own login page
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resourceUri,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource, client) => {
          if (resource !== resourceUri) throw new errors.InvalidTarget();
          return {
            scope: 'mozaiek',
            audience,
            accessTokenFormat: 'jwt',
            accessTokenTTL: ttlOf(client),
            jwt: { sign: { alg: client.clientId === 'mozaiek-es256' ? 'ES256' : 'RS256' } },
          };
        },
      },
    },
    extraTokenClaims: async (_ctx, token) => {
      const roles = rolesOf(token);
      return { roles, groups: roles.map((r) => `mozaiek-${r}`), realm_access: { roles } };
    },
  };
}

function makeProvider(keys) {
  const provider = new Provider(issuer, configuration(keys));
  // Accept a loopback redirect URI on any port and path (the console's
  // test server picks its own port), as for native apps.
  const { redirectUriAllowed } = provider.Client.prototype;
  provider.Client.prototype.redirectUriAllowed = function allowed(uri) {
    if (this.clientId === 'mozaiek-console') return loopbackRedirect.test(uri);
    return redirectUriAllowed.call(this, uri);
  };
  provider.on('server_error', (_ctx, err) => console.error('server_error', err));
  return provider;
}

let keys = loadKeys();
let current = makeProvider(keys);

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/admin/rotate') {
    const b = newKey('b');
    keys = [b, ...keys];
    fs.writeFileSync(keysFile, JSON.stringify(keys), { mode: 0o600 });
    current = makeProvider(keys);
    console.log(`rotated: signing with ${b.kid}, publishing ${keys.map((k) => k.kid).join(' ')}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kid: b.kid }));
    return;
  }
  current.callback()(req, res);
});
server.listen(port, '127.0.0.1', () => {
  console.log(`oidc provider ready at ${issuer} (signing with ${keys[0].kid})`);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => server.close(() => process.exit(0)));
}
