// badhttp.js: a misbehaving "blob service" for tests/unit/test_blob.c.
//
//   node badhttp.js PORTFILE
//
// Listens on a free loopback port and writes it to PORTFILE (atomically).
// The test uses the endpoint http://127.0.0.1:PORT/acct and picks the
// behaviour with the container name, the second path segment:
//
//   redirect  302 to another host
//   error     500 with an HTML page holding SECRET-BODY-TEXT
//   errcode   403 with an XML error whose <Code> is not a plain word
//   errxml    403 with <Code>AuthenticationFailed</Code> and a secret message
//   endless   200, a body that never ends
//   slow      accepts the request and never answers
//   bigxml    a listing larger than the test's max_response (256 KiB)
//   doctype   a listing with a DOCTYPE and an entity
//   echo      a listing whose blob names are the request line and headers
//   paged     a listing in three pages (markers "m1", "m 2&x")
//   loop      a listing whose NextMarker never changes
//   notxml    200 with a body that is not XML
//   encoded   a listing as the service sends names that XML cannot carry:
//             <Name Encoded="true">, percent-encoded (a \x01 in one)
//   slowinit-TAG-PAGES-LISTMS-GETMS
//             a slow but correct container for the init job's heartbeat
//             tests: PAGES listing pages of 20 blobs img/pNN-MM.png, each
//             page answered after LISTMS ms, each Get Blob (a 1x1 PNG) after
//             GETMS ms.  GET /stats/CONTAINER answers its counters as JSON:
//             {"starts": listings begun (no marker), "pages": pages served,
//             "gets": blobs served}.
//   flaky     a small block-blob store for uploads (datastore_sink): the
//             first Put Block of each block id answers 503, the second
//             stores it (its Content-MD5 is checked: 400 Md5Mismatch);
//             Put Block List commits, with If-None-Match: * only when the
//             name is free (else 409 BlobAlreadyExists); Get Blob.
//             GET /acct/flakystats/x answers {"puts": Put Block requests,
//             "commits": Put Block List requests}.
//   blockfail Put Block answers 500 every time (counted in /flakystats).
//
// No npm dependencies: node's http module only.
'use strict';

const http = require('http');
const crypto = require('crypto');
const fs = require('fs');

const portfile = process.argv[2];
if (!portfile) {
	console.error('usage: node badhttp.js PORTFILE');
	process.exit(2);
}

