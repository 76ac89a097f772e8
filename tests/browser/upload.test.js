// upload.test.js: the create-project wizard's upload step (issue 16) in
// Chromium.  With JavaScript, upload.js sends the sample photos one request
// per file with a progress bar; one request is cut off (Playwright's
// page.route aborts the first try of one photo) and must be tried again.
// Without JavaScript the plain multipart form stores them.  Then the issue's
// "Done means" walk: an Azure Blob datastore of Azurite added on the admin
// pages, the photos uploaded into a nested folder of its container chosen
// under Advanced settings, the project created and initialised from there,
// and an item labeled with the keys.  Every stored file is compared byte for
// byte with the photo it came from (on disk, or read back from Azurite).
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const L = require('./lib');
const { assert } = L;

const ADMIN = () => [L.env('LABELD_TEST_ADMIN_EMAIL'), L.env('LABELD_TEST_ADMIN_PASSWORD')];

let B = null;

// The navigation an action leads to later on: a promise that never rejects
// unhandled (the test may fail before awaiting it); wait() throws its error.
function later(page) {
	const p = page.waitForNavigation({ waitUntil: 'load', timeout: 30000 }).catch((e) => e);
	return { wait: async () => {
		const r = await p;
		if (r instanceof Error)
			throw r;
		return r;
	} };
}

function photos() {
	const dir = path.join(L.env('LABELD_TEST_SRCDIR'), 'tests/fixtures/images');
	return fs.readdirSync(dir).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort()
		.map((f) => path.join(dir, f));
}

function tag() {
	return `${Date.now().toString(36)}-${process.pid}`;
}

async function browser() {
	if (!B)
		B = await L.launch();
	return B.browser;
}

// A new draft through the wizard's first two steps (a multi-class project,
// images "From local files"); the page is left on the upload step.
async function toUploadStep(page, name) {
	await page.goto('/projects');
	await L.navigate(page, () => page.click('form[action="/projects/drafts"] button[type=submit]'));
	await page.fill('#name', name);
	await page.check('input[name=task][value=multiclass]');
	await L.navigate(page, () => page.click('.wizard-nav button[value=next]'));
	await page.check('input[name=source][value=upload]');
	const resp = await L.navigate(page, () => page.click('.wizard-nav button[value=next]'));
	assert.equal(resp.status(), 200, `the upload step answered ${resp.status()}`);
	assert.match(new URL(page.url()).pathname, /^\/projects\/drafts\/\d+\/upload$/, 'not on the upload step');
	assert.equal(await page.locator('#wizard input[type=file]#files').count(), 1, 'no file input #files');
}

// Confirm (the follow-up page) lists n uploaded images; "Create dataset"
// makes the dataset.  Returns its row: datastore, local root, folder.
async function createDataset(page, dsName, n) {
	const resp = await L.navigate(page, () => page.click('.wizard-nav button[value=next]'));
	assert.equal(resp.status(), 200, `Next after the upload answered ${resp.status()}: ${await page.textContent('main')}`);
	assert.match(new URL(page.url()).pathname, /\/confirm$/, 'Next did not lead to the confirm step');
	const facts = await page.textContent('#wizard .facts');
	assert.ok(new RegExp(`\\b${n}\\b`).test(facts), `the confirm step does not say ${n} images: ${facts}`);
	await L.navigate(page, () => page.click('.wizard-nav button[value=create]'));
	const rows = L.sql(`SELECT d.id, s.id, s.kind, IFNULL(s.local_path, ''), d.path FROM datasets d
		JOIN datastores s ON s.id = d.datastore_id WHERE d.name = ${L.q(dsName)}`);
	assert.equal(rows.length, 1, `no dataset named ${dsName}`);
	const [id, store, kind, root, folder] = rows[0];
	return { id: Number(id), store: Number(store), kind, root, folder };
}

