#!/usr/bin/env node
// provider.mjs: the OpenID Connect provider of the integration and browser
// tests: npm oidc-provider@8.8.1 (installed by ./stack into var/node) on
// loopback, with one client, the test accounts, its development sign-in
// pages (devInteractions: any password; the login name is the account id)
// and test hooks that spoil the next ID token in a chosen way.
//
//   node tests/oidc/provider.mjs --port P --issuer http://127.0.0.1:P \
//       --client-id labeld-test --client-secret S \
//       --redirect-uri URL [--redirect-uri URL...] [--modules DIR]
//
// --modules is the node_modules folder holding oidc-provider (default:
// var/node/node_modules of this repository).  Prints "ready" once it
// listens; then one line per request (method, path without the query,
// status).  Runs on node 18 and 20 (no --env-file, no import.meta.resolve).
//
// Test hooks (answered only to loopback clients):
//   POST /_test/next {"mode": M}         the next token response's id_token
//                                        is replaced as M says, then the
//                                        mode resets (modes: see MODES;
//                                        {"mode": null} clears a mode set)
//   POST /_test/expire-codes {"on": B}   while on, the token endpoint
//                                        answers invalid_grant (as for an
//                                        expired code)
//   GET  /_test/jwks-fetches             {"fetches": N}: GETs of /jwks so far
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

function usage(msg) {
	process.stderr.write(`provider.mjs: ${msg}\n`);
	process.exit(2);
}

// The command line: single-valued options and the repeated --redirect-uri.
function parseArgs(argv) {
	const o = { redirectUris: [], modules: path.join(HERE, '..', '..', 'var', 'node', 'node_modules') };
	const single = { '--port': 'port', '--issuer': 'issuer', '--client-id': 'clientId',
		'--client-secret': 'clientSecret', '--modules': 'modules' };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i], v = argv[i + 1];
		if (v === undefined)
			usage(`${a} needs a value`);
		if (a === '--redirect-uri')
			o.redirectUris.push(v);
		else if (single[a])
			o[single[a]] = v;
		else
			usage(`unknown argument ${a}`);
		i++;
	}
	for (const k of ['port', 'issuer', 'clientId', 'clientSecret'])
		if (!o[k])
			usage(`--${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} is required`);
	if (o.redirectUris.length === 0)
		usage('at least one --redirect-uri is required');
	if (!/^\d+$/.test(o.port))
		usage('--port must be a number');
	return o;
}

const args = parseArgs(process.argv.slice(2));

// oidc-provider is ESM only; jose (its dependency) is taken from where
// oidc-provider itself resolves it.
const providerPkg = path.join(args.modules, 'oidc-provider', 'package.json');
const requireFromProvider = createRequire(providerPkg);
const { default: Provider } = await import(pathToFileURL(path.join(args.modules, 'oidc-provider', 'lib', 'index.js')).href);
const jose = requireFromProvider('jose');

// The accounts: id -> claims.  tid is the directory ("tenant") id that
// Entra ID puts in its tokens.
const ACCOUNTS = {
	alice: { email: 'alice@example.com', email_verified: true, name: 'Alice' },
	bob: { email: 'bob@example.com', email_verified: false, name: 'Bob' },
	carol: { email: 'carol@example.com', email_verified: true, name: 'Carol' },
	mallory: { email: 'alice@example.com', email_verified: true, name: 'Mallory' },
	stranger: { email: 'stranger@example.com', email_verified: true, name: 'Stranger' },
	dave: { email: 'dave@example.com', email_verified: true, name: 'Dave' },
	erin: { email: 'erin@example.com', email_verified: true, name: 'Erin', tid: 'tenant-b' },
};

// The signing keys: an RSA key and an EC P-256 key, both published.
function newKey(kind) {
	return kind === 'ec'
		? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
		: crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
}
const RSA_KID = 'test-rsa-1';
const EC_KID = 'test-ec-1';
const rsa = newKey('rsa');
const ec = newKey('ec');
const signingJwks = {
	keys: [
		{ ...rsa.privateKey.export({ format: 'jwk' }), kid: RSA_KID, alg: 'RS256', use: 'sig' },
		{ ...ec.privateKey.export({ format: 'jwk' }), kid: EC_KID, alg: 'ES256', use: 'sig' },
	],
};
// Public keys added to /jwks by the "unknown-kid" mode (a key rotated in).
const rotatedIn = [];
let keyCounter = 0;

const provider = new Provider(args.issuer, {
	clients: [{
		client_id: args.clientId,
		client_secret: args.clientSecret,
		redirect_uris: args.redirectUris,
		response_types: ['code'],
		grant_types: ['authorization_code'],
		token_endpoint_auth_method: 'client_secret_basic',
	}],
	jwks: signingJwks,
	cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
	pkce: { methods: ['S256'], required: () => true },
	features: { devInteractions: { enabled: true } },
	// The scope's claims in the ID token itself (as Entra ID sends them),
	// not only from the userinfo endpoint.
	conformIdTokenClaims: false,
	claims: {
		openid: ['sub', 'tid'],
		email: ['email', 'email_verified'],
		profile: ['name'],
	},
	async findAccount(ctx, id) {
		const a = ACCOUNTS[id];
		if (!a)
			return undefined;
		return {
			accountId: id,
			async claims() {
				return { sub: id, email: a.email, email_verified: a.email_verified, name: a.name, tid: a.tid || 'tenant-a' };
			},
		};
	},
});

// ------------------------------------------------------------ test hooks

let nextMode = null;
let expireCodes = false;
let jwksFetches = 0;

