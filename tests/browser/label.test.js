// label.test.js: the labeling page in a real browser (headless chromium):
// one project of each task type made from the sample photos, labeled with
// the keyboard (and the mouse for boxes), then the same without JavaScript
// for multiclass and bbox; every answer is checked in the database.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const L = require('./lib');
const { assert } = L;

const ADMIN = () => [L.env('LABELD_TEST_ADMIN_EMAIL'), L.env('LABELD_TEST_ADMIN_PASSWORD')];
const P = {};          // task -> project made by browser_projects_running
let B = null;          // { browser, profile }
const WEIGHT_MAX = 20480;
const heaviest = {};   // "mode, JS on|off" -> the heaviest labeling page seen

function project(task) {
	assert.ok(P[task], `no ${task} project (browser_projects_running failed)`);
	return P[task];
}

// A signed-in page (JS on unless js === false), with every request's URL
// kept in page.requests and the size of every stylesheet and script as
// the browser received it (decoded) in page.sizes (URL -> promise).
async function labeler(js = true) {
	const page = await L.newPage(B.browser, { js });
	page.js = js;
	page.requests = [];
	page.sizes = new Map();
	page.on('request', (r) => page.requests.push(new URL(r.url()).pathname));
	page.on('response', (r) => {
		const t = r.request().resourceType();
		if ((t === 'stylesheet' || t === 'script') && !page.sizes.has(r.url()))
			page.sizes.set(r.url(), r.body().then((b) => b.length, () => -1));
	});
	await L.signIn(page, ...ADMIN());
	return page;
}

// The labeling page's weight: its HTML (resp) and every stylesheet and
// script it links, as the browser received them (without JavaScript the
// browser loads no script: the test fetches it, as a browser with
// JavaScript would); at most WEIGHT_MAX bytes.  The heaviest page of each
// mode goes to label-weight.txt.
async function checkWeight(page, resp, mode) {
	const html = (await resp.body()).length;
	const links = await page.$$eval('link[rel=stylesheet][href], script[src]',
		(l) => l.map((e) => [e.href || e.src, e.tagName === 'SCRIPT']));
	const parts = [`HTML ${html}`];
	let total = html;
	for (const [u, script] of links) {
		if (!page.js && script && !page.sizes.has(u))
			page.sizes.set(u, page.request.get(u).then((r) => (r.ok() ? r.body() : '')).then((b) => b.length));
		const n = await page.sizes.get(u);
		assert.ok(n > 0, `${page.url()} links ${u}, which the browser did not receive`);
		parts.push(`${new URL(u).pathname} ${n}`);
		total += n;
	}
	const what = `${mode}, JS ${page.js ? 'on' : 'off'}`;
	assert.ok(total <= WEIGHT_MAX, `${what}: ${page.url()} weighs ${total} bytes (${parts.join(' + ')}), more than ${WEIGHT_MAX}`);
	if (!heaviest[what] || heaviest[what].total < total)
		heaviest[what] = { total, parts, url: new URL(page.url()).pathname };
}

// Open the labeling page of project p; checks the form, its mode and the
// page's weight.
async function openLabel(page, p, mode) {
	const resp = await page.goto(`/projects/${p.id}/label`);
	assert.equal(resp.status(), 200, `GET /projects/${p.id}/label: ${resp.status()}`);
	const info = await L.formInfo(page);
	assert.ok(info, 'no #labelform on the labeling page');
	assert.equal(info.project, p.id);
	assert.equal(info.mode, mode);
	assert.match(info.lease, /^[A-Za-z0-9_-]{43}$/, 'lease token');
	await checkWeight(page, resp, mode);
	return info;
}

// Submit or skip with a key or a click and wait for the next page; checks
// the status (and the weight of a labeling page) and returns the next
// page's form (null when there is none).
async function send(page, action, wantStatus = 200) {
	const resp = await L.navigate(page, action);
	assert.equal(resp.status(), wantStatus, `answer page status ${resp.status()}, want ${wantStatus} (${page.url()})`);
	const info = await L.formInfo(page);
	if (info)
		await checkWeight(page, resp, info.mode);
	return info;
}

async function checkedValues(page) {
	return page.$$eval('#labelform input[name=label]:checked', (l) => l.map((i) => Number(i.value)));
}

async function flashText(page) {
	return page.$$eval('.flash', (l) => l.map((e) => e.textContent.trim()).join(' | '));
}