// Every photo is stored once under its own name in the local folder, with
// the same bytes, and nothing else is there.
function sameFilesOnDisk(dir, files) {
	const there = fs.readdirSync(dir).sort();
	assert.deepEqual(there, files.map((f) => path.basename(f)).sort(), `the files in ${dir}`);
	for (const f of files)
		assert.ok(fs.readFileSync(f).equals(fs.readFileSync(path.join(dir, path.basename(f)))),
			`${path.basename(f)} differs from the photo uploaded`);
}

async function upload_js_retry() {
	const page = await L.newPage(await browser());
	await L.signIn(page, ...ADMIN());
	const s = tag(), dsName = `Upload JS ${s}`, files = photos();
	assert.ok(files.length >= 4, 'fewer than 4 sample photos');
	await toUploadStep(page, `Upload JS project ${s}`);
	assert.equal(await page.locator('script[src="/static/upload.js"]').count(), 1, 'the step does not load upload.js');
	await page.fill('#ds_name', dsName);
	await page.setInputFiles('#files', files);

	// The first request that carries this photo is cut off.
	const victim = path.basename(files[2]);
	const tries = {}, odd = [];
	let aborted = 0;
	await page.route(/\/projects\/drafts\/\d+\/upload$/, (route) => {
		const req = route.request();
		if (req.method() !== 'POST')
			return route.continue();
		const m = (req.postDataBuffer() || Buffer.alloc(0)).toString('latin1').match(/filename="([^"]*)"/g) || [];
		if (m.length !== 1)
			odd.push(`a request carried ${m.length} files`);
		if (req.headers().accept !== 'application/json')
			odd.push(`a request asked for ${req.headers().accept}`);
		const name = m.length ? m[0].slice(10, -1) : '';
		tries[name] = (tries[name] || 0) + 1;
		if (name === victim && tries[name] === 1) {
			aborted++;
			return route.abort('connectionreset');
		}
		return route.continue();
	});
	const answers = [];
	page.on('response', async (r) => {
		if (r.request().method() === 'POST' && /\/upload$/.test(r.url()))
			answers.push({ status: r.status(), type: r.headers()['content-type'] || '' });
	});

	const reloaded = later(page);
	await page.click('.wizard-nav button[value=next]');
	// The pause before the second try: the progress bar, its label and the
	// live status line, with the form locked.
	await page.waitForSelector('#upload-status:has-text("trying again")', { timeout: 15000 });
	const bar = await page.evaluate(() => {
		const p = document.querySelector('#upload-progress progress');
		const lab = p && p.labels && p.labels[0];
		const st = document.getElementById('upload-status');
		return p && { value: p.value, max: p.max, label: lab ? lab.textContent : '', hidden: p.closest('[hidden]') !== null,
			live: st.getAttribute('aria-live'), role: st.getAttribute('role'),
			locked: document.querySelector('.wizard-nav button[value=next]').disabled };
	});
	assert.ok(bar, 'no <progress> in #upload-progress');
	assert.equal(bar.hidden, false, 'the progress is hidden');
	assert.ok(bar.label.trim() !== '', 'the <progress> has no label');
	assert.equal(bar.live, 'polite');
	assert.equal(bar.role, 'status');
	assert.ok(bar.locked, 'Next is not disabled while files go up');
	const total = files.reduce((n, f) => n + fs.statSync(f).size, 0);
	assert.equal(bar.max, total, 'the bar\'s max is not the bytes of the chosen files');
	assert.ok(bar.value > 0 && bar.value < total, `bar at ${bar.value} of ${total} during the retry`);
	await L.screenshot(page, 'upload-progress-retry');
	await reloaded.wait();

	// One abort, the victim tried twice, every other photo once, every
	// answer JSON.
	assert.deepEqual(odd, []);
	assert.equal(aborted, 1, 'the request was not cut off');
	const want = {};
	for (const f of files)
		want[path.basename(f)] = 1;
	want[victim] = 2;
	assert.deepEqual(tries, want, 'requests per photo');
	assert.equal(answers.length, files.length, 'answers to the upload requests');
	for (const a of answers) {
		assert.equal(a.status, 200);
		assert.match(a.type, /^application\/json/);
	}
	await page.unroute(/\/projects\/drafts\/\d+\/upload$/);
	// The step page again with its summary.
	assert.match(new URL(page.url()).pathname, /\/upload$/, 'not back on the upload step');
	const main = await page.textContent('main');
	assert.ok(new RegExp(`\\b${files.length}\\b[^.]*(images|files)`).test(main), `the summary does not say ${files.length}: ${main}`);
	assert.equal(await page.locator('.refused-box').count(), 0, 'a photo was refused');
	await L.screenshot(page, 'upload-summary');

	const ds = await createDataset(page, dsName, files.length);
	assert.equal(ds.kind, 'local');
	sameFilesOnDisk(path.join(ds.root, ds.folder), files);
	assert.deepEqual(page.problems, []);
	await page.context().close();
}