function b64url(obj) {
	return Buffer.from(JSON.stringify(obj)).toString('base64url');
}

// The ID token's payload as issued (it is ours: no verification needed).
function payloadOf(idToken) {
	return JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString('utf8'));
}

async function signWith(claims, alg, key, kid) {
	const header = { alg, typ: 'JWT' };
	if (kid)
		header.kid = kid;
	return new jose.SignJWT(claims).setProtectedHeader(header).sign(key);
}

// What each mode makes of the issued token's claims c: a new compact JWS.
const MODES = {
	'other-key': (c) => signWith(c, 'RS256', newKey('rsa').privateKey, RSA_KID),
	'unknown-kid': async (c) => {
		const k = newKey('rsa'), kid = `test-rotated-${++keyCounter}`;
		const t = await signWith(c, 'RS256', k.privateKey, kid);
		rotatedIn.push({ ...k.publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' });
		return t;
	},
	'unknown-kid-absent': (c) => signWith(c, 'RS256', newKey('rsa').privateKey, `test-absent-${++keyCounter}`),
	'alg-none': async (c) => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(c)}.`,
	hs256: (c) => signWith(c, 'HS256', Buffer.from(args.clientSecret, 'utf8'), null),
	expired: (c) => {
		const now = Math.floor(Date.now() / 1000);
		return signWith({ ...c, iat: now - 7200, exp: now - 3600 }, 'RS256', rsa.privateKey, RSA_KID);
	},
	'wrong-aud': (c) => signWith({ ...c, aud: 'someone-else' }, 'RS256', rsa.privateKey, RSA_KID),
	'wrong-nonce': (c) => signWith({ ...c, nonce: crypto.randomBytes(16).toString('base64url') }, 'RS256', rsa.privateKey, RSA_KID),
	es256: (c) => signWith(c, 'ES256', ec.privateKey, EC_KID),
	'wrong-iss': (c) => signWith({ ...c, iss: 'http://127.0.0.1:1/another-issuer' }, 'RS256', rsa.privateKey, RSA_KID),
};

function isLoopback(addr) {
	return /^(127\.|::1$|::ffff:127\.)/.test(addr || '');
}

async function readJson(req) {
	let body = '';
	for await (const chunk of req) {
		body += chunk;
		if (body.length > 4096)
			throw new Error('body too large');
	}
	return body === '' ? {} : JSON.parse(body);
}

function answer(ctx, status, obj) {
	ctx.status = status;
	ctx.type = 'application/json';
	ctx.body = obj;
}

async function testHook(ctx) {
	if (!isLoopback(ctx.req.socket.remoteAddress))
		return answer(ctx, 403, { error: 'loopback only' });
	let body;
	try {
		body = ctx.method === 'POST' ? await readJson(ctx.req) : {};
	} catch (e) {
		return answer(ctx, 400, { error: 'bad JSON' });
	}
	if (ctx.method === 'POST' && ctx.path === '/_test/next') {
		if (body.mode === null) {
			nextMode = null;
			return answer(ctx, 200, { mode: null });
		}
		if (!Object.prototype.hasOwnProperty.call(MODES, body.mode))
			return answer(ctx, 400, { error: 'unknown mode', modes: Object.keys(MODES) });
		nextMode = body.mode;
		return answer(ctx, 200, { mode: nextMode });
	}
	if (ctx.method === 'POST' && ctx.path === '/_test/expire-codes') {
		expireCodes = body.on === true;
		return answer(ctx, 200, { on: expireCodes });
	}
	if (ctx.method === 'GET' && ctx.path === '/_test/jwks-fetches')
		return answer(ctx, 200, { fetches: jwksFetches });
	return answer(ctx, 404, { error: 'no such hook' });
}

// One line per request, without the query string (it holds codes and
// states) and without bodies.
provider.use(async (ctx, next) => {
	try {
		await next();
	} finally {
		process.stdout.write(`${new Date().toISOString()} ${ctx.method} ${ctx.path} ${ctx.status}\n`);
	}
});

provider.use(async (ctx, next) => {
	if (ctx.path.startsWith('/_test/'))
		return testHook(ctx);
	if (ctx.method === 'POST' && ctx.path === '/token' && expireCodes)
		return answer(ctx, 400, { error: 'invalid_grant', error_description: 'grant request is invalid' });
	await next();
	if (ctx.method === 'GET' && ctx.path === '/jwks' && ctx.status === 200) {
		jwksFetches++;
		if (rotatedIn.length > 0)
			ctx.body = { keys: [...ctx.body.keys, ...rotatedIn] };
	}
	if (ctx.method === 'POST' && ctx.path === '/token' && ctx.status === 200 && nextMode !== null &&
	    ctx.body && typeof ctx.body.id_token === 'string') {
		const mode = nextMode;
		nextMode = null;
		ctx.body = { ...ctx.body, id_token: await MODES[mode](payloadOf(ctx.body.id_token)) };
	}
});

provider.on('server_error', (ctx, err) => {
	process.stderr.write(`server_error ${ctx.method} ${ctx.path}: ${err && err.stack}\n`);
});

const server = http.createServer(provider.callback());
server.on('error', (e) => {
	process.stderr.write(`provider.mjs: ${e.message}\n`);
	process.exit(1);
});
server.listen(Number(args.port), '127.0.0.1', () => {
	process.stdout.write('ready\n');
});
// Nothing to save: stop at once (kept-alive connections would delay close()).
for (const sig of ['SIGTERM', 'SIGINT'])
	process.on(sig, () => process.exit(0));