// The state the tests leave: the admin's answers are checked per item.
function checkLabeler(ann) {
	assert.equal(ann.email, L.env('LABELD_TEST_ADMIN_EMAIL'), 'annotation labeler');
}

function noProblems(page) {
	assert.deepEqual(page.problems, [], 'console errors / page errors (CSP?)');
}

// The prefetch hint of the page names an image the browser loaded.
function checkPrefetch(page, info) {
	if (info.prefetch)
		assert.ok(page.requests.includes(info.prefetch), `prefetch ${info.prefetch} was not requested`);
}

async function checkSkipped(p, item) {
	assert.equal(L.annotationCount(item), 0, `skipped item ${item} has an annotation`);
	const n = Number(L.sqlOne(`SELECT COUNT(*) FROM item_skips s JOIN users u ON u.id = s.user_id
		WHERE s.item_id = ${item} AND s.project_id = ${p.id} AND u.email = ${L.q(ADMIN()[0])}`));
	assert.equal(n, 1, `item ${item}: no item_skips row`);
}

// ------------------------------------------------------------------ tests

async function browser_start() {
	B = await L.launch();
	const page = await L.newPage(B.browser);
	await L.signIn(page, ...ADMIN());
	assert.equal(new URL(page.url()).pathname, '/projects');
	noProblems(page);
	await page.context().close();
}

async function browser_projects_running() {
	P.multiclass = await L.makeProject('multiclass', ['cat', 'dog', 'bird', 'fish', 'horse']);
	P.multilabel = await L.makeProject('multilabel', ['sky', 'water', 'person', 'animal', 'plant']);
	P.bbox = await L.makeProject('bbox', ['person', 'animal', 'vehicle', 'object']);
	for (const p of Object.values(P))
		assert.equal(p.items, 8, `${p.task}: ${p.items} items, want the 8 sample photos`);
}

// Keys 1-9 choose, Enter submits, S skips.
async function browser_multiclass_keys() {
	const p = project('multiclass'), L5 = p.labelIds;
	const page = await labeler();
	let info = await openLabel(page, p, 'choose');
	assert.ok(await page.evaluate(() => document.documentElement.classList.contains('js')), 'no js class');
	assert.equal(await page.locator('#labelform input[type=radio][data-key]').count(), 5);
	assert.equal(await page.locator('#editor-labels kbd').count(), 5, 'the keys 1-5 are not shown');
	checkPrefetch(page, info);
	const keys = [['3', '2'], ['5'], ['1']], done = [];
	for (let i = 0; i < keys.length; i++) {
		for (const k of keys[i])
			await page.keyboard.press(k);
		const want = L5[Number(keys[i][keys[i].length - 1]) - 1];
		assert.deepEqual(await checkedValues(page), [want], `item ${info.item}: checked radios`);
		if (i === 0)
			await L.screenshot(page, 'multiclass-js');
		const before = info.item;
		info = await send(page, () => page.keyboard.press('Enter'));
		assert.ok(info && info.item !== before, 'Enter did not lead to the next item');
		done.push([before, want]);
	}
	assert.match(await page.textContent('.label-top'), /You labeled\s*3\s*today/);
	const skipped = info.item;
	info = await send(page, () => page.keyboard.press('s'));
	assert.ok(info && info.item !== skipped, 'S did not lead to another item');
	await checkSkipped(p, skipped);
	for (const [item, label] of done) {
		const a = L.annotation(item);
		checkLabeler(a);
		L.assertKeys(a.data, ['label'], `item ${item}`);
		assert.deepEqual(a.data, { label }, `item ${item}: ${a.text}`);
	}
	noProblems(page);
	await page.context().close();
}

