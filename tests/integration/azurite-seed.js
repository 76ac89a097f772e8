#!/usr/bin/env node
// azurite-seed.js: fill a container of Azurite (or any Blob service reached
// over http) for the integration tests, with Shared Key authentication and
// only node's own modules.
//
//   node azurite-seed.js ENDPOINT CONTAINER IMAGEDIR
//   node azurite-seed.js ENDPOINT CONTAINER --blobs NAME FILE [NAME FILE...]
//   node azurite-seed.js ENDPOINT CONTAINER --get NAME
//
// ENDPOINT is the path-style account URL (http://127.0.0.1:PORT/devstoreaccount1);
// the key comes from LABELD_TEST_AZURITE_KEY (default: Azurite's documented
// development key).  The container is created (an existing one is fine) and
// every *.png / *.jpg directly in IMAGEDIR is uploaded under each of
//   nested/a/  nested/a/b/  nested/b/c/  nested/c/  top/
// plus every image (*.png *.jpg *.gif *.bmp *.webp) of IMAGEDIR/formats/
// under formats/, and one text blob nested/a/readme.txt (not an image).
// With --blobs, each FILE is uploaded as the blob NAME exactly as given (any
// bytes but NUL: the tests send names that break labeld's path rules).
// Prints one line with the number of blobs; exits 1 with the service's
// status on failure.  With --get, the blob NAME's bytes are written to
// stdout instead (nothing is created); exit 1 when there is no such blob.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');

const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const FOLDERS = ['nested/a/', 'nested/a/b/', 'nested/b/c/', 'nested/c/', 'top/'];

const [endpoint, container, imageDir, ...pairs] = process.argv.slice(2);
if (!endpoint || !container || !imageDir ||
	(imageDir === '--blobs' ? pairs.length === 0 || pairs.length % 2 !== 0 :
		imageDir === '--get' ? pairs.length !== 1 : pairs.length > 0)) {
	console.error('usage: node azurite-seed.js ENDPOINT CONTAINER IMAGEDIR\n' +
		'       node azurite-seed.js ENDPOINT CONTAINER --blobs NAME FILE [NAME FILE...]\n' +
		'       node azurite-seed.js ENDPOINT CONTAINER --get NAME');
	process.exit(2);
}
const TYPES = { png: 'image/png', jpg: 'image/jpeg', gif: 'image/gif', bmp: 'image/bmp', webp: 'image/webp' };
const base = new URL(endpoint);
if (base.protocol !== 'http:') {
	console.error('azurite-seed: only http:// endpoints are supported');
	process.exit(2);
}
const account = base.pathname.replace(/^\/+|\/+$/g, '');
const key = Buffer.from(process.env.LABELD_TEST_AZURITE_KEY || DEV_KEY, 'base64');

// Shared Key: sign VERB, the standard headers, the x-ms-* headers and the
// canonical resource (/account + the encoded path + sorted query lines).
function sign(verb, urlPath, query, headers) {
	const h = (n) => headers[n] === undefined ? '' : String(headers[n]);
	const len = h('Content-Length') === '0' ? '' : h('Content-Length');
	const xms = Object.keys(headers).filter((n) => n.toLowerCase().startsWith('x-ms-'))
		.map((n) => [n.toLowerCase(), String(headers[n]).trim()])
		.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
		.map(([n, v]) => `${n}:${v}\n`).join('');
	let resource = `/${account}${urlPath}`;
	for (const name of Object.keys(query).sort())
		resource += `\n${name.toLowerCase()}:${query[name]}`;
	const s = [verb, '', '', len, '', h('Content-Type'), '', '', '', '', '', ''].join('\n') +
		'\n' + xms + resource;
	return crypto.createHmac('sha256', key).update(s, 'utf8').digest('base64');
}

function request(verb, blobPath, query, body, contentType) {
	const urlPath = base.pathname.replace(/\/+$/, '') + '/' + container +
		(blobPath ? '/' + blobPath.split('/').map(encodeURIComponent).join('/') : '');
	const qs = Object.keys(query).map((k) => `${k}=${encodeURIComponent(query[k])}`).join('&');
	const headers = {
		'x-ms-date': new Date().toUTCString(),
		'x-ms-version': '2021-08-06',
		'Content-Length': String(body ? body.length : 0),
	};
	if (blobPath && verb === 'PUT') {
		headers['x-ms-blob-type'] = 'BlockBlob';
		headers['Content-Type'] = contentType;
	}
	headers.Authorization = `SharedKey ${account}:${sign(verb, urlPath, query, headers)}`;
	return new Promise((resolve, reject) => {
		const req = http.request({
			host: base.hostname, port: base.port || 80, method: verb,
			path: urlPath + (qs ? '?' + qs : ''), headers, timeout: 30000,
		}, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode, code: res.headers['x-ms-error-code'],
				body: Buffer.concat(chunks) }));
		});
		req.on('timeout', () => req.destroy(new Error('timed out')));
		req.on('error', reject);
		req.end(body || undefined);
	});
}

async function main() {
	if (imageDir === '--get') {
		const g = await request('GET', pairs[0], {});
		if (g.status !== 200)
			throw new Error(`reading ${pairs[0]}: HTTP ${g.status} ${g.code || ''}`);
		process.stdout.write(g.body);
		return;
	}
	const r = await request('PUT', '', { restype: 'container' });
	if (r.status !== 201 && r.status !== 409)
		throw new Error(`creating container ${container}: HTTP ${r.status} ${r.code || ''}`);
	const uploads = [];
	if (imageDir === '--blobs') {
		for (let i = 0; i < pairs.length; i += 2)
			uploads.push([pairs[i], fs.readFileSync(pairs[i + 1]), 'application/octet-stream']);
		return upload(uploads, `azurite-seed: ${uploads.length} blobs in ${container}`);
	}
	const images = fs.readdirSync(imageDir).filter((f) => /\.(png|jpg)$/i.test(f)).sort();
	if (images.length === 0)
		throw new Error(`no *.png or *.jpg in ${imageDir}`);
	uploads.push(['nested/a/readme.txt', Buffer.from('This is not an image.\n'), 'text/plain']);
	for (const folder of FOLDERS) {
		for (const f of images) {
			const type = /\.png$/i.test(f) ? 'image/png' : 'image/jpeg';
			uploads.push([folder + f, fs.readFileSync(path.join(imageDir, f)), type]);
		}
	}
	const formatsDir = path.join(imageDir, 'formats');
	const formats = fs.existsSync(formatsDir) ? fs.readdirSync(formatsDir)
		.filter((f) => /\.(png|jpg|gif|bmp|webp)$/i.test(f)).sort() : [];
	for (const f of formats) {
		const type = TYPES[f.replace(/^.*\./, '').toLowerCase()];
		uploads.push(['formats/' + f, fs.readFileSync(path.join(formatsDir, f)), type]);
	}
	return upload(uploads, `azurite-seed: ${uploads.length} blobs in ${container} ` +
		`(${images.length} images in each of ${FOLDERS.join(' ')}, ${formats.length} in formats/ ` +
		'and nested/a/readme.txt)');
}

// PUT every [name, data, type]; then print the summary line.
async function upload(uploads, summary) {
	for (const [name, data, type] of uploads) {
		const p = await request('PUT', name, {}, data, type);
		if (p.status !== 201)
			throw new Error(`uploading ${name}: HTTP ${p.status} ${p.code || ''}`);
	}
	console.log(summary);
}

main().catch((e) => {
	console.error(`azurite-seed: ${e.message}`);
	process.exit(1);
});
