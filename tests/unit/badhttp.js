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
//
// No npm dependencies: node's http module only.
'use strict';

const http = require('http');
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
