// walk.test.js: issue 14's whole walk in Chromium, as a project owner and
// two labelers would do it.  Two people label a multi-class project of the
// sample photos with the keys; the admin's Dashboard follows them; the admin
// reviews with the keyboard (two rejections with a reason, one approval);
// the rejected images come back to a labeler, who sees the reason and
// labels them again; the item's page then shows the whole history.  Every
// step is checked against the database, and the counters against a recount.
'use strict';

const L = require('./lib');
const { assert } = L;

const ADMIN = () => [L.env('LABELD_TEST_ADMIN_EMAIL'), L.env('LABELD_TEST_ADMIN_PASSWORD')];

let B = null;
let P = null;
const people = [];           // { email, name }
const answered = [];         // items answered in the first round, in order
const rejected = [];         // the two the review sent back

// The count of one part of the Dashboard's progress table.
async function part(page, kind) {
	const t = await page.textContent(`#progress-table tr[data-kind="${kind}"] td`);
	return Number(t.replace(/\D/g, ''));
}

async function dashboard(page) {
	const resp = await page.goto(`/projects/${P.id}/dashboard`);
	assert.equal(resp.status(), 200, `the Dashboard answered ${resp.status()}`);
}

// The project's counters equal a recount of its rows.
function countersExact() {
	const got = L.sqlOne(`SELECT CONCAT_WS(' ', items_labeled, items_skipped, items_requeued,
		items_approved, rejections) FROM project_counters WHERE project_id = ${P.id}`);
	const want = L.sqlOne(`SELECT CONCAT_WS(' ', SUM(phase IN ('labeled', 'approved')),
		SUM(phase = 'skipped'), SUM(phase = 'requeued'), SUM(phase = 'approved'),
		(SELECT COUNT(*) FROM item_events WHERE project_id = ${P.id} AND kind = 'rejected'))
		FROM items WHERE project_id = ${P.id}`);
	assert.equal(got, want, 'the counters differ from a recount (labeled skipped requeued approved rejections)');
}

// A labeler answers n items with the keys (class 1 or 2, then Enter).
async function labelWithKeys(page, n, key) {
	for (let i = 0; i < n; i++) {
		await page.goto(`/projects/${P.id}/label`);
		const info = await L.formInfo(page);
		assert.ok(info, `no labeling form: ${await page.textContent('main')}`);
		await page.keyboard.press(key);
		await L.navigate(page, () => page.keyboard.press('Enter'));
		assert.ok(L.annotation(info.item), `item ${info.item} has no answer`);
		answered.push(info.item);
	}
}

async function walk_two_labelers() {
	B = await L.launch();
	P = await L.makeProject('multiclass', ['cat', 'dog']);
	const s = `${Date.now().toString(36)}-${process.pid}`;
	// A team of two labelers serves the project.
	const team = L.sqlOne(`INSERT INTO teams (name) VALUES (${L.q('Walk team ' + s)});
		SELECT LAST_INSERT_ID();`);
	L.sql(`INSERT INTO project_teams (project_id, team_id) VALUES (${P.id}, ${team})`);
	for (const who of ['Ada', 'Bo']) {
		const email = `walk-${who.toLowerCase()}-${s}@example.com`;
		L.sql(`INSERT INTO users (email, display_name, password_hash, activated_at)
			  SELECT ${L.q(email)}, ${L.q(who + ' Walker')}, password_hash, NOW(6) FROM users
			  WHERE email = ${L.q(L.env('LABELD_TEST_USER_EMAIL'))};
			INSERT INTO team_members (team_id, user_id) VALUES (${team}, LAST_INSERT_ID());`);
		people.push({ email, name: who + ' Walker' });
	}
	const admin = await L.newPage(B.browser, { js: false });
	await L.signIn(admin, ...ADMIN());
	await dashboard(admin);
	assert.equal(await part(admin, 'labeled'), 0);

	const pages = [];
	for (const p of people) {
		const page = await L.newPage(B.browser);
		await L.signIn(page, p.email, L.env('LABELD_TEST_USER_PASSWORD'));
		pages.push(page);
	}
	await labelWithKeys(pages[0], 2, '1');
	await dashboard(admin);
	assert.equal(await part(admin, 'labeled'), 2, 'the Dashboard did not move after two answers');
	await labelWithKeys(pages[1], 2, '2');
	await dashboard(admin);
	assert.equal(await part(admin, 'labeled'), 4, 'the Dashboard did not move after four answers');
	const table = await admin.textContent('main');
	for (const p of people)
		assert.ok(table.includes(p.name), `${p.name} is not in the labelers' table`);
	countersExact();
	for (const page of pages) {
		assert.deepEqual(page.problems, []);
		await page.context().close();
	}
	await L.screenshot(admin, 'walk-dashboard-answers');
	await admin.context().close();
}

