// review.test.js: the review queue in Chromium (issue 14): a labeler of a
// box project answers five sample photos; an admin reviews three with the
// keyboard (A approves, R then a reason then Enter rejects, S skips) and
// one with JavaScript off, clicking the buttons, then marks the labeler
// reviewer on the team's page and takes it back.  Every change is checked
// in the database; screenshots of the pages in screenshots/.
'use strict';

const L = require('./lib');
const { assert } = L;

const ADMIN = () => [L.env('LABELD_TEST_ADMIN_EMAIL'), L.env('LABELD_TEST_ADMIN_PASSWORD')];

let B = null;
let P = null;            // the project
const answered = [];     // the items the labeler answered, in order

// What the review page shows: the item in the form's action and its token
// (null when there is no form).
async function reviewInfo(page) {
	return page.evaluate(() => {
		const f = document.getElementById('reviewform');
		if (!f)
			return null;
		const m = f.getAttribute('action').match(/\/projects\/(\d+)\/review\/(\d+)$/);
		return { project: Number(m[1]), item: Number(m[2]),
			token: f.querySelector('input[name=token]').value };
	});
}

async function openReview(page) {
	const resp = await page.goto(`/projects/${P.id}/review`);
	assert.equal(resp.status(), 200, `GET /projects/${P.id}/review: ${resp.status()}`);
	const info = await reviewInfo(page);
	assert.ok(info, `no review form: ${await page.textContent('main')}`);
	assert.equal(info.project, P.id);
	assert.match(info.token, /^[A-Za-z0-9_-]{43}$/, 'review token');
	return info;
}

function phase(item) {
	return L.sqlOne(`SELECT phase FROM items WHERE id = ${item}`);
}

function noProblems(page) {
	assert.deepEqual(page.problems, [], `problems on ${page.url()}`);
}

// A box project of the sample photos; a labeler of its team (made here)
// answers five of them, one box each, through the labeling form.
async function review_answers() {
	B = await L.launch();
	P = await L.makeProject('bbox', ['person', 'animal']);
	const s = Date.now().toString(36);
	const email = `review-labeler-${s}@example.com`;
	L.sql(`INSERT INTO users (email, display_name, password_hash, activated_at)
		  SELECT ${L.q(email)}, 'Lena Labeler', password_hash, NOW(6) FROM users
		  WHERE email = ${L.q(L.env('LABELD_TEST_USER_EMAIL'))};
		SET @u = LAST_INSERT_ID();
		INSERT INTO teams (name, project_id) VALUES (${L.q('Review team ' + s)}, ${P.id});
		SET @t = LAST_INSERT_ID();
		INSERT INTO project_teams (project_id, team_id) VALUES (${P.id}, @t);
		INSERT INTO team_members (team_id, user_id) VALUES (@t, @u);`);
	const page = await L.newPage(B.browser);
	await L.signIn(page, email, L.env('LABELD_TEST_USER_PASSWORD'));
	for (let i = 0; i < 5; i++) {
		await page.goto(`/projects/${P.id}/label`);
		const info = await L.formInfo(page);
		assert.ok(info, 'no labeling form');
		const csrf = await page.inputValue('#labelform input[name=csrf]');
		const box = [Math.round(info.width / 5), Math.round(info.height / 4), Math.round(info.width / 2),
			Math.round(info.height / 2), P.labelIds[i % 2]].join(',');
		const resp = await page.request.post(`/projects/${P.id}/items/${info.item}`,
			{ form: { csrf, lease: info.lease, box, action: 'submit' } });
		assert.ok(resp.ok(), `answer of item ${info.item}: ${resp.status()}`);
		assert.equal(L.annotation(info.item).data.boxes.length, 1, `item ${info.item} has no box`);
		answered.push(info.item);
	}
	noProblems(page);
	await page.context().close();
}

