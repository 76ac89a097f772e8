// people.test.js: issue 13's walk in Chromium, every step through labeld's
// own pages as people click them: an admin adds a person (People), the
// person opens the invitation link, sets a password and is signed in; the
// admin makes a team, puts the person in it and assigns it to a project
// (Teams, the project's Team tab); the person labels an item; the admin
// removes them from the team; the project is gone from their list and its
// pages answer 404.
'use strict';

const L = require('./lib');
const { assert } = L;

const ADMIN = () => [L.env('LABELD_TEST_ADMIN_EMAIL'), L.env('LABELD_TEST_ADMIN_PASSWORD')];

let B = null;

// Submit the form that holds selector sel (a button) and wait for the
// page it leads to; its status must be want.
async function submit(page, sel, want = 200) {
	const resp = await L.navigate(page, () => page.click(sel));
	assert.equal(resp.status(), want, `${sel} on ${page.url()}: ${resp.status()}, want ${want}`);
	return resp;
}

async function people_invite_label_remove() {
	B = await L.launch();
	const s = Date.now().toString(36);
	const email = `invited-${s}@example.com`;
	const password = `walk-${s}-password`;
	const project = await L.makeProject('multiclass', ['cat', 'dog']);
	const admin = await L.newPage(B.browser);
	await L.signIn(admin, ...ADMIN());

	// People: Add person shows the one-time link and a mail link.
	await admin.goto('/admin/people');
	await admin.fill('#person-add #email', email);
	await admin.fill('#person-add #name', `Invited ${s}`);
	await admin.check('#person-add input[name=role][value=labeler]');
	await submit(admin, '#person-add button[type=submit]');
	const link = await admin.inputValue('#invite-link');
	assert.match(link, /\/invite\/[A-Za-z0-9_-]{43}$/, `invitation link ${link}`);
	const mailto = await admin.getAttribute('#invite-mailto', 'href');
	assert.ok(mailto.startsWith('mailto:') && decodeURIComponent(mailto).includes(email) &&
		decodeURIComponent(mailto).includes(new URL(link, 'http://x').pathname),
		`the mail link does not carry the address and the link: ${mailto}`);
	assert.match((await admin.textContent('#status')).trim(), /^invited$/i);
	// Add answers with the person's page itself (the link is shown once).
	const personPath = `/admin/people/${L.sqlOne(`SELECT id FROM users WHERE email = ${L.q(email)}`)}`;

	// The invited person: no password signs them in yet; the link does.
	const person = await L.newPage(B.browser);
	await person.goto(new URL(link, 'http://x').pathname);
	await person.fill('#invite #password', password);
	await person.fill('#invite #password2', password);
	await submit(person, '#invite button[type=submit]');
	assert.equal(new URL(person.url()).pathname, '/projects', 'not taken to the projects after setting a password');
	assert.equal(await person.locator(`a[href="/projects/${project.id}"]`).count(), 0,
		'the project is listed before any team of theirs serves it');

	// Teams: a new team with the person in it, assigned on the Team tab.
	const team = `Walk team ${s}`;
	await admin.goto('/admin/teams');
	await admin.fill('#teamform #name', team);
	await submit(admin, '#teamform button[type=submit]');
	assert.match(new URL(admin.url()).pathname, /^\/admin\/teams\/\d+$/, `after Add team: ${admin.url()}`);
	const teamPath = new URL(admin.url()).pathname;
	await admin.goto(`${teamPath}?q=${encodeURIComponent(email)}`);
	await admin.check(`#assignform input[name=user][aria-label$="${email}"]`);
	await submit(admin, '#assignform button[type=submit]');
	assert.equal(await admin.locator(`#removeform input[name=user][aria-label$="${email}"]`).count(), 1,
		'the person is not among the members');
	await admin.goto(`/projects/${project.id}/team`);
	await admin.selectOption('#assignteamform #team', { label: team });
	await submit(admin, '#assignteamform button[type=submit]');
	assert.equal(await admin.locator('#project-teams .team', { hasText: team }).count(), 1,
		'the team is not on the Team tab');

	// The person sees the project now and labels an item (without JavaScript
	// as with: the radio and the button).
	await person.goto('/projects');
	assert.equal(await person.locator(`a[href="/projects/${project.id}"]`).count(), 1, 'the project is not listed');
	const resp = await person.goto(`/projects/${project.id}/label`);
	assert.equal(resp.status(), 200, `GET the labeling page: ${resp.status()}`);
	const info = await L.formInfo(person);
	assert.ok(info && info.item > 0, 'no labeling form');
	await person.check(`#labelform input[name=label][value="${project.labels.dog}"]`);
	await submit(person, '#submit-button');
	const ann = L.annotation(info.item);
	assert.equal(ann.email, email, 'the answer is not the invited person\'s');
	assert.deepEqual(ann.data, { label: project.labels.dog }, ann.text);
	// They hold the next item now.
	const held = Number(L.sqlOne(`SELECT COUNT(*) FROM items i JOIN users u ON u.id = i.lease_user
		WHERE i.project_id = ${project.id} AND u.email = ${L.q(email)}`));
	assert.equal(held, 1, 'the person holds no lease after answering');

	// Removed from the team: gone at their next request, the lease returned.
	await admin.goto(teamPath);
	await admin.check(`#removeform input[name=user][aria-label$="${email}"]`);
	await submit(admin, '#removeform button[type=submit]');
	await person.goto('/projects');
	assert.equal(await person.locator(`a[href="/projects/${project.id}"]`).count(), 0,
		'the project is still listed after the removal');
	const gone = await person.goto(`/projects/${project.id}`);
	assert.equal(gone.status(), 404, `the project page after the removal: ${gone.status()}`);
	for (const p of [`/projects/${project.id}`, `/projects/${project.id}/label`,
		`/projects/${project.id}/exports`, `/projects/${project.id}/items/${info.item}/image`]) {
		// Asked of labeld, not of the browser's cache (an image seen
		// before may be kept there).
		const r = await person.request.get(p);
		assert.equal(r.status(), 404, `GET ${p} after the removal: ${r.status()}`);
	}
	const still = Number(L.sqlOne(`SELECT COUNT(*) FROM items i JOIN users u ON u.id = i.lease_user
		WHERE i.project_id = ${project.id} AND u.email = ${L.q(email)}`));
	assert.equal(still, 0, 'the lease was not returned');
	// Their answer stays theirs.
	assert.equal(L.annotation(info.item).email, email);
	await admin.goto(personPath);
	assert.match((await admin.textContent('#status')).trim(), /^active$/i);
	assert.deepEqual(admin.problems, [], 'the admin\'s pages had errors');
	await L.screenshot(admin, 'people-person');
}

async function teardown() {
	if (B && B.browser)
		await B.browser.close();
	B = null;
}

module.exports = { tests: [people_invite_label_remove], teardown };
