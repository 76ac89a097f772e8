// lib.js: what the browser tests share: the stack's environment, SQL
// through LABELD_TEST_SQL, the headless chromium (playwright-core), signing
// in, projects made with SQL and initialised by labeld's own init job, and
// small checks.  See README.md in this folder.
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const assert = require('node:assert/strict');

function env(name) {
	const v = process.env[name];
	if (!v)
		throw new Error(`${name} is not set (run through ./stack test, or source var/test/test.env)`);
	return v;
}

const URL_BASE = () => env('LABELD_TEST_URL');
const OUT = process.env.LABELD_BROWSER_OUT || path.join(process.cwd(), 'browser-output');

// sql(text): run SQL on the test database; returns the rows as arrays of
// strings (tab-separated output of the mariadb client, -N -B).
function sql(text) {
	const out = execFileSync('sh', ['-c', `${env('LABELD_TEST_SQL')} -N -B`], {
		input: text, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'],
	});
	return out.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
}

function sqlOne(text) {
	const rows = sql(text);
	if (rows.length === 0)
		return null;
	return rows[rows.length - 1][0];
}

function q(s) {
	return "'" + String(s).replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
}

// The playwright-core module: ./stack installs it into var/node and puts
// var/node/node_modules on NODE_PATH.
function playwright() {
	try {
		return require('playwright-core');
	} catch (e) {
		throw new Error('playwright-core is not installed (./stack test installs it into var/node): ' + e.message);
	}
}

// launch(): Debian's chromium, headless.  Playwright gives the browser a
// new empty profile (user-data-dir) of its own; TMPDIR puts it under the
// test output, and it is removed when the browser closes.
async function launch() {
	const exe = process.env.LABELD_CHROMIUM || '/usr/bin/chromium';
	const tmp = path.join(OUT, 'browser-tmp');
	fs.mkdirSync(tmp, { recursive: true });
	process.env.TMPDIR = tmp;
	const { chromium } = playwright();
	const browser = await chromium.launch({
		executablePath: exe,
		headless: true,
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync'],
		timeout: 30000,
	});
	return { browser };
}

// newPage(browser, {js}): a fresh context (no cookies), 1280x900, that
// records console errors and uncaught exceptions (a CSP violation is a
// console error) into page.problems.
async function newPage(browser, opts = {}) {
	const context = await browser.newContext({
		javaScriptEnabled: opts.js !== false,
		viewport: { width: 1280, height: 900 },
		baseURL: URL_BASE(),
	});
	context.setDefaultTimeout(10000);
	const page = await context.newPage();
	page.problems = [];
	// Failed requests are recorded with their URL (below); chromium's
	// console line about them says less.  A refused answer is a 422 page.
	page.on('console', (m) => {
		if (m.type() === 'error' && !/^Failed to load resource: /.test(m.text()))
			page.problems.push('console: ' + m.text());
	});
	page.on('response', (r) => {
		const u = new URL(r.url());
		if (r.status() < 400)
			return;
		if (r.status() === 422 && r.request().method() === 'POST' && /^\/projects\/\d+\/items\/\d+$/.test(u.pathname))
			return;
		page.problems.push(`${r.request().method()} ${u.pathname}: ${r.status()}`);
	});
	page.on('pageerror', (e) => page.problems.push('page error: ' + e.message));
	return page;
}

// signIn(page, email, password): the sign-in form, as a person fills it.
async function signIn(page, email, password) {
	await page.goto('/login');
	await page.fill('#email', email);
	await page.fill('#password', password);
	await Promise.all([page.waitForNavigation(), page.click('#login button[type=submit]')]);
	const url = new URL(page.url());
	assert.notEqual(url.pathname, '/login', `sign-in did not leave /login (${page.url()})`);
}

// navigate(page, action): run action (a key press, a click) that submits
// the form, and wait for the page it leads to.  Returns the response.
async function navigate(page, action) {
	const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), action()]);
	return resp;
}

// The sample photos (tests/fixtures/images, top level).
function samplePhotos() {
	const dir = path.join(env('LABELD_TEST_SRCDIR'), 'tests/fixtures/images');
	return fs.readdirSync(dir).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort()
		.map((f) => path.join(dir, f));
}

let stampN = 0;
function stamp() {
	return `${Date.now().toString(36)}-${process.pid}-${++stampN}`;
}

// The CRC-32 of PNG chunks (ISO 3309).
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
	let c = n;
	for (let k = 0; k < 8; k++)
		c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
	return c >>> 0;
});
function crc32(buf) {
	let c = 0xffffffff;
	for (const b of buf)
		c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
	return (c ^ 0xffffffff) >>> 0;
}

// png(width, height, row): an RGB PNG whose row y is the Buffer row(y)
// (width * 3 bytes; the same Buffer may serve many rows, so a large
// picture of few distinct rows costs little memory and compresses to a
// few KB).
function png(width, height, row) {
	const chunk = (type, data) => {
		const head = Buffer.alloc(8), tail = Buffer.alloc(4);
		head.writeUInt32BE(data.length, 0);
		head.write(type, 4, 'latin1');
		tail.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
		return Buffer.concat([head, data, tail]);
	};
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(width, 0);
	ihdr.writeUInt32BE(height, 4);
	ihdr.set([8, 2, 0, 0, 0], 8);          // 8 bits, RGB, deflate, no filter, no interlace
	const zero = Buffer.alloc(1), rows = [];
	for (let y = 0; y < height; y++)
		rows.push(zero, row(y));
	return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
		chunk('IEND', Buffer.alloc(0))]);
}