async function upload_nojs() {
	const page = await L.newPage(await browser(), { js: false });
	await L.signIn(page, ...ADMIN());
	const s = tag(), dsName = `Upload no JS ${s}`, files = photos().slice(0, 3);
	await toUploadStep(page, `Upload no-JS project ${s}`);
	await page.fill('#ds_name', dsName);
	await page.setInputFiles('#files', files);
	const posts = [];
	page.on('request', (r) => {
		if (r.method() === 'POST')
			posts.push(r.headers()['content-type'] || '');
	});
	// Without JavaScript Next sends the form itself: one multipart request
	// with every file, and the confirm step follows.
	const ds = await createDataset(page, dsName, files.length);
	assert.equal(posts.length, 2, `POSTs: ${posts.length} (want the upload and Create dataset)`);
	assert.match(posts[0], /^multipart\/form-data/);
	assert.equal(ds.kind, 'local');
	sameFilesOnDisk(path.join(ds.root, ds.folder), files);
	assert.deepEqual(page.problems, []);
	await page.context().close();
}

// A blob of the test Azurite container, read back with the seeding script.
function azuriteBlob(name) {
	return execFileSync('node', [path.join(L.env('LABELD_TEST_SRCDIR'), 'tests/integration/azurite-seed.js'),
		L.env('LABELD_TEST_AZURITE'), L.env('LABELD_TEST_AZURITE_CONTAINER'), '--get', name],
	{ maxBuffer: 64 << 20 });
}

