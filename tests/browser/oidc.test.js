// oidc.test.js: signing in through OpenID Connect (issue 15) in Chromium,
// as a person does it: on labeld's sign-in page "Sign in with Test ID",
// then the test provider's own pages (tests/oidc/provider.mjs: its sign-in
// form, any password, then its consent page), and back in labeld signed in
// as dave, who the admin had invited (bound by his verified email).
'use strict';

const L = require('./lib');
const { assert } = L;

let B = null;

async function oidc_sign_in_test_id() {
	B = await L.launch();
	const idp = L.env('LABELD_TEST_OIDC_URL');
	const email = 'dave@example.com';
	// Dave invited afresh (no password, no identity), as the People page
	// leaves an invited person.
	L.sql(`DELETE FROM users WHERE email = ${L.q(email)};
		INSERT INTO users (email, display_name, password_hash, invited_by)
		  SELECT ${L.q(email)}, 'Dave', '', id FROM users WHERE email = ${L.q(L.env('LABELD_TEST_ADMIN_EMAIL'))};`);
	const uid = L.sqlOne(`SELECT id FROM users WHERE email = ${L.q(email)}`);

	const page = await L.newPage(B.browser);
	await page.goto('/login');
	const button = page.getByRole('button', { name: 'Sign in with Test ID' });
	assert.equal(await button.count(), 1, 'no "Sign in with Test ID" button on /login');
	// The form posts to labeld, whose 303 leads to the provider: the sign-in
	// page's Content-Security-Policy form-action must allow that origin
	// (Chromium checks a form's redirects against it).
	await L.navigate(page, () => button.click()).catch((e) => {
		throw new Error(`the button did not lead to the provider (${e.message.split('\n')[0]}): ${page.problems.join('; ')}`);
	});
	assert.ok(page.url().startsWith(idp + '/'), `not at the provider after the button: ${page.url()}`);
	await L.screenshot(page, 'oidc-provider-login');

	// The provider's sign-in form: the login name is the account.
	await page.fill('input[name=login]', 'dave');
	await page.fill('input[name=password]', 'any password');
	await L.navigate(page, () => page.click('button[type=submit]'));
	// Its consent page (the scopes labeld asks for), then back to labeld.
	assert.ok(page.url().startsWith(idp + '/'), `not at the provider's consent page: ${page.url()}`);
	await Promise.all([
		page.waitForURL((u) => !String(u).startsWith(idp + '/'), { waitUntil: 'load' }),
		page.click('button[type=submit]'),
	]);
	const back = new URL(page.url());
	assert.equal(back.origin, new URL(L.env('LABELD_TEST_URL')).origin, `not back in labeld: ${page.url()}`);
	assert.notEqual(back.pathname, '/login', 'back on the sign-in page');
	assert.notEqual(back.pathname, '/signin/oidc/callback', 'stuck on the callback');

	// Signed in as dave: the account page is his; the binding is in MariaDB.
	page.problems = [];
	const acct = await page.goto('/account');
	assert.equal(acct.status(), 200, `/account: ${acct.status()}`);
	assert.ok((await page.textContent('body')).includes(email), 'the account page is not dave\'s');
	assert.equal(L.sqlOne(`SELECT CONCAT_WS('|', provider, subject) FROM user_identities WHERE user_id = ${uid}`),
		'test|dave', 'dave is not bound to the test provider');
	assert.equal(L.sqlOne(`SELECT activated_at IS NOT NULL FROM users WHERE id = ${uid}`), '1', 'dave not activated');
	await page.goto('/projects');
	await L.screenshot(page, 'oidc-signed-in');
	assert.deepEqual(page.problems, [], 'labeld\'s pages had errors');
}

async function teardown() {
	if (B && B.browser)
		await B.browser.close();
	B = null;
}

module.exports = { tests: [oidc_sign_in_test_id], teardown };