// makeProject(task, labelNames, files): a local datastore in
// LABELD_TEST_DATASTORE_ROOT holding files ({name: Buffer}; default a copy
// of the sample photos), a dataset of it, a project of task with these
// labels, its counters and an init job, in one transaction as the
// create-project wizard leaves them (the wizard has its own tests); waits
// until labeld's job thread made it Running.
// Returns { id, labels: {name: id}, labelIds: [ids in order], items }.
async function makeProject(task, labelNames, files) {
	const s = stamp();
	const dir = path.join(env('LABELD_TEST_DATASTORE_ROOT'), `browser-${s}`);
	fs.mkdirSync(dir, { recursive: true });
	if (files) {
		for (const [name, data] of Object.entries(files))
			fs.writeFileSync(path.join(dir, name), data);
	} else {
		for (const f of samplePhotos())
			fs.copyFileSync(f, path.join(dir, path.basename(f)));
	}
	const labels = labelNames.map((n, i) => `(@p, ${q(n)}, ${i + 1})`).join(', ');
	const id = Number(sqlOne(`
		START TRANSACTION;
		INSERT INTO datastores (name, kind, local_path) VALUES (${q('Browser ' + s)}, 'local', ${q(dir)});
		INSERT INTO datasets (name, description, datastore_id, path, is_recursive, source)
		  VALUES (${q('Browser photos ' + s)}, 'browser tests', LAST_INSERT_ID(), '', 0, 'datastore');
		INSERT INTO projects (name, task, dataset_id, description)
		  VALUES (${q(`Browser ${task} ${s}`)}, ${q(task)}, LAST_INSERT_ID(), 'browser tests');
		SET @p = LAST_INSERT_ID();
		INSERT INTO labels (project_id, name, position) VALUES ${labels};
		INSERT INTO project_counters (project_id) VALUES (@p);
		INSERT INTO jobs (kind, project_id) VALUES ('init', @p);
		COMMIT;
		SELECT @p;`));
	assert.ok(id > 0, 'no project id');
	const t0 = Date.now();
	for (;;) {
		const st = sqlOne(`SELECT state FROM projects WHERE id = ${id}`);
		if (st === 'running')
			break;
		assert.notEqual(st, 'failed', `project ${id} (${task}) failed to initialise`);
		assert.ok(Date.now() - t0 < 30000, `project ${id} (${task}) not running after 30 s (${st})`);
		await sleep(100);
	}
	const rows = sql(`SELECT name, id FROM labels WHERE project_id = ${id} ORDER BY position`);
	const out = { id, task, labels: {}, labelIds: [], items: Number(sqlOne(`SELECT COUNT(*) FROM items WHERE project_id = ${id}`)) };
	for (const [n, lid] of rows) {
		out.labels[n] = Number(lid);
		out.labelIds.push(Number(lid));
	}
	return out;
}

function sleep(ms) {
	return new Promise((r) => setTimeout(r, ms));
}

// The current annotation of an item, parsed, with its labeler's email.
function annotation(item) {
	const rows = sql(`SELECT a.data, u.email FROM annotations a LEFT JOIN users u ON u.id = a.labeler_id
		WHERE a.item_id = ${item} AND a.is_current = 1`);
	assert.equal(rows.length, 1, `item ${item}: ${rows.length} current annotations, want 1`);
	return { data: JSON.parse(rows[0][0]), text: rows[0][0], email: rows[0][1] };
}

function annotationCount(item) {
	return Number(sqlOne(`SELECT COUNT(*) FROM annotations WHERE item_id = ${item}`));
}

// What the labeling page shows: the item in the form's action, the lease,
// the image size, the prefetch hint.
async function formInfo(page) {
	return page.evaluate(() => {
		const f = document.getElementById('labelform');
		if (!f)
			return null;
		const m = f.getAttribute('action').match(/\/projects\/(\d+)\/items\/(\d+)$/);
		const lease = f.querySelector('input[name=lease]');
		return {
			project: m ? Number(m[1]) : 0, item: m ? Number(m[2]) : 0,
			lease: lease ? lease.value : '', mode: f.dataset.inputMode,
			width: Number(f.dataset.width), height: Number(f.dataset.height),
			prefetch: f.dataset.prefetch || '',
		};
	});
}

// assertKeys(obj, keys): obj has exactly these keys.
function assertKeys(obj, keys, what) {
	assert.deepEqual(Object.keys(obj).sort(), [...keys].sort(), `${what}: keys ${JSON.stringify(Object.keys(obj))}`);
}

async function screenshot(page, name) {
	const dir = path.join(OUT, 'screenshots');
	fs.mkdirSync(dir, { recursive: true });
	await page.screenshot({ path: path.join(dir, name + '.png'), fullPage: true });
}

module.exports = {
	env, sql, sqlOne, q, launch, newPage, signIn, navigate, png, makeProject, annotation,
	annotationCount, formInfo, assertKeys, screenshot, sleep, OUT, assert,
};