// Keys toggle, the answer is the sorted set; Enter with nothing chosen is
// refused with the plugin's sentence and nothing stored.
async function browser_multilabel_keys() {
	const p = project('multilabel'), ids = p.labelIds;
	const page = await labeler();
	let info = await openLabel(page, p, 'toggle');
	const rounds = [
		{ keys: ['1', '3', '3', '4'], want: [ids[0], ids[3]] },
		{ keys: ['5', '2'], want: [ids[1], ids[4]] },
		{ keys: ['2'], want: [ids[1]], emptyFirst: true },
	];
	const done = [];
	for (let i = 0; i < rounds.length; i++) {
		const r = rounds[i], item = info.item;
		if (r.emptyFirst) {
			info = await send(page, () => page.keyboard.press('Enter'), 422);
			assert.equal(info.item, item, 'a refused answer must show the same item');
			assert.match(await flashText(page), /Choose at least one label/);
			assert.ok(await page.isVisible('.flash.error'), 'the refusal is not shown');
			assert.equal(L.annotationCount(item), 0);
		}
		for (const k of r.keys)
			await page.keyboard.press(k);
		if (r.emptyFirst)
			assert.ok(await page.isHidden('.flash.error'),
				'the refusal stays on screen after a label was chosen');
		assert.deepEqual((await checkedValues(page)).sort((a, b) => a - b), r.want, `item ${item}: checked boxes`);
		if (i === 0)
			await L.screenshot(page, 'multilabel-js');
		info = await send(page, () => page.keyboard.press('Enter'));
		assert.ok(info && info.item !== item, 'Enter did not lead to the next item');
		done.push([item, r.want]);
	}
	for (const [item, labels] of done) {
		const a = L.annotation(item);
		checkLabeler(a);
		L.assertKeys(a.data, ['labels'], `item ${item}`);
		assert.deepEqual(a.data, { labels }, `item ${item}: ${a.text}`);
	}
	noProblems(page);
	await page.context().close();
}

// The image element of the bbox stage, scrolled into view: its box on the
// screen and the image's natural size.
async function stage(page) {
	const img = page.locator('#bbox-stage input[type=image], #bbox-stage img').first();
	await img.scrollIntoViewIfNeeded();
	const bb = await img.boundingBox();
	const W = Number(await page.getAttribute('#bbox-stage', 'data-width'));
	const H = Number(await page.getAttribute('#bbox-stage', 'data-height'));
	assert.ok(bb && W > 0 && H > 0, 'no #bbox-stage image');
	return { bb, W, H };
}