async function walk_review_keys() {
	const page = await L.newPage(B.browser);
	await L.signIn(page, ...ADMIN());
	const item = async () => page.evaluate(() => {
		const f = document.getElementById('reviewform');
		const m = f && f.getAttribute('action').match(/\/review\/(\d+)$/);
		return m ? Number(m[1]) : null;
	});
	let resp = await page.goto(`/projects/${P.id}/review`);
	assert.equal(resp.status(), 200);
	// Two rejections with a reason, then an approval.
	for (const reason of ['Not a cat: the <b>dog</b> is', 'Blurred; take another look']) {
		const it = await item();
		assert.ok(answered.includes(it), `the review offers item ${it}, not an answered one`);
		await page.keyboard.press('r');
		await page.keyboard.type(reason);
		await L.navigate(page, () => page.keyboard.press('Enter'));
		assert.equal(L.sqlOne(`SELECT phase FROM items WHERE id = ${it}`), 'requeued');
		rejected.push({ item: it, reason });
	}
	const ok = await item();
	await L.navigate(page, () => page.keyboard.press('a'));
	assert.equal(L.sqlOne(`SELECT phase FROM items WHERE id = ${ok}`), 'approved');
	assert.deepEqual(page.problems, []);

	const admin = await L.newPage(B.browser, { js: false });
	await L.signIn(admin, ...ADMIN());
	await dashboard(admin);
	assert.equal(await part(admin, 'requeued'), 2, 'the Dashboard does not show the two rejected');
	assert.equal(await part(admin, 'approved'), 1);
	assert.equal((await admin.textContent('#rejections')).trim(), '2');
	countersExact();
	await page.context().close();
	await admin.context().close();
}

// The rejected images come back; the labeler sees why and labels them
// again.  She first gets the image she held since her last answer, and
// skips it: the rejected ones are next in the queue (free, lowest ids).
async function walk_label_again() {
	const page = await L.newPage(B.browser);
	await L.signIn(page, people[0].email, L.env('LABELD_TEST_USER_PASSWORD'));
	const seen = [];
	for (let i = 0; i < 4 && seen.length < 2; i++) {
		await page.goto(`/projects/${P.id}/label`);
		const info = await L.formInfo(page);
		assert.ok(info, `no labeling form: ${await page.textContent('main')}`);
		const r = rejected.find((x) => x.item === info.item);
		if (!r) {
			assert.equal(seen.length, 0, `item ${info.item} came between the rejected ones`);
			assert.ok(!(await page.textContent('main')).includes('sent back'),
				`item ${info.item} says it was sent back`);
			await L.navigate(page, () => page.keyboard.press('s'));
			continue;
		}
		const text = await page.textContent('main');
		assert.ok(text.includes(r.reason), `the reason of item ${info.item} is not shown`);
		assert.equal(await page.locator('main b').count(), 0, 'the reason was not escaped');
		await page.keyboard.press('2');
		await L.navigate(page, () => page.keyboard.press('Enter'));
		assert.equal(L.sqlOne(`SELECT phase FROM items WHERE id = ${info.item}`), 'labeled');
		seen.push(info.item);
	}
	assert.deepEqual(seen.sort(), rejected.map((x) => x.item).sort(),
		'the labeler did not get both rejected images back');
	assert.deepEqual(page.problems, []);
	countersExact();
	await L.screenshot(page, 'walk-label-again');
	await page.context().close();
}

// The item's page: answered, rejected (who, why), answered again.
async function walk_history() {
	const page = await L.newPage(B.browser, { js: false });
	await L.signIn(page, ...ADMIN());
	const r = rejected[0];
	const resp = await page.goto(`/projects/${P.id}/items/${r.item}`);
	assert.equal(resp.status(), 200);
	const kinds = await page.$$eval('#history tbody tr', (rows) => rows.map((t) => t.dataset.kind));
	const text = await page.textContent('#history');
	assert.ok(kinds.filter((k) => k === 'rejected').length === 1, `history kinds: ${kinds}`);
	assert.ok(kinds.filter((k) => k === 'answered' || k === 'relabeled').length >= 2,
		`both answers are not in the history: ${kinds}`);
	assert.ok(text.includes(r.reason), 'the history does not show the reason');
	await L.screenshot(page, 'walk-history');
	await dashboard(page);
	assert.equal(await part(page, 'requeued'), 0);
	// Four answers, one approved, two rejected and answered again.
	assert.equal(await part(page, 'labeled'), 3);
	assert.equal(await part(page, 'approved'), 1);
	assert.deepEqual(page.problems, []);
	await page.context().close();
}

async function teardown() {
	if (B && B.browser)
		await B.browser.close();
	B = null;
}

module.exports = {
	tests: [walk_two_labelers, walk_review_keys, walk_label_again, walk_history],
	teardown,
};