// Issue 16's "Done means": the sample photos into a nested folder of the
// Azurite container, chosen under Advanced settings; the project made,
// initialised from there, and labeled with the keys.
async function upload_walk_azurite() {
	const endpoint = L.env('LABELD_TEST_AZURITE'), container = L.env('LABELD_TEST_AZURITE_CONTAINER');
	const page = await L.newPage(await browser());
	await L.signIn(page, ...ADMIN());
	const s = tag(), files = photos(), store = `Azurite uploads ${s}`, folder = `walk-${s}/photos`;

	// The datastore, as an admin adds it.
	await page.goto('/admin/datastores/new?kind=azureblob');
	await page.fill('#name', store);
	await page.fill('#account', endpoint.replace(/\/+$/, '').replace(/^.*\//, ''));
	await page.fill('#container', container);
	await page.fill('#endpoint', endpoint);
	await page.check('input[name=auth][value=key]');
	await page.fill('#key', L.env('LABELD_TEST_AZURITE_KEY'));
	await L.navigate(page, () => page.click('#datastore button[type=submit]'));
	const m = new URL(page.url()).pathname.match(/^\/admin\/datastores\/(\d+)$/);
	assert.ok(m, `adding the datastore did not lead to its page: ${await page.textContent('main')}`);
	const storeId = Number(m[1]);

	// The wizard, with the target under Advanced settings.
	const project = `Upload walk ${s}`, dsName = `Walk photos ${s}`;
	await toUploadStep(page, project);
	await page.fill('#ds_name', dsName);
	const adv = page.locator('#wizard details');
	assert.equal(await adv.count(), 1, 'no Advanced settings on the upload step');
	assert.match(await adv.locator('summary').textContent(), /Advanced settings/);
	await adv.locator('summary').click();
	const opt = await page.$$eval('select[name=up_datastore] option', (os, n) =>
		(os.find((o) => o.textContent.includes(n)) || {}).value, store);
	assert.ok(opt, `the datastore ${store} is not offered`);
	await page.selectOption('select[name=up_datastore]', opt);
	await page.fill('input[name=up_folder]', folder);
	await page.setInputFiles('#files', files);
	await L.screenshot(page, 'upload-advanced-settings');
	const reloaded = later(page);
	await page.click('.wizard-nav button[value=next]');
	await page.waitForSelector('#upload-progress:not([hidden])');
	await L.screenshot(page, 'upload-progress-azurite');
	await reloaded.wait();
	const main = await page.textContent('main');
	assert.ok(main.includes(folder), `the step does not say where the files went: ${main}`);
	await L.screenshot(page, 'upload-summary-azurite');

	const ds = await createDataset(page, dsName, files.length);
	assert.equal(ds.store, storeId, 'the dataset is not in the chosen datastore');
	assert.equal(ds.kind, 'azureblob');
	assert.equal(ds.folder.replace(/\/+$/, ''), folder, 'the dataset\'s folder');
	for (const f of files)
		assert.ok(azuriteBlob(`${folder}/${path.basename(f)}`).equals(fs.readFileSync(f)),
			`the blob ${folder}/${path.basename(f)} differs from the photo`);

	// Labels, instructions, review, Create project.
	assert.match(new URL(page.url()).pathname, /\/labels$/, 'Create dataset did not lead to the labels');
	const rows = page.locator('input[name=label]');
	await rows.nth(0).fill('cat');
	await rows.nth(1).fill('dog');
	await L.navigate(page, () => page.click('.wizard-nav button[value=next]'));
	await L.navigate(page, () => page.click('.wizard-nav button[value=next]'));
	await L.navigate(page, () => page.click('.wizard-nav button[value=create]'));
	const pid = Number(L.sqlOne(`SELECT id FROM projects WHERE name = ${L.q(project)}`));
	assert.ok(pid > 0, 'the project was not created');
	assert.equal(Number(L.sqlOne(`SELECT dataset_id FROM projects WHERE id = ${pid}`)), ds.id);
	const t0 = Date.now();
	for (;;) {
		const st = L.sqlOne(`SELECT state FROM projects WHERE id = ${pid}`);
		if (st === 'running')
			break;
		assert.notEqual(st, 'failed', 'the project failed to initialise');
		assert.ok(Date.now() - t0 < 30000, `the project is not running after 30 s (${st})`);
		await L.sleep(200);
	}
	assert.equal(Number(L.sqlOne(`SELECT COUNT(*) FROM items WHERE project_id = ${pid}`)), files.length,
		'the project does not have an item per photo');

	// The dataset page says where the images are.
	await page.goto(`/datasets/${ds.id}`);
	const dsPage = await page.textContent('main');
	assert.ok(dsPage.includes(store) && dsPage.includes(folder), `the dataset page does not show ${store} and ${folder}`);

	// One item labeled with the keys.
	await page.goto(`/projects/${pid}/label`);
	const info = await L.formInfo(page);
	assert.ok(info && info.item > 0, `no labeling form: ${await page.textContent('main')}`);
	const img = await page.evaluate(() => {
		const i = document.querySelector('.label-image img');
		return i ? i.complete && i.naturalWidth : -1;
	});
	assert.ok(img > 0, 'the image from Azurite did not load');
	await page.keyboard.press('2');
	await L.navigate(page, () => page.keyboard.press('Enter'));
	const a = L.annotation(info.item);
	assert.equal(a.email, ADMIN()[0]);
	const dog = Number(L.sqlOne(`SELECT id FROM labels WHERE project_id = ${pid} AND name = 'dog'`));
	assert.deepEqual(a.data, { label: dog }, `the answer ${a.text} is not dog (${dog})`);
	await L.screenshot(page, 'upload-walk-labeled');
	assert.deepEqual(page.problems, []);
	await page.context().close();
}

async function teardown() {
	if (B && B.browser)
		await B.browser.close();
	B = null;
}

module.exports = {
	tests: [upload_js_retry, upload_nojs, upload_walk_azurite],
	teardown,
};
