// dashboard.test.js: the Dashboard moves as people label (issue 14): an
// admin watches a new project's Dashboard while a labeler answers two items
// with the keyboard and skips one; the page, drawn without JavaScript, shows
// the new numbers in the bar (its segments as wide as their share), the
// class chart and today's column, with no CSP violation or error.
'use strict';

const L = require('./lib');
const { assert } = L;

const ADMIN = () => [L.env('LABELD_TEST_ADMIN_EMAIL'), L.env('LABELD_TEST_ADMIN_PASSWORD')];

let B = null;

// The count of one part of the progress table.
async function part(page, kind) {
	const t = await page.textContent(`#progress-table tr[data-kind="${kind}"] td`);
	return Number(t.replace(/\D/g, ''));
}

async function dashboard_moves() {
	B = await L.launch();
	const p = await L.makeProject('multiclass', ['cat', 'dog', 'bird']);
	const items = Number(L.sqlOne(`SELECT COUNT(*) FROM items WHERE project_id = ${p.id}`));
	const watcher = await L.newPage(B.browser, { js: false });
	const worker = await L.newPage(B.browser);
	await L.signIn(watcher, ...ADMIN());
	await L.signIn(worker, ...ADMIN());

	const path = `/projects/${p.id}/dashboard`;
	let resp = await watcher.goto(path);
	assert.equal(resp.status(), 200, `GET ${path}: ${resp.status()}`);
	assert.equal(await part(watcher, 'queued'), items);
	assert.equal((await watcher.textContent('#percent')).trim(), '0.0%');

	// Two answers with the keys, then a skip.
	resp = await worker.goto(`/projects/${p.id}/label`);
	assert.equal(resp.status(), 200);
	for (const k of ['1', '2']) {
		await worker.keyboard.press(k);
		await L.navigate(worker, () => worker.keyboard.press('Enter'));
	}
	await L.navigate(worker, () => worker.keyboard.press('s'));

	resp = await watcher.goto(path);
	assert.equal(resp.status(), 200);
	assert.equal(await part(watcher, 'labeled'), 2);
	assert.equal(await part(watcher, 'skipped') + await part(watcher, 'leased'), 1 + 1,
		'the skip and the lease the worker holds now');
	assert.equal(await part(watcher, 'total'), items);
	// The bar: the labeled segment is 2/items of its width.
	const bar = await watcher.locator('#progress-bar').boundingBox();
	const seg = await watcher.locator('#progress-bar rect[data-kind="labeled"]').boundingBox();
	assert.ok(Math.abs(seg.width - bar.width * 2 / items) < 1.5,
		`the labeled segment is ${seg.width}px of ${bar.width}px, want ${bar.width * 2 / items}`);
	// The class chart and today's column.
	const bars = await watcher.$$eval('#classes-chart rect title', (t) => t.map((e) => e.textContent));
	assert.deepEqual(bars, ['cat: 1', 'dog: 1', 'bird: 0']);
	const today = await watcher.$$eval('#days-chart rect.day title', (t) => t[t.length - 1].textContent);
	assert.match(today, /: 2$/);
	// The tables behind the charts open without JavaScript.
	await watcher.click('#days-h ~ details summary');
	assert.ok(await watcher.isVisible('#days-table'), 'the day table did not open');
	await L.screenshot(watcher, 'dashboard');
	assert.deepEqual(watcher.problems, [], 'the Dashboard had errors');
	assert.deepEqual(worker.problems, [], 'the labeling pages had errors');
}

async function teardown() {
	if (B && B.browser)
		await B.browser.close();
	B = null;
}

module.exports = { tests: [dashboard_moves], teardown };
