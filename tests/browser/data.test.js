// data.test.js: the Data tab and an item's page in Chromium (issue 14): an
// admin labels three photos, selects two on the Data tab (with
// JavaScript: "All on this page" ticks every box) and rejects them with a
// reason; without JavaScript "All on this page" approves the rest; the
// item page shows the image with its history.  Screenshots of both pages.
'use strict';

const L = require('./lib');
const { assert } = L;

let B = null;

// Click sel, wait for the page it leads to; its status must be want.
async function go(page, sel, want = 200) {
	const resp = await L.navigate(page, () => page.click(sel));
	assert.equal(resp.status(), want, `${sel} on ${page.url()}: ${resp.status()}, want ${want}`);
}

async function data_tab_select_reject_approve() {
	B = await L.launch();
	const project = await L.makeProject('multiclass', ['cat', 'dog']);
	const admin = await L.newPage(B.browser);
	await L.signIn(admin, L.env('LABELD_TEST_ADMIN_EMAIL'), L.env('LABELD_TEST_ADMIN_PASSWORD'));

	// Three answers through the labeling page.
	for (let k = 0; k < 3; k++) {
		await admin.goto(`/projects/${project.id}/label`);
		await admin.check(`#labelform input[name=label][value="${project.labelIds[k % 2]}"]`);
		await go(admin, '#submit-button');
	}

	// The grid: three answers waiting, each image loaded (lazily, the
	// original scaled by the browser).
	const tab = `/projects/${project.id}/data`;
	await admin.goto(`${tab}?state=labeled`);
	await admin.waitForLoadState('networkidle');
	const cards = admin.locator('#datagrid li');
	assert.equal(await cards.count(), 3, 'three answers on the Data tab');
	const loaded = await admin.$$eval('#datagrid img', (v) => v.map((i) => i.complete && i.naturalWidth > 0));
	assert.deepEqual(loaded, [true, true, true], 'images of the grid not loaded');

	// "All on this page" ticks every box; unticking one unticks it.
	await admin.check('#select-all');
	assert.equal(await admin.locator('#datagrid input[name=item]:checked').count(), 3, 'all ticked');
	await admin.uncheck('#datagrid li:nth-child(3) input[name=item]');
	assert.equal(await admin.isChecked('#select-all'), false, '"All on this page" stays ticked');
	await admin.fill('#reason', 'Both <wrong>: it is a dog');
	await L.screenshot(admin, 'data-tab');
	await go(admin, '#reviewform button[value=reject]');
	assert.equal((await admin.textContent('.flash.ok')).trim(),
		'2 answers rejected: the items are back in the queue.');
	assert.equal(await cards.count(), 1, 'one answer left waiting');
	assert.equal(L.sqlOne(`SELECT COUNT(*) FROM items WHERE project_id = ${project.id} AND phase = 'requeued'`), '2');

	// The item page of a rejected one: its history with the reason.
	await admin.goto(`${tab}?state=requeued`);
	await go(admin, '#datagrid li:first-child a.thumb');
	await admin.waitForLoadState('networkidle');
	assert.equal(await admin.getAttribute('#item-phase', 'data-phase'), 'requeued');
	assert.equal((await admin.textContent('#history tr[data-kind=rejected] .reason')).trim(),
		'Both <wrong>: it is a dog');
	assert.ok(await admin.$eval('.item-figure img', (i) => i.complete && i.naturalWidth > 0), 'no image');
	await L.screenshot(admin, 'item-page');
	assert.deepEqual(admin.problems, [], 'problems on the pages');

	// Without JavaScript: "All on this page" is a form field of its own.
	const nojs = await L.newPage(B.browser, { js: false });
	await L.signIn(nojs, L.env('LABELD_TEST_ADMIN_EMAIL'), L.env('LABELD_TEST_ADMIN_PASSWORD'));
	await nojs.goto(`${tab}?state=labeled`);
	await nojs.check('#select-all');
	assert.equal(await nojs.locator('#datagrid input[name=item]:checked').count(), 0, 'boxes ticked without JS');
	await go(nojs, '#reviewform button[value=approve]');
	assert.equal((await nojs.textContent('.flash.ok')).trim(), '1 answer approved.');
	assert.equal(L.sqlOne(`SELECT COUNT(*) FROM items WHERE project_id = ${project.id} AND phase = 'approved'`), '1');
	assert.deepEqual(nojs.problems, [], 'problems on the pages without JavaScript');
}

async function teardown() {
	if (B && B.browser)
		await B.browser.close();
}

module.exports = { tests: [data_tab_select_reject_approve], teardown };