function xmlEscape(s) {
	return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function listing(names, next) {
	let x = '<?xml version="1.0" encoding="utf-8"?>\n' +
		'<EnumerationResults ServiceEndpoint="http://127.0.0.1/acct" ContainerName="c"><Blobs>';
	for (const n of names)
		x += '<Blob><Name>' + xmlEscape(n) + '</Name><Properties><Content-Length>' +
			n.length + '</Content-Length></Properties></Blob>';
	x += '</Blobs><NextMarker>' + xmlEscape(next || '') + '</NextMarker></EnumerationResults>';
	return x;
}

// A valid 1x1 greyscale PNG.
const PNG_1X1 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==', 'base64');
const slowStats = new Map();
const flaky = { tries: new Map(), blocks: new Map(), blobs: new Map(), puts: 0, commits: 0 };

function flakyStore(req, res, url, route) {
	const name = url.pathname.split('/').slice(3).map(decodeURIComponent).join('/');
	const comp = url.searchParams.get('comp');
	const chunks = [];
	req.on('data', (c) => chunks.push(c));
	req.on('end', () => {
		const body = Buffer.concat(chunks);
		if (req.method === 'PUT' && comp === 'block') {
			flaky.puts++;
			const key = name + ' ' + url.searchParams.get('blockid');
			const tries = (flaky.tries.get(key) || 0) + 1;
			flaky.tries.set(key, tries);
			if (route === 'blockfail') {
				sendXml(res, 500, '<?xml version="1.0"?><Error><Code>InternalError</Code></Error>');
				return;
			}
			const md5 = crypto.createHash('md5').update(body).digest('base64');
			if (req.headers['content-md5'] !== md5) {
				sendXml(res, 400, '<?xml version="1.0"?><Error><Code>Md5Mismatch</Code></Error>');
				return;
			}
			if (tries === 1) {
				sendXml(res, 503, '<?xml version="1.0"?><Error><Code>ServerBusy</Code></Error>');
				return;
			}
			flaky.blocks.set(key, body);
			res.writeHead(201, { 'Content-Length': 0 });
			res.end();
		} else if (req.method === 'PUT' && comp === 'blocklist') {
			flaky.commits++;
			if (flaky.blobs.has(name) && req.headers['if-none-match'] === '*') {
				sendXml(res, 409, '<?xml version="1.0"?><Error><Code>BlobAlreadyExists</Code></Error>');
				return;
			}
			const parts = [];
			for (const m of body.toString().matchAll(/<Latest>([^<]*)<\/Latest>/g)) {
				const b = flaky.blocks.get(name + ' ' + m[1]);
				if (!b) {
					sendXml(res, 400, '<?xml version="1.0"?><Error><Code>InvalidBlockList</Code></Error>');
					return;
				}
				parts.push(b);
			}
			flaky.blobs.set(name, Buffer.concat(parts));
			res.writeHead(201, { 'Content-Length': 0 });
			res.end();
		} else if (req.method === 'GET' && flaky.blobs.has(name)) {
			const b = flaky.blobs.get(name);
			res.writeHead(200, { 'Content-Length': b.length });
			res.end(b);
		} else {
			sendXml(res, 404, '<?xml version="1.0"?><Error><Code>BlobNotFound</Code></Error>');
		}
	});
}

function slowCounters(container) {
	if (!slowStats.has(container))
		slowStats.set(container, { starts: 0, pages: 0, gets: 0 });
	return slowStats.get(container);
}

// The slowinit-TAG-PAGES-LISTMS-GETMS container (see the top).
function slowInit(req, res, url, container, m) {
	const pages = Number(m[2]), listMs = Number(m[3]), getMs = Number(m[4]);
	const st = slowCounters(container);
	const blob = url.pathname.split('/').slice(3).join('/');
	if (blob === '' && url.searchParams.get('comp') === 'list') {
		const marker = url.searchParams.get('marker');
		const page = marker ? Number(marker.slice(1)) : 0;
		if (!marker)
			st.starts++;
		setTimeout(() => {
			const names = [];
			for (let i = 0; i < 20; i++)
				names.push('img/p' + String(page).padStart(2, '0') + '-' + String(i).padStart(2, '0') + '.png');
			st.pages++;
			sendXml(res, 200, listing(names, page + 1 < pages ? 'p' + (page + 1) : ''));
		}, listMs);
		return;
	}
	setTimeout(() => {
		st.gets++;
		res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': PNG_1X1.length });
		res.end(PNG_1X1);
	}, getMs);
}

function sendXml(res, status, body, extra) {
	res.writeHead(status, Object.assign({
		'Content-Type': 'application/xml',
		'Content-Length': Buffer.byteLength(body),
	}, extra || {}));
	res.end(body);
}

const server = http.createServer((req, res) => {
	const url = new URL(req.url, 'http://127.0.0.1');
	const route = url.pathname.split('/')[2] || '';
	const marker = url.searchParams.get('marker');
	const slow = /^slowinit-([a-z0-9]+)-([0-9]+)-([0-9]+)-([0-9]+)$/.exec(route);

	if (url.pathname.startsWith('/stats/')) {
		const body = JSON.stringify(slowCounters(url.pathname.slice(7)));
		res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
		res.end(body);
		return;
	}
	if (slow) {
		slowInit(req, res, url, route, slow);
		return;
	}
	if (route === 'flakystats') {
		const body = JSON.stringify({ puts: flaky.puts, commits: flaky.commits });
		res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
		res.end(body);
		return;
	}
	if (route === 'flaky' || route === 'blockfail') {
		flakyStore(req, res, url, route);
		return;
	}

	switch (route) {
	case 'redirect':
		res.writeHead(302, { Location: 'http://elsewhere.invalid/acct/c?restype=container', 'Content-Length': 0 });
		res.end();
		return;
	case 'error': {
		const body = '<html><body><h1>Internal error</h1><p>SECRET-BODY-TEXT: stack trace, ' +
			'connection string AccountKey=abc</p></body></html>';
		res.writeHead(500, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(body) });
		res.end(body);
		return;
	}
	case 'errcode':
		sendXml(res, 403, '<?xml version="1.0"?><Error><Code>SECRET-BODY-TEXT</Code>' +
			'<Message>SECRET-BODY-TEXT</Message></Error>');
		return;
	case 'errxml':
		sendXml(res, 403, '<?xml version="1.0"?><Error><Code>AuthenticationFailed</Code>' +
			'<Message>SECRET-BODY-TEXT</Message></Error>');
		return;
	case 'endless': {
		res.writeHead(200, { 'Content-Type': 'application/xml' });
		const chunk = Buffer.alloc(16384, 'x');
		let open = true;
		res.on('close', () => { open = false; });
		const pump = () => {
			while (open && res.write(chunk))
				;
			if (open)
				res.once('drain', pump);
		};
		pump();
		return;
	}
	case 'slow':
		// Keep the socket open and never answer.
		return;
	case 'bigxml': {
		const names = [];
		for (let i = 0; i < 8000; i++)
			names.push('big/' + String(i).padStart(8, '0') + '.png');
		sendXml(res, 200, listing(names));
		return;
	}
	case 'doctype':
		sendXml(res, 200, '<?xml version="1.0"?>\n<!DOCTYPE EnumerationResults [\n' +
			'<!ENTITY secret SYSTEM "file:///etc/passwd">\n<!ENTITY a "aaaaaaaaaa">\n]>\n' +
			'<EnumerationResults><Blobs><Blob><Name>&secret;&a;</Name></Blob></Blobs>' +
			'<NextMarker/></EnumerationResults>');
		return;
	case 'echo': {
		const names = [req.method + ' ' + req.url];
		for (const h of Object.keys(req.headers).sort())
			names.push(h + ': ' + req.headers[h]);
		sendXml(res, 200, listing(names));
		return;
	}
	case 'paged':
		if (!marker)
			sendXml(res, 200, listing(['p1'], 'm1'));
		else if (marker === 'm1')
			sendXml(res, 200, listing(['p2'], 'm 2&x'));
		else if (marker === 'm 2&x')
			sendXml(res, 200, listing(['p3']));
		else
			sendXml(res, 400, '<?xml version="1.0"?><Error><Code>InvalidMarker</Code></Error>');
		return;
	case 'loop':
		sendXml(res, 200, listing(['again'], 'same'));
		return;
	case 'encoded':
		sendXml(res, 200, '<?xml version="1.0" encoding="utf-8"?>\n<EnumerationResults ' +
			'ServiceEndpoint="http://127.0.0.1/acct" ContainerName="encoded"><Blobs>' +
			'<Blob><Name Encoded="true">ctl%2Fx%01y.png</Name><Properties>' +
			'<Content-Length>3</Content-Length></Properties></Blob>' +
			'<Blob><Name>plain.png</Name><Properties><Content-Length>3</Content-Length>' +
			'</Properties></Blob></Blobs><NextMarker/></EnumerationResults>');
		return;
	case 'notxml':
		res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 9 });
		res.end('not xml\n\n');
		return;
	default:
		sendXml(res, 404, '<?xml version="1.0"?><Error><Code>ContainerNotFound</Code></Error>');
	}
});

server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => {
	const tmp = portfile + '.tmp';
	fs.writeFileSync(tmp, String(server.address().port) + '\n');
	fs.renameSync(tmp, portfile);
});

process.on('SIGTERM', () => process.exit(0));