// A approves, R puts the cursor in the reason and Enter rejects, S skips.
async function review_keys() {
	const page = await L.newPage(B.browser);
	await L.signIn(page, ...ADMIN());
	let info = await openReview(page);
	assert.ok(await page.evaluate(() => document.documentElement.classList.contains('js')), 'no js class');
	assert.equal(info.item, answered[0], 'the oldest answer first');
	assert.equal(await page.locator('svg.review-boxes rect').count(), 1, 'the answer\'s box is not drawn');
	assert.equal((await page.textContent('svg.review-boxes text')).trim(), 'person');
	assert.match(await page.textContent('#answered-by'), /Lena Labeler/);
	await L.screenshot(page, 'review-js');

	// A: approve.
	let item = info.item;
	await L.navigate(page, () => page.keyboard.press('a'));
	assert.equal(phase(item), 'approved', `A did not approve item ${item}`);

	// R, a reason, Enter: reject.
	info = await reviewInfo(page);
	assert.ok(info && info.item === answered[1], `after A the page shows ${info && info.item}`);
	item = info.item;
	await page.keyboard.press('r');
	assert.equal(await page.evaluate(() => document.activeElement.id), 'reason', 'R did not focus the reason');
	await page.keyboard.type('The box misses the head');
	await L.navigate(page, () => page.keyboard.press('Enter'));
	assert.equal(phase(item), 'requeued', `R + Enter did not reject item ${item}`);
	assert.equal(L.sqlOne(`SELECT reason FROM item_events WHERE item_id = ${item} AND kind = 'rejected'`),
		'The box misses the head');

	// S: skip.
	info = await reviewInfo(page);
	assert.ok(info && info.item === answered[2], `after R the page shows ${info && info.item}`);
	item = info.item;
	await L.navigate(page, () => page.keyboard.press('s'));
	assert.equal(phase(item), 'labeled', `S changed item ${item}`);
	assert.equal(L.sqlOne(`SELECT COUNT(*) FROM review_skips WHERE item_id = ${item}`), '1', 'S did not skip');
	info = await reviewInfo(page);
	assert.ok(info && info.item === answered[3], `after S the page shows ${info && info.item}`);
	noProblems(page);
	await page.context().close();
}

// Without JavaScript: the same form, the buttons clicked.
async function review_nojs() {
	const page = await L.newPage(B.browser, { js: false });
	await L.signIn(page, ...ADMIN());
	let info = await openReview(page);
	assert.equal(info.item, answered[3], 'the page without JavaScript shows another item');
	assert.equal(await page.locator('svg.review-boxes rect').count(), 1, 'the box is not drawn without JavaScript');
	await L.screenshot(page, 'review-nojs');
	await page.fill('#reason', 'Wrong class');
	await L.navigate(page, () => page.click('#reject-button'));
	assert.equal(phase(info.item), 'requeued', `the Reject button did not reject item ${info.item}`);
	assert.equal(L.sqlOne(`SELECT reason FROM item_events WHERE item_id = ${info.item} AND kind = 'rejected'`),
		'Wrong class');
	info = await reviewInfo(page);
	assert.ok(info && info.item === answered[4], `after Reject the page shows ${info && info.item}`);
	await L.navigate(page, () => page.click('#approve-button'));
	assert.equal(phase(info.item), 'approved', `the Approve button did not approve item ${info.item}`);
	// Left: only the item skipped with S (not offered to its skipper).
	const resp = await page.goto(`/projects/${P.id}/review`);
	assert.equal(resp.status(), 200);
	assert.equal(await reviewInfo(page), null, 'an item is left after every answer was reviewed or skipped');
	assert.match(await page.textContent('main'), /Nothing left to review/);
	assert.equal(await page.locator(`a[href="/projects/${P.id}/data"]`).count(), 1, 'no link to the Data tab');
	await L.screenshot(page, 'review-empty');
	noProblems(page);
	await page.context().close();
}

// The team page: Make reviewer (a button of its own small form, inside
// the members' list) marks the labeler, Not reviewer takes it back.
async function review_team_mark() {
	const page = await L.newPage(B.browser);
	await L.signIn(page, ...ADMIN());
	const team = L.sqlOne(`SELECT team_id FROM project_teams pt JOIN teams t ON t.id = pt.team_id
		WHERE pt.project_id = ${P.id} AND t.name LIKE 'Review team %'`);
	const lena = L.sqlOne(`SELECT m.user_id FROM team_members m WHERE m.team_id = ${team}`);
	const mark = () => L.sqlOne(`SELECT reviewer FROM team_members WHERE team_id = ${team} AND user_id = ${lena}`);
	await page.goto(`/admin/teams/${team}`);
	const row = `#member-list tr[data-user-id="${lena}"]`;
	assert.equal(await page.locator(`${row} .reviewer-mark`).count(), 0, 'a labeler is marked reviewer');
	await L.navigate(page, () => page.click(`${row} td.reviewer button`));
	assert.equal(mark(), '1', 'Make reviewer did not mark the labeler');
	assert.equal(await page.locator(`${row} .reviewer-mark`).count(), 1, 'the mark is not shown');
	await L.screenshot(page, 'review-team');
	await L.navigate(page, () => page.click(`${row} td.reviewer button`));
	assert.equal(mark(), '0', 'Not reviewer did not take the mark back');
	noProblems(page);
	await page.context().close();
}

async function teardown() {
	if (B && B.browser)
		await B.browser.close();
	B = null;
}

module.exports = {
	tests: [review_answers, review_keys, review_nojs, review_team_mark],
	teardown,
};
