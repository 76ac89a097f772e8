// mine.test.js: a labeler's own answers in Chromium (docs/review.md): label
// two images with the keys, press Z (Back) to reopen the second answer in
// the editor, change it with the keys, and find the change in My answers;
// the history keeps both answers.
'use strict';

const L = require('./lib');
const { assert } = L;

const ADMIN = () => [L.env('LABELD_TEST_ADMIN_EMAIL'), L.env('LABELD_TEST_ADMIN_PASSWORD')];

let B = null;

async function mine_back_change_list() {
	B = await L.launch();
	const project = await L.makeProject('multiclass', ['cat', 'dog']);
	const page = await L.newPage(B.browser);
	await L.signIn(page, ...ADMIN());
	const base = `/projects/${project.id}`;

	// No answer yet: Back has nothing to go back to.
	await page.goto(`${base}/back`);
	assert.equal(new URL(page.url()).pathname, `${base}/back`);
	assert.match(await page.textContent('main h1'), /Nothing to go back to/);
	await L.screenshot(page, 'mine-nothing');

	// Two answers with the keys: cat, then dog.
	await page.goto(`${base}/label`);
	const first = await L.formInfo(page);
	await page.keyboard.press('1');
	await L.navigate(page, () => page.keyboard.press('Enter'));
	const second = await L.formInfo(page);
	assert.notEqual(second.item, first.item, 'the same image twice');
	await page.keyboard.press('2');
	await L.navigate(page, () => page.keyboard.press('Enter'));
	assert.deepEqual(L.annotation(second.item).data, { label: project.labels.dog });

	// Z: Back to the editor of the second answer, prefilled with dog.
	await L.navigate(page, () => page.keyboard.press('z'));
	const aid = L.sqlOne(`SELECT id FROM annotations WHERE item_id = ${second.item} AND is_current = 1`);
	assert.equal(new URL(page.url()).pathname, `${base}/mine/${aid}`, `Z led to ${page.url()}`);
	assert.equal(await page.isChecked(`#labelform input[name=label][value="${project.labels.dog}"]`), true,
		'the editor does not show the answer (dog)');
	await L.screenshot(page, 'mine-edit');

	// Change it with the keys: 1 (cat), Enter; back on the labeling page.
	await page.keyboard.press('1');
	await L.navigate(page, () => page.keyboard.press('Enter'));
	assert.equal(new URL(page.url()).pathname, `${base}/label`, `after the change: ${page.url()}`);
	assert.match(await page.textContent('main'), /Your answer was changed\./);
	assert.deepEqual(L.annotation(second.item).data, { label: project.labels.cat });
	assert.equal(L.annotationCount(second.item), 2, 'the history does not keep both answers');
	assert.equal(L.sqlOne(`SELECT relabel FROM annotations WHERE item_id = ${second.item} AND is_current = 1`), '1');

	// My answers: the changed answer first, then the first one's.
	await page.goto(`${base}/mine`);
	const rows = await page.$$eval('table.mine tbody tr', (trs) => trs.map((tr) => ({
		classes: tr.querySelector('.classes').textContent.trim(),
		status: tr.querySelector('.badge').textContent.trim(),
		change: !!tr.querySelector('a.button'),
	})));
	assert.deepEqual(rows.slice(0, 3), [
		{ classes: 'cat', status: 'Can be changed', change: true },
		{ classes: 'dog', status: 'Replaced', change: false },
		{ classes: 'cat', status: 'Can be changed', change: true },
	], `My answers: ${JSON.stringify(rows)}`);
	// The thumbnails load (the labeler's own images).
	await page.waitForFunction(() => [...document.querySelectorAll('table.mine img')]
		.every((i) => i.complete && i.naturalWidth > 0));
	await L.screenshot(page, 'mine-list');
	assert.deepEqual(page.problems, [], 'the pages had errors');
}

async function teardown() {
	if (B && B.browser)
		await B.browser.close();
	B = null;
}

module.exports = { tests: [mine_back_change_list], teardown };