// Drag on the stage from natural pixel (x0,y0) to (x1,y1) (the screen
// points are whole CSS pixels; the end may lie outside the image).
// Returns the box labeld.js should store, computed from the screen points
// exactly as a person's drag is converted: displayed -> natural pixels,
// kept inside the image.
async function drag(page, st, x0, y0, x1, y1) {
	const sx = st.bb.width / st.W, sy = st.bb.height / st.H;
	const a = [Math.round(st.bb.x + x0 * sx), Math.round(st.bb.y + y0 * sy)];
	const b = [Math.round(st.bb.x + x1 * sx), Math.round(st.bb.y + y1 * sy)];
	await page.mouse.move(a[0], a[1]);
	await page.mouse.down();
	await page.mouse.move((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, { steps: 3 });
	await page.mouse.move(b[0], b[1], { steps: 3 });
	await page.mouse.up();
	const nat = (p) => [Math.max(0, Math.min(st.W, (p[0] - st.bb.x) / sx)),
		Math.max(0, Math.min(st.H, (p[1] - st.bb.y) / sy))];
	const [na, nb] = [nat(a), nat(b)];
	return { x: Math.min(na[0], nb[0]), y: Math.min(na[1], nb[1]),
		w: Math.abs(nb[0] - na[0]), h: Math.abs(nb[1] - na[1]) };
}

async function click(page, st, x, y) {
	await page.mouse.click(Math.round(st.bb.x + x * st.bb.width / st.W),
		Math.round(st.bb.y + y * st.bb.height / st.H));
}

async function boxInputs(page) {
	return page.$$eval('#bbox-boxes input[name=box]', (l) => l.map((i) => i.value));
}

// One stored box against the drawn one: exactly the keys label, x, y, w,
// h; the label; each coordinate within a pixel.
function checkBox(got, want, what) {
	L.assertKeys(got, ['label', 'x', 'y', 'w', 'h'], what);
	assert.equal(got.label, want.label, `${what}: label`);
	for (const k of ['x', 'y', 'w', 'h']) {
		assert.equal(typeof got[k], 'number', `${what}.${k}`);
		assert.ok(Math.abs(got[k] - want[k]) <= 1, `${what}.${k} = ${got[k]}, drawn ${want[k].toFixed(2)}`);
	}
}

// Boxes with the mouse; 1-9 set the class of the next / selected box; a
// click selects; Delete removes; Z undoes; Enter submits; S skips.
async function browser_bbox_draw() {
	const p = project('bbox'), ids = p.labelIds;
	const page = await labeler();
	let info = await openLabel(page, p, 'boxes');
	checkPrefetch(page, info);

	// Nothing drawn: refused with the plugin's sentence.
	let item = info.item;
	info = await send(page, () => page.keyboard.press('Enter'), 422);
	assert.equal(info.item, item);
	assert.match(await flashText(page), /Draw at least one box/);
	assert.ok(await page.isVisible('.flash.error'), 'the refusal is not shown');
	await L.screenshot(page, 'bbox-js-refused');

	let st = await stage(page);
	await page.keyboard.press('2');
	assert.deepEqual(await checkedValues(page), [ids[1]]);
	const A = await drag(page, st, 20, 20, 120, 100);
	// A box drawn: the refusal no longer applies and is hidden.
	assert.ok(await page.isHidden('.flash.error'), 'the refusal stays on screen after a box was drawn');
	const B2 = await drag(page, st, 150, 40, 260, 160);
	await page.keyboard.press('3');                  // B is selected: B becomes class 3
	await click(page, st, 70, 60);                   // select A
	await page.keyboard.press('1');                  // A becomes class 1
	await drag(page, st, 30, 150, 90, 220);          // C (class 1) ...
	assert.equal((await boxInputs(page)).length, 3);
	await page.keyboard.press('Delete');             // ... removed
	await drag(page, st, 200, 200, 300, 260);        // D ...
	assert.equal((await boxInputs(page)).length, 3);
	await page.keyboard.press('z');                  // ... undone
	const inputs = await boxInputs(page);
	assert.equal(inputs.length, 2, `box inputs ${JSON.stringify(inputs)}`);
	assert.equal(await page.locator('#bbox-overlay rect').count(), 2, 'rectangles drawn');
	// Captions: the class names, as the page without JavaScript draws them.
	assert.deepEqual(await page.$$eval('#bbox-overlay text', (l) => l.map((t) => t.textContent)),
		['person', 'vehicle'], 'box captions');
	await L.screenshot(page, 'bbox-js');
	info = await send(page, () => page.keyboard.press('Enter'));
	assert.ok(info && info.item !== item, 'Enter did not lead to the next item');
	let a = L.annotation(item);
	checkLabeler(a);
	L.assertKeys(a.data, ['boxes', 'no_objects'], `item ${item}`);
	assert.equal(a.data.no_objects, false);
	assert.equal(a.data.boxes.length, 2, `item ${item}: ${a.text}`);
	checkBox(a.data.boxes[0], { label: ids[0], ...A }, 'box A');
	checkBox(a.data.boxes[1], { label: ids[2], ...B2 }, 'box B');

	// A drag that ends outside the image is kept inside it.
	item = info.item;
	st = await stage(page);
	await page.keyboard.press('4');
	const C = await drag(page, st, st.W - 60, 10, st.W + 30, 80);
	assert.ok(Math.abs(C.x + C.w - st.W) < 1e-6, 'the test drag did not reach past the edge');
	info = await send(page, () => page.keyboard.press('Enter'));
	a = L.annotation(item);
	assert.equal(a.data.boxes.length, 1, a.text);
	checkBox(a.data.boxes[0], { label: ids[3], ...C }, 'edge box');
	assert.ok(a.data.boxes[0].x + a.data.boxes[0].w <= st.W + 1e-6, `edge box outside the image: ${a.text}`);

	item = info.item;
	info = await send(page, () => page.keyboard.press('S'));
	assert.ok(info && info.item !== item);
	await checkSkipped(p, item);
	noProblems(page);
	await page.context().close();
}

// Without JavaScript: radio buttons and the Submit button.
async function browser_nojs_multiclass() {
	const p = project('multiclass'), ids = p.labelIds;
	const page = await labeler(false);
	let info = await openLabel(page, p, 'choose');
	assert.ok(!(await page.evaluate(() => document.documentElement.className.includes('js'))), 'js class without JS');
	const item = info.item;
	info = await send(page, () => page.click('#submit-button'), 422);
	assert.equal(info.item, item);
	assert.match(await flashText(page), /Choose a label/);
	await page.check(`#labelform input[name=label][value="${ids[3]}"]`);
	await L.screenshot(page, 'multiclass-nojs');
	info = await send(page, () => page.click('#submit-button'));
	assert.ok(info && info.item !== item);
	const a = L.annotation(item);
	checkLabeler(a);
	assert.deepEqual(a.data, { label: ids[3] }, a.text);
	noProblems(page);
	await page.context().close();
}

// Without JavaScript: choose the class, click one corner then the opposite
// one on <input type="image">, remove a box, Submit; then "no objects".
async function browser_nojs_bbox() {
	const p = project('bbox'), ids = p.labelIds;
	const page = await labeler(false);
	let info = await openLabel(page, p, 'boxes');
	const item = info.item;
	const pt = async (x, y) => {
		info = await send(page, () => page.click('#bbox-stage input[name=pt]', { position: { x, y } }));
		assert.equal(info.item, item, 'a corner click must show the same item');
	};
	// At 100 % a clicked CSS pixel is an image pixel (browser_bbox_big_nojs
	// clicks at other zooms).
	info = await send(page, () => page.click('button[name=zoomto][value="100"]'));
	assert.equal(info.item, item, 'a zoom must show the same item');
	const bb = await page.locator('#bbox-stage input[name=pt]').boundingBox();
	assert.ok(Math.abs(bb.width - info.width) < 0.5, `the image is shown at ${bb.width} px at 100 %, not its natural ${info.width}`);

	await page.check(`#labelform input[name=label][value="${ids[1]}"]`);
	await pt(20, 30);
	assert.equal(await page.inputValue('input[name=corner]'), '20,30,1,1');
	assert.match(await page.textContent('.bbox-hint'), /opposite corner/);
	await L.screenshot(page, 'bbox-nojs-corner');
	await pt(120, 90);
	await page.check(`#labelform input[name=label][value="${ids[3]}"]`);
	await pt(260, 150);
	await pt(200, 40);
	await pt(10, 200);
	await pt(50, 260);
	assert.equal((await boxInputs(page)).length, 3);
	assert.equal(await page.locator('#bbox-overlay rect').count(), 3);
	info = await send(page, () => page.click('#bbox-list button[name=remove][value="2"]'));
	assert.equal(info.item, item);
	assert.equal((await boxInputs(page)).length, 2);
	await L.screenshot(page, 'bbox-nojs');
	info = await send(page, () => page.click('#submit-button'));
	assert.ok(info && info.item !== item);
	let a = L.annotation(item);
	checkLabeler(a);
	// Both clicked pixels belong to the box: w = |x1 - x0| + 1.
	assert.deepEqual(a.data, {
		boxes: [{ label: ids[1], x: 20, y: 30, w: 101, h: 61 }, { label: ids[3], x: 200, y: 40, w: 61, h: 111 }],
		no_objects: false,
	}, a.text);

	const next = info.item;
	await page.check('#labelform input[name=noobjects]');
	info = await send(page, () => page.click('#submit-button'));
	assert.ok(info && info.item !== next);
	a = L.annotation(next);
	assert.deepEqual(a.data, { boxes: [], no_objects: true }, a.text);
	noProblems(page);
	await page.context().close();
}

// ------------------------------------------------------------------ large photos

const VIEW = { width: 1280, height: 900 };

// A 4000 x 3000 photo as cameras take, a few KB as PNG: a light ground, a
// blue frame 24 px wide, grey grid lines every 250 px and a red 40 x 40
// square at 2500,1800 (a small object to zoom in on).
function bigPhoto() {
	const W = 4000, H = 3000, row = (kind) => {
		const r = Buffer.alloc(W * 3);
		for (let x = 0; x < W; x++) {
			let c = [235, 238, 242];
			if (kind === 'grid' || x % 250 < 6)
				c = [150, 160, 175];
			if (kind === 'red' && x >= 2500 && x < 2540)
				c = [220, 30, 30];
			if (kind === 'frame' || x < 24 || x >= W - 24)
				c = [31, 95, 191];
			r.set(c, x * 3);
		}
		return r;
	};
	const rows = { frame: row('frame'), grid: row('grid'), red: row('red'), plain: row('plain') };
	return L.png(W, H, (y) => (y < 24 || y >= H - 24 ? rows.frame : y % 250 < 6 ? rows.grid :
		y >= 1800 && y < 1840 ? rows.red : rows.plain));
}

async function browser_bbox_big_projects() {
	const big = bigPhoto();
	P.big = await L.makeProject('bbox', ['person', 'animal'],
		{ 'photo-1.png': big, 'photo-2.png': big, 'photo-3.png': big });
	P.small = await L.makeProject('bbox', ['person'],
		{ 'small.png': L.png(100, 75, () => Buffer.alloc(300, 200)) });
	assert.equal(P.big.items, 3);
	assert.equal(P.small.items, 1);
}

// The element's box on the screen, which must lie inside the window (the
// page not scrolled).
async function onScreen(page, sel, what) {
	const bb = await page.locator(sel).first().boundingBox();
	assert.equal(await page.evaluate(() => window.scrollY), 0, 'the page is scrolled');
	assert.ok(bb && bb.x >= 0 && bb.y >= 0 && bb.x + bb.width <= VIEW.width + 0.01 &&
		bb.y + bb.height <= VIEW.height + 0.01, `${what} is not inside the window: ${JSON.stringify(bb)}`);
	return bb;
}

// The whole image (aspect kept), the class list and Submit are on screen.
async function checkFits(page, info) {
	const img = await onScreen(page, '#bbox-stage input[name=pt]', 'the image');
	await onScreen(page, '#editor-labels', 'the class list');
	await onScreen(page, '#submit-button', 'Submit');
	assert.ok(Math.abs(img.width / img.height - info.width / info.height) < 0.01,
		`the image is shown at ${img.width} x ${img.height}`);
	const sc = await page.$eval('.bbox-scroll', (b) => [b.scrollWidth - b.clientWidth, b.scrollHeight - b.clientHeight]);
	assert.deepEqual(sc, [0, 0], 'the image scrolls in fit mode');
	return img;
}

// The 100 x 75 image is fitted at twice its size, no more; closes the page.
async function checkSmall(page) {
	const info = await openLabel(page, project('small'), 'boxes');
	const img = await checkFits(page, info);
	assert.deepEqual([img.width, img.height], [200, 150], 'the small image');
	noProblems(page);
	await page.context().close();
}

// The stored box is about x,y,w,h (within tol image pixels).
function near(got, want, tol, what) {
	for (const k of ['x', 'y', 'w', 'h'])
		assert.ok(Math.abs(got[k] - want[k]) <= tol, `${what}.${k} = ${got[k]}, want ${want[k]} (within ${tol})`);
}

// The image point (natural pixels) under screen point (sx, sy), and the
// screen point of image point (x, y).
// (Read where the image is now: stage() would scroll it into view.)
async function shown(page) {
	return {
		bb: await page.locator('#bbox-stage input[name=pt]').boundingBox(),
		W: Number(await page.getAttribute('#bbox-stage', 'data-width')),
		H: Number(await page.getAttribute('#bbox-stage', 'data-height')),
	};
}
async function imagePoint(page, sx, sy) {
	const st = await shown(page);
	return { x: (sx - st.bb.x) * st.W / st.bb.width, y: (sy - st.bb.y) * st.H / st.bb.height };
}
async function screenPoint(page, x, y) {
	const st = await shown(page);
	return [st.bb.x + x * st.bb.width / st.W, st.bb.y + y * st.bb.height / st.H];
}

// With JavaScript: a 4000 x 3000 photo fits beside the class list; a drag
// from corner to corner is the whole image; zoomed in with + and scrolled,
// a box lands under the mouse; 0 fits again.  A small image is shown at
// most twice its size.
async function browser_bbox_big_js() {
	const p = project('big'), ids = p.labelIds;
	const page = await labeler();
	let info = await openLabel(page, p, 'boxes');
	const item = info.item;
	assert.deepEqual([info.width, info.height], [4000, 3000]);
	const img = await checkFits(page, info);
	assert.ok(img.width >= 800, `the fitted image is only ${img.width} px wide`);
	await L.screenshot(page, 'bbox-big-js-fit');

	// Mouse positions are whole CSS pixels: from the first one inside the
	// image to the first one past its bottom-right corner; "about" is
	// within one CSS pixel (4000 / the shown width, in image pixels).
	const px1 = Math.ceil(4000 / img.width);
	await page.keyboard.press('1');
	await page.mouse.move(Math.ceil(img.x), Math.ceil(img.y));
	await page.mouse.down();
	await page.mouse.move(img.x + img.width / 2, img.y + img.height / 2, { steps: 4 });
	await page.mouse.move(Math.ceil(img.x + img.width), Math.ceil(img.y + img.height), { steps: 4 });
	await page.mouse.up();
	let boxes = await boxInputs(page);
	assert.equal(boxes.length, 1, `box inputs ${JSON.stringify(boxes)}`);

	// Zoom in on the red square with the mouse over it: + twice is 100 %.
	const mx = img.x + 2520 * img.width / 4000, my = img.y + 1820 * img.height / 3000;
	await page.mouse.move(mx, my);
	const under = await imagePoint(page, mx, my);
	await page.keyboard.press('+');
	await page.keyboard.press('+');
	assert.equal(await page.$eval('#bbox-stage input[name=pt]', (e) => e.width), 4000, 'not at 100 % after + +');
	assert.equal(await page.getAttribute('button[name=zoomto][value="100"]', 'aria-pressed'), 'true');
	const still = await imagePoint(page, mx, my);
	near({ x: still.x, y: still.y, w: 0, h: 0 }, { x: under.x, y: under.y, w: 0, h: 0 }, 2,
		'the point under the mouse while zooming');
	const view = await onScreen(page, '.bbox-scroll', 'the scroll box');
	// Scroll with the wheel, then draw around the square.
	const scrolled = await page.$eval('.bbox-scroll', (e) => e.scrollLeft);
	await page.mouse.wheel(60, 40);
	await page.waitForFunction((x) => document.querySelector('.bbox-scroll').scrollLeft !== x, scrolled);
	const a = (await screenPoint(page, 2490, 1790)).map(Math.round);
	const b = (await screenPoint(page, 2550, 1850)).map(Math.round);
	for (const q of [a, b])
		assert.ok(q[0] > view.x && q[0] < view.x + view.width && q[1] > view.y && q[1] < view.y + view.height,
			`the square is not in view after zooming at it: ${q}, ${JSON.stringify(view)}`);
	const pa = await imagePoint(page, ...a), pb = await imagePoint(page, ...b);
	await page.mouse.move(...a);
	await page.mouse.down();
	await page.mouse.move(...b, { steps: 5 });
	await page.mouse.up();
	// The rectangle drawn is where the mouse went.
	const r = await page.locator('#bbox-overlay rect.sel').boundingBox();
	near({ x: r.x, y: r.y, w: r.width, h: r.height },
		{ x: a[0], y: a[1], w: b[0] - a[0], h: b[1] - a[1] }, 2, 'the rectangle on the screen (its stroke: 1 px each side)');
	await L.screenshot(page, 'bbox-big-js-zoom');
	await page.keyboard.press('-');
	assert.equal(await page.$eval('#bbox-stage input[name=pt]', (e) => e.width), 2000, 'not at 50 % after -');
	await page.keyboard.press('0');
	assert.equal(await page.getAttribute('button[name=zoomto][value="fit"]', 'aria-pressed'), 'true');
	await checkFits(page, info);

	info = await send(page, () => page.keyboard.press('Enter'));
	assert.ok(info && info.item !== item, 'Enter did not lead to the next item');
	const ann = L.annotation(item);
	assert.equal(ann.data.boxes.length, 2, ann.text);
	assert.equal(ann.data.boxes[0].label, ids[0]);
	near(ann.data.boxes[0], { x: 0, y: 0, w: 4000, h: 3000 }, px1, 'corner to corner');
	assert.ok(ann.data.boxes[0].x + ann.data.boxes[0].w <= 4000 && ann.data.boxes[0].y + ann.data.boxes[0].h <= 3000, ann.text);
	checkBox(ann.data.boxes[1], { label: ids[0], x: pa.x, y: pa.y, w: pb.x - pa.x, h: pb.y - pa.y }, 'zoomed box');
	noProblems(page);
	await checkSmall(page);
}

// Without JavaScript: the server shows the photo at 800 x 600 and maps
// clicks back; corner to corner is the whole image; at 200 % (a zoom
// button) a box lands on the pixels clicked; the small image at 2x.
async function browser_bbox_big_nojs() {
	const p = project('big'), ids = p.labelIds;
	const page = await labeler(false);
	let info = await openLabel(page, p, 'boxes');
	const item = info.item;
	assert.deepEqual([info.width, info.height], [4000, 3000]);
	const img = await checkFits(page, info);
	assert.deepEqual([img.width, img.height], [800, 600], 'the no-JS fit size');
	await L.screenshot(page, 'bbox-big-nojs-fit');
	const click = async (what) => {
		info = await send(page, what);
		assert.equal(info.item, item, 'a click must show the same item');
	};
	await page.check(`#labelform input[name=label][value="${ids[1]}"]`);
	await click(() => page.click('#bbox-stage input[name=pt]', { position: { x: 0, y: 0 } }));
	assert.equal(await page.inputValue('input[name=corner]'), '0,0,5,5');
	await click(() => page.click('#bbox-stage input[name=pt]', { position: { x: 799, y: 599 } }));
	assert.deepEqual(await boxInputs(page), [`0,0,4000,3000,${ids[1]}`]);

	// 200 %: the image scrolls in its box; two clicks, scrolled the same.
	await click(() => page.click('button[name=zoomto][value="200"]'));
	assert.equal(await page.getAttribute('#bbox-stage input[name=pt]', 'width'), '8000');
	assert.equal(await page.inputValue('input[name=zoom]'), '200');
	const view = await onScreen(page, '.bbox-scroll', 'the scroll box');
	// Click on the screen where image pixel (x, y) is shown now; returns the
	// image pixel under the clicked CSS pixel.
	const at = async (x, y) => {
		const bb = await page.locator('#bbox-stage input[name=pt]').boundingBox();
		const sx = Math.round(bb.x + 2 * x + 0.5), sy = Math.round(bb.y + 2 * y + 0.5);
		assert.ok(sx > view.x && sx < view.x + view.width && sy > view.y && sy < view.y + view.height,
			`image pixel ${x},${y} is not in view (${sx},${sy})`);
		await click(() => page.mouse.click(sx, sy));
		return [Math.floor((sx - bb.x) / 2), Math.floor((sy - bb.y) / 2)];
	};
	// Around the red square (2500,1800 to 2540,1840), scrolled to it.
	await page.$eval('.bbox-scroll', (b) => { b.scrollLeft = 4900; b.scrollTop = 3500; });
	const c0 = await at(2490, 1790);
	assert.deepEqual(c0, [2490, 1790], 'the image pixel under the first click');
	assert.equal(await page.inputValue('input[name=corner]'), `${c0[0]},${c0[1]},1,1`);
	// The page after the click shows the first corner again (#bbox-at).
	assert.match(new URL(page.url()).hash, /^#bbox-at$/);
	const dot = await page.locator('#bbox-overlay circle').boundingBox();
	assert.ok(dot.x > view.x && dot.x + dot.width < view.x + view.width &&
		dot.y > view.y && dot.y + dot.height < view.y + view.height,
		`the first corner is not in view after the click: ${JSON.stringify(dot)}`);
	await L.screenshot(page, 'bbox-big-nojs-zoom');
	const c1 = await at(2550, 1850);
	assert.deepEqual(c1, [2550, 1850], 'the image pixel under the second click');
	const want = `${c0[0]},${c0[1]},${c1[0] - c0[0] + 1},${c1[1] - c0[1] + 1},${ids[1]}`;
	assert.deepEqual(await boxInputs(page), [`0,0,4000,3000,${ids[1]}`, want]);
	await L.screenshot(page, 'bbox-big-nojs-zoom-box');
	await click(() => page.click('button[name=zoomto][value="fit"]'));
	await checkFits(page, info);
	await L.screenshot(page, 'bbox-big-nojs');

	info = await send(page, () => page.click('#submit-button'));
	assert.ok(info && info.item !== item);
	const ann = L.annotation(item);
	assert.deepEqual(ann.data, { boxes: [
		{ label: ids[1], x: 0, y: 0, w: 4000, h: 3000 },
		{ label: ids[1], x: c0[0], y: c0[1], w: c1[0] - c0[0] + 1, h: c1[1] - c0[1] + 1 },
	], no_objects: false }, ann.text);

	await checkSmall(page);
}

async function teardown() {
	if (B && B.browser)
		await B.browser.close();
	B = null;
	const lines = Object.entries(heaviest).map(([what, w]) =>
		`${what}: ${w.total} bytes (${w.parts.join(' + ')}) ${w.url}\n`);
	if (lines.length)
		fs.writeFileSync(path.join(L.OUT, 'label-weight.txt'), lines.join(''));
}

module.exports = {
	tests: [browser_start, browser_projects_running, browser_multiclass_keys, browser_multilabel_keys,
		browser_bbox_draw, browser_nojs_multiclass, browser_nojs_bbox, browser_bbox_big_projects,
		browser_bbox_big_js, browser_bbox_big_nojs],
	teardown,
};
